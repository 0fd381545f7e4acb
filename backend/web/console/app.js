// The ops console: queues of the caller's area, live; an event with its timeline, tasks and
// photos; the actions the caller may take; the map, workforce and evaluation views.
import * as api from "./api.js";
import { t, when } from "./i18n.js";
import { $, el, refusalText, session } from "./page.js";
import { showMap } from "./map.js";
import { showEvaluation, render as renderEvaluation } from "./evaluation.js";
import { showVolunteers } from "./volunteers.js";
import { showErasures } from "./privacy.js";
import { showCallbacks, callsPanel } from "./hotline.js";
import { showSensing } from "./sensing.js";

/** The roles that steer an area (the core's OPS_ROLES). */
const OPS = ["coordinator", "district_operator", "city_operator", "admin"];
/** Who sees sensors, alerts and vital signs: ops staff and grid workers. */
const WATCH = ["grid_worker", ...OPS];

const QUEUES = [
  { key: "q_reported", query: "state=reported" },
  { key: "q_dispatch", query: "state=accepted,returned" },
  { key: "q_progress", query: "state=dispatched,claimed,in_progress,rework" },
  { key: "q_verify", query: "state=resolved" },
  { key: "q_overdue", query: "overdue=true" },
  { key: "q_extension", query: "extension_requested=true" },
  { key: "q_supervised", query: "supervised=true&state=accepted,returned,dispatched,claimed,in_progress,rework,resolved,suspended" },
  { key: "q_suspended", query: "state=suspended" },
  { key: "q_closed", query: "state=closed,rejected" },
];
const PAGE = 50;
const REPORTERS = new Set(["resident", "volunteer"]);

// What each state offers an ops centre, and whether the action needs a reason. The server's
// state machine decides; a refusal is shown where the action was made.
const OFFERS = {
  reported: ["accept", "reject"],
  accepted: ["suspend", "escalate", "supervise"],
  returned: ["suspend", "escalate", "supervise"],
  dispatched: ["return", "suspend", "escalate", "supervise"],
  claimed: ["return", "suspend", "escalate", "supervise"],
  in_progress: ["return", "suspend", "escalate", "supervise"],
  rework: ["return", "suspend", "escalate", "supervise"],
  resolved: ["verify", "rework", "escalate", "supervise"],
  suspended: ["resume"],
};
const NEEDS_REASON = new Set(["excuse", "reject", "return", "rework", "suspend", "escalate", "supervise", "extend", "refuse_extension", "dispatch"]);
const OPEN_STATES = "reported,accepted,returned,dispatched,claimed,in_progress,rework,resolved,suspended";
const MERGE_NEAR_M = 1000;
const TERMINAL = new Set(["closed", "rejected"]);
const DISPATCHABLE = new Set(["accepted", "returned", "dispatched", "claimed", "in_progress", "rework"]);

const state = {
  queue: QUEUES[0], rows: [], next: null, open: null, stopStream: null, me: null, selected: new Set(),
  areaNames: new Map(),
};

// ----- session -----

session({
  titleKey: "title",
  enter: ({ user, grants }) => {
    state.me = user;
    state.grants = grants;
    // Residents and volunteers report from the report page; the console has nothing for them.
    if (grants.every((g) => REPORTERS.has(g.role))) return t("notOps");
    enterDesk();
    return null;
  },
  leave: leaveDesk,
  relabel: () => { renderTabs(); renderRows(); renderEvaluation(); if (state.open) showEvent(state.open.id); },
});

/** The catalog's names, so a queue reads 上水井盖 rather than C-01-01. */
async function loadCategories() {
  try {
    const { categories } = await api.call("GET", "/api/v1/categories");
    state.categories = categories.filter((c) => c.active);
  } catch (_) { state.categories = []; }
  state.names = new Map(state.categories.map((c) => [c.code, c.minor_name]));
  const select = $("#filters select[name=category]");
  select.replaceChildren(select.options[0], ...state.categories.map((c) => el("option", { value: c.code }, `${c.major_name} · ${c.minor_name}`)));
}

function categoryName(code) { return state.names?.get(code) || code; }

function categorySelect(selected) {
  return el("select", { name: "part-category" }, state.categories.map((c) => el("option", {
    value: c.code, selected: c.code === selected,
  }, `${c.major_name} · ${c.minor_name}`)));
}

