// Vital signs and warnings (城市体征 · 预警) in the console: every indicator of an area and its
// parts from the sensors' roll-ups, the open alerts (acknowledged by ops staff), and emergency
// mode (急时): the running emergencies over the caller's areas, declaring one and ending it.
// Everything comes from the public API, so the server's scope rules decide what shows.
import * as api from "./api.js";
import { t, when } from "./i18n.js";
import { $, el, refusalText } from "./page.js";

const LEVELS = ["blue", "yellow", "orange", "red"];
/** Area and indicator names, for codes the API answers with. */
const known = { areas: new Map(), indicators: new Map() };

/**
 * Opens the view. `areas` are the areas the caller works in (codes with names), `steers` whether
 * they run an ops centre (acknowledge, declare, end).
 */
export async function showSensing(areas, names, steers) {
  if (!areas.length) {
    // Everywhere (a system administrator): start from the cities.
    const { areas: cities } = await api.call("GET", "/api/v1/areas?level=city").catch(() => ({ areas: [] }));
    areas = cities.map((a) => a.code);
    names = new Map([...(names || new Map()), ...cities.map((a) => [a.code, a.name])]);
  }
  for (const [code, name] of names || []) known.areas.set(code, name);
  const pick = $("#vs-area");
  if (!pick.options.length) {
    pick.replaceChildren(...areas.map((code) => el("option", { value: code }, names?.get(code) || code)));
    pick.addEventListener("change", () => loadSigns());
  }
  $("#emergency-form").hidden = !steers;
  const declareArea = $("#em-area");
  if (!declareArea.options.length) {
    declareArea.replaceChildren(...areas.map((code) => el("option", { value: code }, names?.get(code) || code)));
  }
  await loadSigns();
  loadAlerts(steers);
  loadEmergencies(steers);
}

async function loadSigns() {
  const area = $("#vs-area").value;
  const body = $("#signs tbody");
  if (!area) return;
  try {
    const [{ signs }, { indicators }, { areas: parts }] = await Promise.all([
      api.call("GET", `/api/v1/vital-signs?area=${encodeURIComponent(area)}`),
      api.call("GET", `/api/v1/indicators?area=${encodeURIComponent(area)}`),
      api.call("GET", `/api/v1/areas?parent=${encodeURIComponent(area)}`).catch(() => ({ areas: [] })),
    ]);
    for (const a of parts) known.areas.set(a.code, a.name);
    const unit = new Map(indicators.map((i) => [i.code, i]));
    for (const i of indicators) known.indicators.set(i.code, i.name);
    const fmt = (v) => (v === undefined || v === null ? "—" : Number(v).toFixed(1));
    body.replaceChildren(...(signs.length ? signs.map((s) => el("tr", { "data-indicator": s.indicator, "data-area": s.area },
      el("td", {}, unit.get(s.indicator)?.name || s.indicator),
      el("td", {}, known.areas.get(s.area) || s.area),
      el("td", {}, String(s.sensors)),
      el("td", {}, String(s.readings)),
      el("td", {}, `${fmt(s.mean)} / ${fmt(s.min)} / ${fmt(s.max)} ${unit.get(s.indicator)?.unit || ""}`),
      el("td", {}, ...LEVELS.filter((l) => s.open_alerts[l] > 0)
        .map((l) => el("span", { class: `level ${l}` }, `${t(`lv_${l}`)} ${s.open_alerts[l]}`))))) 
      : [el("tr", {}, el("td", { colspan: "6", class: "muted" }, t("vs_none")))]));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "error" }, refusalText(err))));
  }
}

async function loadAlerts(steers) {
  const body = $("#alerts tbody");
  try {
    const { alerts } = await api.call("GET", "/api/v1/alerts");
    body.replaceChildren(...(alerts.length ? alerts.map((a) => el("tr", { "data-id": a.id },
      el("td", {}, el("span", { class: `level ${a.level}` }, t(`lv_${a.level}`))),
      el("td", {}, a.kind === "offline" ? t("al_offline") : known.indicators.get(a.indicator) || a.indicator),
      el("td", {}, a.sensor),
      el("td", {}, a.last_value === undefined ? "—" : `${a.last_value} (${t("al_peak")} ${a.peak_value})`),
      el("td", {}, when(a.raised_at)),
      el("td", {}, t(`al_${a.state}`)),
      el("td", {}, a.event_id ? a.event_id.slice(-8) : "—"),
      el("td", {}, steers && a.state === "raised"
        ? el("button", { type: "button", class: "acknowledge", onclick: () => acknowledge(a.id, steers) }, t("al_acknowledge"))
        : null)))
      : [el("tr", {}, el("td", { colspan: "8", class: "muted" }, t("al_none")))]));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "8", class: "error" }, refusalText(err))));
  }
}

async function acknowledge(id, steers) {
  try {
    await api.call("POST", `/api/v1/alerts/${id}/acknowledge`, {});
    $("#sensing-result").textContent = t("al_acknowledged");
  } catch (err) {
    $("#sensing-result").textContent = refusalText(err);
  }
  await loadAlerts(steers);
}

async function loadEmergencies(steers) {
  const list = $("#emergencies");
  try {
    const { emergencies } = await api.call("GET", "/api/v1/emergencies");
    const running = emergencies.filter((e) => !e.ended_at);
    document.body.classList.toggle("emergency", running.length > 0);
    list.replaceChildren(...(emergencies.length ? emergencies.map((e) => el("li", { "data-id": e.id, class: e.ended_at ? "ended" : "running" },
      el("strong", {}, e.ended_at ? t("em_ended") : t("em_running")),
      ` ${known.areas.get(e.area) || e.area} · ${e.reason} · ${t("em_until")} ${when(e.expected_end_at)} · ${t("em_shortened", e.events_shortened)}`,
      steers && !e.ended_at ? endForm(e.id, steers) : null))
      : [el("li", { class: "muted" }, t("em_none"))]));
  } catch (err) {
    list.replaceChildren(el("li", { class: "error" }, refusalText(err)));
  }
}

function endForm(id, steers) {
  const reason = el("input", { maxlength: "500", required: true, placeholder: t("em_endReason"), "aria-label": t("em_endReason") });
  const end = async () => {
    if (!reason.value.trim()) { reason.focus(); return; }
    try {
      await api.call("POST", `/api/v1/emergencies/${id}/end`, { reason: reason.value.trim() });
      $("#sensing-result").textContent = t("em_endedNow");
    } catch (err) {
      $("#sensing-result").textContent = refusalText(err);
    }
    await loadEmergencies(steers);
  };
  return el("span", { class: "end" }, reason, el("button", { type: "button", class: "end-emergency", onclick: end }, t("em_end")));
}

$("#emergency-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const hours = Number($("#em-hours").value || 12);
  const body = {
    area: $("#em-area").value,
    reason: $("#em-reason").value.trim(),
    expected_end_at: new Date(Date.now() + hours * 3600 * 1000).toISOString(),
    call_on_duty: $("#em-call").checked,
  };
  if (!window.confirm(t("em_confirm", body.area))) return;
  try {
    const e = await api.call("POST", "/api/v1/emergencies", body);
    $("#sensing-result").textContent = t("em_declared", e.events_shortened, e.people_told);
  } catch (err) {
    $("#sensing-result").textContent = refusalText(err);
  }
  await loadEmergencies(true);
});
