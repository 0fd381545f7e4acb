// The volunteers view (志愿者) for street coordinators: sign-ups to approve or decline (a
// decline says why, and the applicant reads it), and the ranking of the street's volunteers by
// points. Phone numbers are shown because the coordinator calls applicants; each read is audited
// by the server.
import * as api from "./api.js";
import { t } from "./i18n.js";
import { $, el, refusalText } from "./page.js";

let scopes = [];

/** Opens the view over the areas where the caller decides sign-ups (`names`: code → name). */
export function showVolunteers(areaScopes, names) {
  scopes = areaScopes;
  const select = $("#rank-area");
  if (!select.options.length) {
    select.replaceChildren(...scopes.map((code) => el("option", { value: code }, names.get(code) || code)));
  }
  loadApplications();
  loadRanking();
}

$("#apps-state").addEventListener("change", () => loadApplications());
$("#rank-area").addEventListener("change", () => loadRanking());

async function loadApplications() {
  const body = $("#applications tbody");
  const state = $("#apps-state").value;
  $("#apps-result").textContent = "";
  try {
    const { applications } = await api.call("GET", `/api/v1/volunteer-applications?state=${state}`);
    if (!applications.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "muted" }, t("vo_none"))));
      return;
    }
    body.replaceChildren(...applications.map((a) => row(a)));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "error" }, refusalText(err))));
  }
}

function row(a) {
  const decided = a.state !== "pending";
  const reason = el("input", { maxlength: "500", "aria-label": t("reason"), placeholder: t("vo_reasonHint") });
  const decide = async (decision) => {
    const body = decision === "decline" ? { decision, reason: reason.value } : { decision };
    try {
      await api.call("POST", `/api/v1/volunteer-applications/${a.id}/decision`, body);
      $("#apps-result").textContent = t(decision === "approve" ? "vo_approved" : "vo_declined", a.display_name);
      loadApplications();
    } catch (err) {
      $("#apps-result").textContent = refusalText(err);
    }
  };
  return el("tr", { "data-id": a.id },
    el("td", {}, `${a.display_name} (${a.username})`),
    el("td", {}, a.phone || "—"),
    el("td", {}, a.community_name || a.community_code),
    el("td", {}, a.note || ""),
    el("td", {}, new Date(a.created_at).toLocaleString()),
    el("td", {}, decided ? t(`vo_${a.state}State`) + (a.reason ? `：${a.reason}` : "") : t("vo_pending")),
    el("td", {}, decided ? "" : [
      el("button", { type: "button", class: "approve", onclick: () => decide("approve") }, t("vo_approve")),
      reason,
      el("button", { type: "button", class: "decline secondary", onclick: () => decide("decline") }, t("vo_decline")),
    ]));
}

async function loadRanking() {
  const body = $("#ranking tbody");
  const area = $("#rank-area").value;
  if (!area) { body.replaceChildren(); return; }
  try {
    const { rows } = await api.call("GET", `/api/v1/volunteers/ranking?area=${encodeURIComponent(area)}`);
    body.replaceChildren(...(rows.length ? rows.map((r) => el("tr", {},
      el("td", {}, String(r.rank)), el("td", {}, r.display_name), el("td", {}, String(r.points)),
      el("td", {}, r.hours.toFixed(1)), el("td", {}, String(r.tasks))))
      : [el("tr", {}, el("td", { colspan: "5", class: "muted" }, t("vo_noService")))]));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "error" }, refusalText(err))));
  }
}