function enterDesk() {
  $("#views").hidden = false;
  $("#views button[data-view=volunteers]").hidden = !(state.grants || []).some((g) => g.role === "coordinator" || g.role === "admin");
  $("#views button[data-view=erasures]").hidden = !(state.grants || []).some((g) => g.role === "admin");
  $("#views button[data-view=callbacks]").hidden = !(state.grants || []).some((g) => OPS.includes(g.role));
  $("#views button[data-view=sensing]").hidden = !(state.grants || []).some((g) => WATCH.includes(g.role));
  showView("desk");
  renderTabs();
  // The first page first; the category and area names fill in as they arrive.
  loadQueue(state.queue).then(() => loadAreaChoices()).then(() => renderRows());
  loadCategories().then(() => renderRows());
  state.stopStream = api.stream(onLive, (s) => {
    const badge = $("#live");
    badge.hidden = false;
    badge.textContent = t(s === "live" ? "live" : "reconnecting");
    badge.className = `badge ${s}`;
  });
}

function leaveDesk() {
  if (state.stopStream) state.stopStream();
  Object.assign(state, { rows: [], open: null, stopStream: null, me: null });
  for (const id of ["#desk", "#workforce", "#map", "#evaluation", "#volunteers", "#erasures", "#callbacks", "#sensing", "#views", "#live"]) $(id).hidden = true;
}

// ----- views -----

document.querySelectorAll("#views button").forEach((b) => b.addEventListener("click", () => showView(b.dataset.view)));

function showView(name) {
  for (const b of document.querySelectorAll("#views button")) b.setAttribute("aria-pressed", String(b.dataset.view === name));
  $("#desk").hidden = name !== "desk";
  $("#workforce").hidden = name !== "workforce";
  $("#map").hidden = name !== "map";
  $("#evaluation").hidden = name !== "evaluation";
  $("#volunteers").hidden = name !== "volunteers";
  $("#erasures").hidden = name !== "erasures";
  $("#callbacks").hidden = name !== "callbacks";
  $("#sensing").hidden = name !== "sensing";
  if (name === "callbacks") showCallbacks();
  if (name === "sensing") showSensing(watchedAreas(), state.areaNames, (state.grants || []).some((g) => OPS.includes(g.role)));
  if (name === "volunteers") showVolunteers(deciderScopes(), state.areaNames);
  if (name === "erasures") showErasures();
  if (name === "workforce") loadWorkforce();
  if (name === "evaluation") showEvaluation();
  if (name === "map") {
    showMap(opsScopes(), (id) => { showView("desk"); showEvent(id); }, state.categories || []).catch((err) => {
      console.error(err);
      $("#map-count").textContent = `${t("refused")}: ${err.message}`;
    });
  }
}

/** The areas over which the caller decides volunteer sign-ups (coordinators, administrators). */
function deciderScopes() {
  return (state.grants || []).filter((g) => g.role === "coordinator" || g.role === "admin")
    .map((g) => g.scope.area_code).filter(Boolean);
}

/** The areas whose vital signs the caller watches (none for a system administrator: the cities). */
function watchedAreas() {
  return [...new Set((state.grants || []).filter((g) => WATCH.includes(g.role)).map((g) => g.scope.area_code).filter(Boolean))];
}

/** The areas the caller steers (none: everywhere). */
function opsScopes() {
  return (state.grants || []).map((g) => g.scope.area_code).filter(Boolean);
}

/** Who works the area: on duty first, their open tasks and how long ago they were located. */
async function loadWorkforce() {
  const body = $("#workers tbody");
  try {
    const board = await api.call("GET", "/api/v1/workforce");
    body.replaceChildren(...board.workers.map((w) => el("tr", { class: w.on_duty ? "" : "muted" },
      el("td", {}, w.display_name),
      el("td", {}, t(`role_${w.role}`)),
      el("td", {}, w.area_code || ""),
      el("td", {}, w.on_duty ? t("yes") : t("no")),
      el("td", {}, String(w.open_tasks)),
      el("td", {}, w.located_at ? t("minutesAgo", Math.max(0, Math.round((Date.now() - Date.parse(w.located_at)) / 60000))) : "—"))));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "error" }, refusalText(err))));
  }
}

// ----- queues -----

