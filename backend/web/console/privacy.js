// Personal data (个人信息): on the report page, a person downloads what Gridwork holds about them
// and asks for it to be erased; in the console, administrators carry out or decline the
// erasure requests of people in their area (a decline says why, and the person reads it).
import * as api from "./api.js";
import { t } from "./i18n.js";
import { $, el, refusalText } from "./page.js";

// ----- the person's own (report page) -----

let waiting = null;

/** Shows the "my data" box with the state of the person's newest erasure request. */
export async function showMyData() {
  $("#mydata").hidden = false;
  const status = $("#mydata-status");
  try {
    const { requests } = await api.call("GET", "/api/v1/me/erasure-requests");
    waiting = requests.find((r) => r.state === "requested") || null;
    const last = requests[0];
    $("#mydata-erase").hidden = waiting !== null;
    $("#mydata-withdraw").hidden = waiting === null;
    status.textContent = last ? t(`pd_${last.state}`) + (last.decision_reason ? `：${last.decision_reason}` : "") : "";
  } catch (err) {
    status.textContent = refusalText(err);
  }
}

export function hideMyData() {
  $("#mydata").hidden = true;
  waiting = null;
}

$("#mydata-export")?.addEventListener("click", async () => {
  try {
    await api.download("/api/v1/me/data-export", "gridwork-my-data.zip");
    $("#mydata-status").textContent = t("pd_exported");
  } catch (err) {
    $("#mydata-status").textContent = refusalText(err);
  }
});

$("#mydata-erase")?.addEventListener("click", async () => {
  if (!window.confirm(t("pd_confirmAsk"))) return;
  try {
    await api.call("POST", "/api/v1/me/erasure-requests", {});
  } catch (err) {
    $("#mydata-status").textContent = refusalText(err);
    return;
  }
  showMyData();
});

$("#mydata-withdraw")?.addEventListener("click", async () => {
  if (!waiting) return;
  try {
    await api.call("POST", `/api/v1/erasure-requests/${waiting.id}/decision`, { decision: "withdraw" });
  } catch (err) {
    $("#mydata-status").textContent = refusalText(err);
    return;
  }
  showMyData();
});

// ----- administrators (console) -----

/** Opens the view of erasure requests in the caller's reach. */
export function showErasures() {
  loadErasures();
}

$("#erasure-state")?.addEventListener("change", () => loadErasures());

async function loadErasures() {
  const body = $("#erasures tbody");
  const state = $("#erasure-state").value;
  $("#erasure-result").textContent = "";
  try {
    const { requests } = await api.call("GET", `/api/v1/erasure-requests${state ? `?state=${state}` : ""}`);
    body.replaceChildren(...(requests.length ? requests.map(erasureRow)
      : [el("tr", {}, el("td", { colspan: "5", class: "muted" }, t("pd_none")))]));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "error" }, refusalText(err))));
  }
}

function erasureRow(r) {
  const reason = el("input", { maxlength: "500", "aria-label": t("reason"), placeholder: t("pd_reasonHint") });
  const decide = async (decision) => {
    if (decision === "carry_out" && !window.confirm(t("pd_confirmCarry", r.username))) return;
    const body = decision === "decline" ? { decision, reason: reason.value } : { decision };
    try {
      const done = await api.call("POST", `/api/v1/erasure-requests/${r.id}/decision`, body);
      await loadErasures();
      $("#erasure-result").textContent = t(decision === "carry_out" ? "pd_carried" : "pd_declinedNote", done.username);
    } catch (err) {
      $("#erasure-result").textContent = refusalText(err);
    }
  };
  const open = r.state === "requested";
  const outcome = t(`pd_${r.state}`) + (r.decision_reason ? `：${r.decision_reason}` : "")
    + (r.summary ? ` (${Object.entries(r.summary).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")})` : "");
  return el("tr", { "data-id": r.id },
    el("td", {}, r.username),
    el("td", {}, r.areas.length ? r.areas.join(", ") : t("pd_everywhere")),
    el("td", {}, new Date(r.created_at).toLocaleString()),
    el("td", {}, outcome),
    el("td", {}, open ? [
      el("button", { type: "button", class: "carry-out", onclick: () => decide("carry_out") }, t("pd_carryOut")),
      reason,
      el("button", { type: "button", class: "decline secondary", onclick: () => decide("decline") }, t("pd_decline")),
    ] : ""));
}
