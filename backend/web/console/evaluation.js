// The evaluation view (考核评价): the API's scores per unit over a period as a table, a bar chart
// of the rates, and the same table as CSV. The server computes every number; this only shows it.
import * as api from "./api.js";
import { t } from "./i18n.js";
import { refusalText } from "./page.js";

const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";

// Columns in order: [field, heading key, kind: a count, a rate or a duration in seconds].
const COLUMNS = [
  ["reported", "ev_reported", "n"], ["accepted", "ev_accepted", "n"],
  ["closed", "ev_closed", "n"], ["closure_rate", "ev_closure_rate", "rate"],
  ["closed_on_time", "ev_closed_on_time", "n"], ["on_time_closure_rate", "ev_on_time_closure_rate", "rate"],
  ["reworked", "ev_reworked", "n"], ["rework_rate", "ev_rework_rate", "rate"],
  ["extended", "ev_extended", "n"], ["extension_rate", "ev_extension_rate", "rate"],
  ["dispatched", "ev_dispatched", "n"], ["returned", "ev_returned", "n"], ["return_rate", "ev_return_rate", "rate"],
  ["excused", "ev_excused", "n"], ["overdue_open", "ev_overdue_open", "n"],
  ["supervision_orders", "ev_supervision_orders", "n"], ["orders_closed", "ev_orders_closed", "n"],
  ["orders_open", "ev_orders_open", "n"],
  ["callbacks", "ev_callbacks", "n"], ["satisfied", "ev_satisfied", "n"], ["satisfaction_rate", "ev_satisfaction_rate", "rate"],
  ["avg_accept_secs", "ev_avg_accept", "secs"], ["avg_dispatch_secs", "ev_avg_dispatch", "secs"],
  ["avg_handle_secs", "ev_avg_handle", "secs"], ["avg_verify_secs", "ev_avg_verify", "secs"],
];
const CHARTED = ["closure_rate", "on_time_closure_rate", "rework_rate", "extension_rate", "return_rate", "satisfaction_rate"];
const MAX_BARS = 30;

let last = null;

/** Shanghai midnight of a yyyy-mm-dd date, as RFC 3339. */
function cityMidnight(date) { return `${date}T00:00:00+08:00`; }

function cityToday() {
  return new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });
}

function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Opens the view: the last 30 days by street unless the caller chose otherwise. */
export function showEvaluation() {
  const form = $("#eval-form");
  if (!form.from.value) {
    form.to.value = cityToday();
    form.from.value = addDays(form.to.value, -29);
  }
  run();
  listReports();
}

let reports = [];

/** The scheduler's weekly and monthly reports of the caller's areas, newest first. */
async function listReports() {
  try {
    reports = (await api.call("GET", "/api/v1/reports?limit=50")).reports;
  } catch (err) {
    reports = [];
    $("#eval-error").textContent = refusalText(err);
  }
  renderReports();
}

/** The city's calendar day an instant falls on (periods start at the city's midnight). */
function cityDay(instant) {
  return new Date(instant).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });
}