function renderTabs() {
  const nav = $("#queues");
  nav.replaceChildren(...QUEUES.map((q) => el("button", {
    type: "button", role: "tab", "aria-selected": String(q === state.queue), "data-queue": q.key,
    onclick: () => { state.queue = q; state.selected.clear(); renderTabs(); loadQueue(q); },
  }, t(q.key))));
}

/** The filter bar's choices as list filters (each only narrows the caller's scope). */
function filterQuery() {
  const f = $("#filters");
  const q = new URLSearchParams();
  for (const name of ["area", "category", "grade", "source"]) if (f[name].value) q.set(name, f[name].value);
  // Dates are days in the city's time; `to` includes its day.
  if (f.from.value) q.set("from", `${f.from.value}T00:00:00+08:00`);
  if (f.to.value) q.set("to", new Date(Date.parse(`${f.to.value}T00:00:00+08:00`) + 86400000).toISOString());
  const s = q.toString();
  return s ? `&${s}` : "";
}

$("#filters").addEventListener("change", () => { state.selected.clear(); loadQueue(state.queue); });
$("#filters").addEventListener("reset", () => setTimeout(() => loadQueue(state.queue)));

/** The areas to filter by: the caller's own and two levels under them. */
async function loadAreaChoices() {
  const select = $("#filters select[name=area]");
  select.replaceChildren(select.options[0]);
  const add = (a, depth) => {
    state.areaNames.set(a.code, a.name);
    select.append(el("option", { value: a.code }, `${"\u3000".repeat(depth)}${a.name}`));
  };
  for (const code of opsScopes()) {
    try {
      const root = await api.call("GET", `/api/v1/areas/${code}`);
      add(root, 0);
      // The areas above it are named in every event's chain.
      for (let up = root.parent; up; up = (await api.call("GET", `/api/v1/areas/${up.code}`)).parent) {
        state.areaNames.set(up.code, up.name);
      }
      for (const child of root.children) {
        add(child, 1);
        const grand = await api.call("GET", `/api/v1/areas?parent=${child.code}`);
        grand.areas.forEach((g) => add(g, 2));
      }
    } catch (_) { /* an area that went away: not offered */ }
  }
}

async function loadQueue(q, cursor) {
  const page = await api.call("GET", `/api/v1/events?${q.query}${filterQuery()}&limit=${PAGE}${cursor ? `&cursor=${cursor}` : ""}`);
  if (q !== state.queue) return;
  state.rows = cursor ? state.rows.concat(page.events) : page.events;
  state.next = page.next;
  renderRows();
}

$("#more").addEventListener("click", () => loadQueue(state.queue, state.next));
$("#bulk-dispatch").addEventListener("click", () => runBulk("dispatch"));
$("#bulk-supervise").addEventListener("click", () => runBulk("supervise"));

/** An area's name where the console has it (the caller's areas, two levels down), else its code. */
function areaName(code) { return state.areaNames.get(code) || code; }

function areaOf(e) {
  const a = e.areas;
  return areaName(a.grid || a.community || a.street || a.district || a.city || "");
}

function dueClass(e) {
  if (e.overdue) return "overdue";
  if (e.warned) return "warning";
  return "";
}

function renderRows() {
  const body = $("#events tbody");
  const ids = new Set(state.rows.map((r) => r.id));
  state.selected.forEach((id) => { if (!ids.has(id)) state.selected.delete(id); });
  body.replaceChildren(...state.rows.map((e) => el("tr", {
    "data-id": e.id, class: dueClass(e), tabindex: "0",
    onclick: () => showEvent(e.id),
    onkeydown: (ev) => { if (ev.key === "Enter") showEvent(e.id); },
  },
  el("td", { onclick: (ev) => ev.stopPropagation() }, el("input", {
    type: "checkbox", "aria-label": t("select"), checked: state.selected.has(e.id),
    onchange: (ev) => { if (ev.target.checked) state.selected.add(e.id); else state.selected.delete(e.id); renderBulk(); },
  })),
  el("td", {}, when(e.created_at)),
  el("td", {}, categoryName(e.category)),
  el("td", {}, e.description),
  el("td", {}, areaOf(e)),
  el("td", {}, t(`s_${e.state}`)),
  el("td", {}, e.overdue ? t("overdue") : when(e.due_at)))));
  $("#queue-count").textContent = t("count", state.rows.length);
  $("#more").hidden = !state.next;
  renderBulk();
}

