// Volunteering on the report page: signing up (no account needed; the form offers communities by
// name) and, once signed in, where one's sign-up stands and the points and hours earned.
import * as api from "./api.js";
import { t } from "./i18n.js";
import { $, el } from "./page.js";

const FIELDS = ["username", "password", "display_name", "phone", "community", "note"];
let searchTimer = null;
/** The datalist's labels (name · street) to community codes, for a name typed or picked. */
const labels = new Map();

$("#show-signup").addEventListener("click", () => {
  $("#login").hidden = true;
  $("#signup").hidden = false;
  $("#signup [name=username]").focus();
});

$("#signup-cancel").addEventListener("click", () => {
  $("#signup").hidden = true;
  $("#login").hidden = false;
});

$("#signup [name=community]").addEventListener("input", (ev) => {
  clearTimeout(searchTimer);
  const q = ev.target.value.trim();
  searchTimer = setTimeout(() => suggest(q), 250);
});

async function suggest(q) {
  if (labels.has(q)) return;
  try {
    const { communities } = await api.call("GET", `/api/v1/volunteers/communities?limit=30&q=${encodeURIComponent(q)}`);
    const list = $("#communities");
    list.replaceChildren(...communities.map((c) => {
      const label = [c.name, c.street_name, c.district_name].filter(Boolean).join(" · ");
      labels.set(label, c.code);
      return el("option", { value: label });
    }));
  } catch (_) { /* suggestions are a help; the server checks the code on submit */ }
}

for (const name of FIELDS) {
  $(`#signup [name=${name}]`).addEventListener("input", () => { $(`#err-su-${name}`).textContent = ""; });
}

$("#signup").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  for (const name of FIELDS) $(`#err-su-${name}`).textContent = "";
  $("#signup-error").textContent = "";
  const typed = form.community.value.trim();
  const body = Object.fromEntries(FIELDS.map((name) => [name, form[name].value]));
  body.community = labels.get(typed) || typed;
  try {
    await api.call("POST", "/api/v1/volunteers/sign-up", body);
    $("#signup").hidden = true;
    $("#login").hidden = false;
    $("#login [name=username]").value = body.username;
    $("#login-error").textContent = t("su_sent");
    form.reset();
  } catch (err) {
    let shown = false;
    for (const [field, v] of Object.entries(err.fields || {})) {
      const target = document.getElementById(`err-su-${field}`);
      if (target) { target.textContent = fieldText(v); shown = true; }
    }
    if (!shown) $("#signup-error").textContent = `${t("refused")}: ${err.message}`;
  }
});

/** The server's refusal of a field in the page's language where its code is known. */
function fieldText(v) {
  const key = `su_err_${v.code}`;
  const known = t(key);
  return known !== key.replace(/^[a-z]_/, "") ? known : (v.message || v.code);
}

/** After sign-in: the sign-up's state (and why it was declined), and service for volunteers. */
export async function showVolunteering(grants) {
  const box = $("#volunteering");
  const volunteer = grants.some((g) => g.role === "volunteer");
  const [{ applications }, service] = await Promise.all([
    api.call("GET", "/api/v1/me/volunteer-applications"),
    volunteer ? api.call("GET", "/api/v1/me/service") : Promise.resolve(null),
  ]);
  const latest = applications[0];
  const lines = [];
  if (latest && latest.state !== "approved") {
    lines.push(el("p", { id: "application-state" }, t(`su_${latest.state}`, latest.community_name || latest.community_code),
      latest.reason ? el("span", { class: "reason" }, ` ${t("reason")}：${latest.reason}`) : null));
  }
  if (service) {
    lines.push(el("p", { id: "service" }, t("su_service", service.points, service.hours.toFixed(1), service.tasks)));
  }
  box.replaceChildren(el("h2", {}, t("su_title")), ...lines);
  box.hidden = lines.length === 0;
}

export function hideVolunteering() {
  $("#volunteering").hidden = true;
}
