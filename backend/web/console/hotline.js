// The 12345 hotline (市民热线) in the console: the callback queue (回访) — callers whose case is
// closed, with their name and phone (the server sends them in full only to ops staff over the
// case) — where the callback's outcome is recorded; and the calls on an event's page.
import * as api from "./api.js";
import { t, when } from "./i18n.js";
import { $, el, refusalText } from "./page.js";

/** Opens the callback queue. */
export function showCallbacks() {
  loadCallbacks();
}

async function loadCallbacks() {
  const body = $("#callbacks tbody");
  try {
    const { calls } = await api.call("GET", "/api/v1/hotline/calls");
    body.replaceChildren(...(calls.length ? calls.map(callRow)
      : [el("tr", {}, el("td", { colspan: "5", class: "muted" }, t("hl_none")))]));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "error" }, refusalText(err))));
  }
}

function callRow(c) {
  const note = el("input", { maxlength: "500", "aria-label": t("hl_note"), placeholder: t("hl_note") });
  const record = async (satisfied) => {
    const body = note.value.trim() ? { satisfied, note: note.value.trim() } : { satisfied };
    try {
      await api.call("POST", `/api/v1/hotline/calls/${c.id}/callback`, body);
      await loadCallbacks();
      $("#callback-result").textContent = t("hl_recorded", c.reference);
    } catch (err) {
      $("#callback-result").textContent = refusalText(err);
    }
  };
  return el("tr", { "data-id": c.id },
    el("td", {}, c.reference),
    el("td", {}, `${c.caller_name || "—"} · ${c.caller_phone || "—"}`),
    el("td", {}, when(c.created_at)),
    el("td", {}, c.event_id.slice(-8)),
    el("td", {},
      el("button", { type: "button", class: "satisfied", onclick: () => record(true) }, t("hl_satisfied")),
      el("button", { type: "button", class: "unsatisfied secondary", onclick: () => record(false) }, t("hl_unsatisfied")),
      note));
}

/** The calls about an event, for its page (callers as the server shows them to this caller). */
export function callsPanel(e) {
  return [
    el("h3", {}, t("hl_title")),
    el("ul", { class: "calls" }, e.hotline_calls.map((c) => el("li", {},
      `${c.reference} · ${c.caller_name || "—"} · ${c.caller_phone || "—"} · ${when(c.created_at)}`,
      c.callback_at
        ? el("span", { class: "muted" }, ` · ${t("hl_callback")}: ${t(c.satisfied ? "hl_satisfied" : "hl_unsatisfied")}${c.callback_note ? ` (${c.callback_note})` : ""}`)
        : null))),
  ];
}