// ----- bulk actions on a queue selection -----

let bulkTargetsFor = null;
async function renderBulk() {
  const bar = $("#bulk");
  const chosen = [...state.selected];
  bar.hidden = chosen.length === 0;
  if (!chosen.length) return;
  $("#bulk-count").textContent = t("selected", chosen.length);
  // Whom to: the candidates of the first selected event (the server checks each event).
  if (bulkTargetsFor === chosen[0]) return;
  bulkTargetsFor = chosen[0];
  const select = $("#bulk-target");
  select.replaceChildren(el("option", { value: "" }, "—"));
  try {
    const c = await api.call("GET", `/api/v1/events/${chosen[0]}/candidates`);
    for (const x of c.candidates) {
      select.append(el("option", { value: x.department ? `dept:${x.department}` : x.user_id }, candidateLabel(x)));
    }
  } catch (_) { /* not dispatchable: only the other bulk actions apply */ }
}

async function runBulk(action) {
  const out = $("#bulk-result");
  out.textContent = "";
  const reason = $("#bulk-reason").value;
  const body = { action };
  if (reason) body.reason = reason;
  if (action === "dispatch") {
    const target = $("#bulk-target").value;
    if (!target) { out.textContent = t("pickSomeone"); return; }
    if (target.startsWith("dept:")) body.departments = [target.slice(5)];
    else body.assignees = [target];
  }
  try {
    const answer = await api.call("POST", "/api/v1/events/bulk", { events: [...state.selected], action: body });
    const failed = answer.results.filter((r) => !r.ok)
      .map((r) => `${r.id.slice(-8)}: ${r.error.fields && Object.values(r.error.fields)[0]?.message || r.error.message}`);
    out.textContent = [t("bulkDone", answer.done, answer.failed), ...failed].join(" · ");
    state.selected.clear();
    bulkTargetsFor = null;
    loadQueue(state.queue);
  } catch (err) {
    out.textContent = `${t("refused")}: ${err.message}`;
  }
}

function candidateLabel(x) {
  const where = x.department ? `${t("department")} ${x.department}` : t(`r_${x.rule}`);
  const far = x.distance_m == null ? "" : ` · ${Math.round(x.distance_m)} m`;
  return `${x.recommended ? "★ " : ""}${x.display_name} · ${where} · ${t("load")} ${x.load}${far}`;
}

/** A change from the stream: refresh the row (or the queue, if it may now belong there). */
let reload = null;
function onLive(view) {
  const i = state.rows.findIndex((r) => r.id === view.id);
  if (i >= 0) { state.rows[i] = view; renderRows(); }
  clearTimeout(reload);
  reload = setTimeout(() => loadQueue(state.queue), 300);
  if (state.open && state.open.id === view.id && state.open.version !== view.version) showEvent(view.id);
}

// ----- one event -----