function renderReports() {
  const body = $("#reports tbody");
  if (!reports.length) {
    const td = document.createElement("td");
    td.colSpan = 4;
    td.className = "muted";
    td.textContent = t("rp_none");
    const tr = document.createElement("tr");
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(...reports.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.id = r.id;
    const last = addDays(cityDay(r.period_to), -1);
    const cells = [t(`rp_${r.kind}`), r.area_name || r.area_code, `${cityDay(r.period_from)} — ${last}`];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const files = document.createElement("td");
    for (const [label, url, ext] of [["CSV", r.csv_url, "csv"], ["XLSX", r.xlsx_url, "xlsx"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      b.textContent = label;
      b.addEventListener("click", () => save(url, `report-${r.kind}-${r.area_code}-${cityDay(r.period_from)}.${ext}`));
      files.append(b, " ");
    }
    tr.append(files);
    return tr;
  }));
}

async function save(url, name) {
  try {
    await api.download(url, name);
  } catch (err) {
    $("#eval-error").textContent = refusalText(err);
  }
}

$("#eval-form").addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
$("#eval-csv").addEventListener("click", () => download());

async function run() {
  const form = $("#eval-form");
  $("#eval-error").textContent = "";
  const by = form.by.value;
  // `to` is inclusive for people: the period ends at the next day's midnight.
  const from = cityMidnight(form.from.value);
  const to = cityMidnight(addDays(form.to.value, 1));
  try {
    const q = new URLSearchParams({ by, from, to });
    const answer = await api.call("GET", `/api/v1/evaluation?${q}`);
    last = { by, from: form.from.value, to: form.to.value, units: answer.units };
    render();
  } catch (err) {
    last = null;
    render();
    $("#eval-error").textContent = refusalText(err);
  }
}

function percent(v) { return v == null ? "—" : `${(v * 100).toFixed(1)}%`; }

function hours(secs) { return secs == null ? "—" : (secs / 3600).toFixed(1); }

function shown(kind, v) {
  if (kind === "rate") return percent(v);
  if (kind === "secs") return hours(v);
  return String(v ?? 0);
}

function unitLabel(u) { return u.name ? `${u.name} (${u.unit.length > 12 ? u.unit.slice(-8) : u.unit})` : u.unit; }

/** Redraws the table and chart (also after a language switch). */
export function render() {
  const head = $("#scores thead tr");
  head.replaceChildren(...[["unit", "ev_unit"], ...COLUMNS].map(([, key]) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t(key);
    return th;
  }));
  const body = $("#scores tbody");
  const units = last?.units || [];
  body.replaceChildren(...units.map((u) => {
    const tr = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = unitLabel(u);
    tr.append(name);
    for (const [field, , kind] of COLUMNS) {
      const td = document.createElement("td");
      td.className = "num";
      td.textContent = shown(kind, u[field]);
      tr.append(td);
    }
    return tr;
  }));
  if (last && !units.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = COLUMNS.length + 1;
    td.className = "muted";
    td.textContent = t("none");
    tr.append(td);
    body.append(tr);
  }
  $("#eval-csv").disabled = !units.length;
  chart(units);
  renderReports();
}

/** Grouped horizontal bars, one group per unit, one bar per rate, 0–100 %. */
function chart(units) {
  const box = $("#eval-bars");
  const shown = units.slice(0, MAX_BARS);
  $("#eval-chart").hidden = !shown.length;
  if (!shown.length) { box.replaceChildren(); return; }
  const label = 180, width = 720, bar = 7, gap = 10;
  const group = CHARTED.length * bar + gap;
  const height = shown.length * group + 40;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", "100%");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("evalChart"));
  const text = (x, y, s, anchor = "end") => {
    const n = document.createElementNS(SVG, "text");
    n.setAttribute("x", x); n.setAttribute("y", y); n.setAttribute("text-anchor", anchor);
    n.setAttribute("font-size", "11");
    n.textContent = s;
    return n;
  };
  const scale = (width - label - 50) / 1;
  shown.forEach((u, i) => {
    const y0 = 20 + i * group;
    svg.append(text(label - 6, y0 + (CHARTED.length * bar) / 2 + 4, unitLabel(u)));
    CHARTED.forEach((field, j) => {
      const v = u[field];
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("x", label);
      r.setAttribute("y", y0 + j * bar);
      r.setAttribute("height", bar - 1);
      r.setAttribute("width", v == null ? 0 : Math.max(1, v * scale));
      r.setAttribute("class", `bar bar-${j}`);
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = `${unitLabel(u)} · ${t(`ev_${field}`)} ${percent(v)}`;
      r.append(tip);
      svg.append(r);
    });
  });
  // The legend, and the 0 / 50 / 100 % marks.
  CHARTED.forEach((field, j) => {
    const r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", label + j * 110); r.setAttribute("y", 2); r.setAttribute("width", 10); r.setAttribute("height", 10);
    r.setAttribute("class", `bar bar-${j}`);
    svg.append(r, text(label + j * 110 + 14, 11, t(`ev_${field}`), "start"));
  });
  for (const p of [0, 0.5, 1]) svg.append(text(label + p * scale, height - 4, `${p * 100}%`, "middle"));
  box.replaceChildren(svg);
}

/** The table as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese). */
function download() {
  if (!last) return;
  const cell = (v) => {
    const s = String(v ?? "");
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const head = [t("ev_unit_code"), t("ev_unit"), ...COLUMNS.map(([, key]) => t(key))];
  const rows = last.units.map((u) => [u.unit, u.name || "", ...COLUMNS.map(([field]) => u[field] ?? "")]);
  const csv = `\ufeff${[head, ...rows].map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
  a.download = `evaluation-${last.by}-${last.from}-${last.to}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