async function showEvent(id) {
  const e = await api.call("GET", `/api/v1/events/${id}`);
  state.open = e;
  const detail = $("#detail");
  detail.hidden = false;
  // Redrawing removes the focused control; keep the keyboard in the event, not the page's top.
  const hadFocus = detail.contains(document.activeElement);
  const chain = Object.values(e.areas).filter(Boolean).map(areaName).join(" › ");
  detail.replaceChildren(...[
    el("h2", { tabindex: "-1" }, `${categoryName(e.category)} · ${t(`s_${e.state}`)}`),
    el("p", {}, e.description),
    el("p", { class: "muted" }, `${t("chain")}: ${chain}`, e.address ? ` · ${e.address}` : ""),
    el("p", { id: "grade" }, `${t("grade")}: ${t(`g_${e.grade}`)}`,
      e.suggested_grade && e.suggested_grade !== e.grade ? el("span", { class: "muted" }, ` · ${t("suggestedGrade")}: ${t(`g_${e.suggested_grade}`)}`) : null),
    e.due_at ? el("p", { class: dueClass(e) }, `${t("dueAt")} ${when(e.due_at)}${e.overdue ? ` (${t("overdue")})` : ""}`) : null,
    e.extension_requested ? extensionNote(e) : null,
    actionsPanel(e),
    e.supervision_orders.length ? ordersPanel(e) : null,
    ...(e.hotline_calls?.length ? callsPanel(e) : []),
    DISPATCHABLE.has(e.state) ? dispatchPanel(e) : null,
    e.state === "closed" || e.state === "rejected" ? null : mergePanel(e),
    e.state === "closed" || e.state === "rejected" ? null : splitPanel(e),
    el("h3", {}, t("timeline")),
    el("ol", { class: "timeline" }, e.timeline.map((s) => el("li", {},
      el("time", {}, when(s.at)), " ",
      el("strong", {}, t(`a_${s.action}`)), " ",
      s.actor ? el("span", {}, ` ${e.names[s.actor] || s.actor.slice(-8)}`) : null,
      s.role ? el("span", { class: "muted" }, ` (${t(`role_${s.role}`)})`) : null,
      s.reason ? el("div", { class: "reason" }, s.reason) : null))),
    el("h3", {}, t("tasks")),
    e.tasks.length
      ? el("ul", {}, e.tasks.map((k) => el("li", {},
        `${e.names[k.user] || k.user.slice(-8)}${k.lead ? " ★" : ""} · ${t(`t_${k.state}`)} · ${when(k.assigned_at)}`,
        k.why?.rule ? el("span", { class: "muted" }, ` · ${t("why")}: ${t(`r_${k.why.rule}`)}${k.why.problem ? ` (${k.why.problem})` : ""}`) : null)))
      : el("p", { class: "muted" }, t("none")),
    el("h3", {}, t("photos")),
    photosPanel(e.evidence),
  ].filter(Boolean));
  if (hadFocus) detail.querySelector("h2").focus();
}

/**
 * Supervision orders (督办) of the event, newest first: each with its level, due time and reply;
 * a reply to an open one, acceptance or send-back of a replied one. The server decides who may.
 */
function ordersPanel(e) {
  const orders = [...e.supervision_orders].reverse();
  return el("section", { class: "orders", "aria-label": t("ordersTitle") },
    el("h3", {}, t("ordersTitle")),
    el("ul", {}, orders.map((o) => {
      const error = el("p", { class: "error", role: "alert" });
      const text = el("textarea", { rows: "2", maxlength: "500", "aria-label": t("reason") });
      const send = (body) => orderAct(e, o, body, error);
      const controls = o.state === "open"
        ? [text, el("button", { type: "button", "data-order-action": "reply", onclick: () => send({ action: "reply", text: text.value }) }, t("o_reply"))]
        : o.state === "replied"
          ? [el("button", { type: "button", "data-order-action": "accept", onclick: () => send({ action: "accept" }) }, t("o_accept")),
            text,
            el("button", { type: "button", class: "secondary", "data-order-action": "send_back", onclick: () => send({ action: "send_back", reason: text.value }) }, t("o_send_back"))]
          : [];
      return el("li", { "data-order": o.id, class: o.overdue ? "overdue" : "" },
        el("strong", {}, `${t(`lvl_${o.level}`)} · ${t(`o_${o.state}`)}`), " ",
        el("span", {}, o.reason), " ",
        o.due_at ? el("span", { class: o.overdue ? "late" : "muted" }, `${t("dueAt")} ${when(o.due_at)}${o.overdue ? ` (${t("overdue")})` : ""}`) : null,
        o.reply ? el("div", { class: "reason" }, `${t("o_replyText")}: ${o.reply}`) : null,
        o.send_back_reason ? el("div", { class: "reason" }, `${t("o_sentBackWhy")}: ${o.send_back_reason}`) : null,
        controls.length ? el("div", { class: "order-actions" }, controls) : null,
        error);
    })));
}

async function orderAct(e, order, body, error) {
  error.textContent = "";
  try {
    await api.call("POST", `/api/v1/supervision-orders/${order.id}/actions`, body);
    await showEvent(e.id);
  } catch (err) {
    error.textContent = refusalText(err);
  }
}

/** What the handler asked: the newest request for more time on the timeline. */
function extensionNote(e) {
  const asked = [...e.timeline].reverse().find((s) => s.action === "request_extension");
  return el("p", { class: "notice", role: "note" }, `${t("extensionAsked")}: `, asked ? `${asked.reason || ""} (${when(asked.at)})` : "");
}

function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

/** Merge into another open event of the same category nearby (the duplicate is filed into it). */
function mergePanel(e) {
  const box = el("details", { class: "merge" }, el("summary", {}, t("mergeTitle")));
  const list = el("div", { role: "radiogroup", "aria-label": t("mergeInto") });
  const reason = el("input", { name: "merge-reason", maxlength: "500" });
  const error = el("p", { class: "error", role: "alert" });
  box.addEventListener("toggle", async () => {
    if (!box.open || list.dataset.loaded) return;
    list.dataset.loaded = "1";
    const page = await api.call("GET", `/api/v1/events?state=${OPEN_STATES}&category=${encodeURIComponent(e.category)}&limit=200`);
    const near = page.events.filter((x) => x.id !== e.id)
      .map((x) => ({ x, d: distanceM(e.location, x.location) }))
      .filter(({ d }) => d <= MERGE_NEAR_M).sort((a, b) => a.d - b.d).slice(0, 10);
    if (!near.length) list.append(el("p", { class: "muted" }, t("mergeNone")));
    for (const { x, d } of near) {
      list.append(el("label", { class: "candidate" }, el("input", { type: "radio", name: "merge-into", value: x.id }),
        ` ${x.description} · ${t(`s_${x.state}`)} · ${Math.round(d)} m · ${when(x.created_at)}`));
    }
  });
  box.append(list, el("label", {}, t("reason"), " ", reason), el("button", {
    type: "button", "data-action": "merge",
    onclick: () => {
      const picked = list.querySelector("input:checked");
      if (!picked) { error.textContent = t("pickEvent"); return; }
      act(e, { action: "merge", into: picked.value, reason: reason.value, version: e.version }, error);
    },
  }, t("a_merge")), error);
  return box;
}

/** Split one report that holds several problems into new events, each with its category. */
function splitPanel(e) {
  const box = el("details", { class: "split-form" }, el("summary", {}, t("splitTitle")));
  const parts = el("ol", { class: "parts" });
  const reason = el("input", { name: "split-reason", maxlength: "500" });
  const error = el("p", { class: "error", role: "alert" });
  const addPart = () => parts.append(el("li", {},
    el("label", {}, t("category"), " ", categorySelect(e.category)),
    el("label", {}, t("description"), " ", el("input", { name: "part-description", maxlength: "2000" }))));
  addPart();
  addPart();
  box.append(parts,
    el("button", { type: "button", class: "secondary", onclick: addPart }, t("addPart")),
    el("label", {}, t("reason"), " ", reason),
    el("button", {
      type: "button", "data-action": "split",
      onclick: async () => {
        error.textContent = "";
        const body = {
          reason: reason.value,
          parts: [...parts.children].map((li) => ({
            category: li.querySelector("[name=part-category]").value.trim(),
            description: li.querySelector("[name=part-description]").value,
          })),
        };
        try {
          const answer = await api.call("POST", `/api/v1/events/${e.id}/split`, body);
          error.textContent = t("splitDone", answer.events.length);
          await showEvent(e.id);
          loadQueue(state.queue);
        } catch (err) {
          error.textContent = refusalText(err);
        }
      },
    }, t("a_split")), error);
  return box;
}

function photosPanel(evidence) {
  const box = el("div", { class: "photos" });
  for (const kind of ["before", "after", "verify"]) {
    for (const p of evidence[kind]) {
      const img = el("img", { alt: `${t(kind)} ${p.id.slice(0, 8)}`, width: "120" });
      api.blobUrl(p.thumbnail_url).then((u) => { img.src = u; }).catch(() => {});
      const flags = (p.flags || []).map((f) => f.code).join(", ");
      const open = el("button", {
        type: "button", class: "thumb", "aria-label": `${t("fullPhoto")}: ${t(kind)}`, onclick: () => showPhoto(p, kind),
      }, img);
      box.append(el("figure", {}, open, el("figcaption", {}, t(kind), flags ? ` ⚠ ${flags}` : "")));
    }
  }
  return box;
}

/** The whole photo in a dialog (fetched with the token), with where and when it was taken. */
async function showPhoto(p, kind) {
  const dialog = $("#photo");
  const img = el("img", { alt: `${t(kind)} ${p.id.slice(0, 8)}` });
  const at = p.capture?.location ? ` · ${p.capture.location.lat.toFixed(5)}, ${p.capture.location.lng.toFixed(5)}` : "";
  const taken = p.capture?.taken_at ? ` · ${when(p.capture.taken_at)}` : "";
  dialog.replaceChildren(img, el("p", {}, `${t(kind)} · ${p.width}×${p.height}${taken}${at}`),
    el("form", { method: "dialog" }, el("button", { type: "submit" }, t("close"))));
  dialog.showModal();
  try { img.src = await api.blobUrl(p.photo_url); } catch (err) { img.replaceWith(el("p", { class: "error" }, refusalText(err))); }
  dialog.addEventListener("close", () => URL.revokeObjectURL(img.src), { once: true });
}

/** Dispatch or reassign from the candidate list (who, with load, distance and why). */
function dispatchPanel(e) {
  const box = el("form", { class: "dispatch", "aria-label": t("dispatchTitle") }, el("h3", {}, t("dispatchTitle")));
  const list = el("div", { role: "radiogroup", "aria-label": t("candidates") });
  const reason = el("input", { name: "dispatch-reason", maxlength: "500" });
  const error = el("p", { class: "error", role: "alert" });
  box.append(list, el("label", {}, t("reason"), " ", reason));
  api.call("GET", `/api/v1/events/${e.id}/candidates`).then((c) => {
    if (!c.candidates.length) list.append(el("p", { class: "muted" }, t("nobody")));
    for (const x of c.candidates) {
      const value = x.department ? `dept:${x.department}` : x.user_id;
      const on = e.assignees.includes(x.user_id);
      list.append(el("label", { class: "candidate" },
        el("input", { type: "radio", name: "candidate", value, "data-name": x.display_name }),
        ` ${candidateLabel(x)}${on ? ` (${t("current")})` : ""}`));
    }
  }).catch(() => { box.hidden = true; });
  box.append(el("button", {
    type: "button", "data-action": "dispatch",
    onclick: () => {
      const picked = list.querySelector("input:checked");
      if (!picked) { error.textContent = t("pickSomeone"); return; }
      const body = { action: "dispatch", version: e.version };
      if (reason.value) body.reason = reason.value;
      if (picked.value.startsWith("dept:")) body.departments = [picked.value.slice(5)];
      else body.assignees = [picked.value];
      act(e, body, error);
    },
  }, t("a_dispatch")), error);
  return box;
}

/** Sends an action on the open event, then redraws it; a refusal is shown in `error`, where the
 * action was asked. */
async function act(e, body, error) {
  error.textContent = "";
  try {
    await api.call("POST", `/api/v1/events/${e.id}/actions`, body);
    await showEvent(e.id);
    loadQueue(state.queue);
  } catch (err) {
    error.textContent = refusalText(err);
  }
}

function actionsPanel(e) {
  // A pending request for more time is answered first: granted (the deadline moves) or refused.
  const offers = (e.extension_requested ? ["extend", "refuse_extension"] : []).concat(OFFERS[e.state] || [])
    // A stage finished late may be excused (容错免责), also once the event is closed.
    .concat(e.late_stages > 0 ? ["excuse"] : []);
  const error = el("p", { class: "error", role: "alert" });
  const reason = el("textarea", { name: "reason", rows: "2", maxlength: "500" });
  const form = el("form", { class: "actions", "aria-label": t("actions") },
    el("h3", {}, t("actions")),
    el("label", {}, t("reason"), " ", reason),
    el("div", {}, offers.map((name) => el("button", {
      type: "button", "data-action": name,
      onclick: () => {
        const body = { action: name, version: e.version };
        if (NEEDS_REASON.has(name)) body.reason = reason.value;
        act(e, body, error);
      },
    }, t(`a_${name}`)))),
    TERMINAL.has(e.state) ? null : regradeControl(e, reason, error),
    error);
  return form;
}

/** Regrading (定级): the ops centre sets the grade, with the reason above; deadlines follow. */
function regradeControl(e, reason, error) {
  const grade = el("select", { name: "grade", "aria-label": t("grade") },
    ["general", "significant", "serious", "critical"].map((g) => el("option", { value: g, selected: g === (e.suggested_grade || e.grade) }, t(`g_${g}`))));
  return el("div", { class: "regrade" }, grade, " ", el("button", {
    type: "button", "data-action": "regrade",
    onclick: () => act(e, { action: "regrade", grade: grade.value, reason: reason.value, version: e.version }, error),
  }, t("a_regrade")));
}
