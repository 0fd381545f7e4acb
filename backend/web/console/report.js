// The report page for residents and volunteers, sized for a phone: report a problem (category,
// place from the browser's location, a photo from the camera) and follow my reports live. Same
// API and accounts as the console; the server's scope shows a reporter only their own reports,
// and files a volunteer's report as theirs by role.
import * as api from "./api.js";
import { t, when } from "./i18n.js";
import { $, el, session } from "./page.js";
import { showVolunteering, hideVolunteering } from "./signup.js";
import { showMyData, hideMyData } from "./privacy.js";

const MAX_SIDE = 2048;
const PAGE = 20;

const state = { photo: null, evidenceId: null, draftKey: null, rows: [], next: null, stopStream: null };

session({
  titleKey: "m_title",
  enter: async ({ grants }) => {
    await loadCategories();
    showVolunteering(grants).catch(() => hideVolunteering());
    showMyData();
    newDraft();
    $("#report").hidden = false;
    $("#mine").hidden = false;
    loadMine();
    state.stopStream = api.stream(onLive, () => {});
    return null;
  },
  leave: () => {
    hideVolunteering();
    hideMyData();
    if (state.stopStream) state.stopStream();
    Object.assign(state, { rows: [], stopStream: null });
    $("#report").reset();
    clearPhoto();
    $("#report").hidden = true;
    $("#mine").hidden = true;
  },
  relabel: () => renderMine(),
});

// ----- the report form -----

/** Active categories, grouped by their major class as the catalog names them. */
async function loadCategories() {
  const { categories } = await api.call("GET", "/api/v1/categories");
  const select = $("#report select[name=category]");
  const groups = new Map();
  state.names = new Map(categories.map((c) => [c.code, c.minor_name]));
  for (const c of categories.filter((c) => c.active)) {
    if (!groups.has(c.major_name)) groups.set(c.major_name, el("optgroup", { label: c.major_name }));
    groups.get(c.major_name).append(el("option", { value: c.code }, c.minor_name));
  }
  select.replaceChildren(el("option", { value: "" }, t("m_choose")), ...groups.values());
}

/** A new report gets a new idempotency key; a resend of the same one files it once. */
function newDraft() {
  state.draftKey = crypto.randomUUID();
  state.evidenceId = null;
}

$("#locate").addEventListener("click", () => {
  const out = $("#located");
  if (!navigator.geolocation) { out.textContent = t("m_noLocation"); return; }
  out.textContent = t("m_locating");
  navigator.geolocation.getCurrentPosition((pos) => {
    const form = $("#report");
    form.lat.value = pos.coords.latitude.toFixed(6);
    form.lng.value = pos.coords.longitude.toFixed(6);
    out.textContent = t("m_located", Math.round(pos.coords.accuracy));
    $("#err-lat").textContent = "";
  }, (err) => { out.textContent = `${t("m_noLocation")} (${err.message})`; },
  { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
});

$("#report input[name=photo]").addEventListener("change", async (ev) => {
  const file = ev.target.files[0];
  clearPhoto();
  if (!file) return;
  state.photo = await shrink(file);
  const preview = $("#preview");
  preview.src = URL.createObjectURL(state.photo);
  preview.alt = t("m_photo");
  preview.hidden = false;
});

function clearPhoto() {
  const preview = $("#preview");
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.removeAttribute("src");
  preview.hidden = true;
  state.photo = null;
  state.evidenceId = null;
}

/** A camera photo is several megabytes: send at most MAX_SIDE pixels a side as JPEG (which also
 * drops the file's own metadata). A format the browser cannot decode goes as it is, and the
 * server decides. */
async function shrink(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await new Promise((resolve) => canvas.toBlob((b) => resolve(b || file), "image/jpeg", 0.85));
  } catch (_) {
    return file;
  }
}

/** Where the server found fault, next to the field it names. */
const FIELD_ERRORS = { category: "#err-category", description: "#err-description", lat: "#err-lat", lng: "#err-lat", file: "#err-photo", kind: "#err-photo" };

// A fault shown next to a field goes once the field is changed.
for (const [field, target] of Object.entries({ category: "#err-category", description: "#err-description", lat: "#err-lat", lng: "#err-lat", photo: "#err-photo" })) {
  $(`#report [name=${field}]`).addEventListener("input", () => { $(target).textContent = ""; });
}

function showFault(err) {
  let shown = false;
  for (const [field, v] of Object.entries(err.fields || {})) {
    const target = FIELD_ERRORS[field];
    if (target) { $(target).textContent = v.message || v.code; shown = true; }
  }
  if (!shown) $("#report-error").textContent = `${t("refused")}: ${err.message}`;
}

$("#report").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  for (const id of ["#err-category", "#err-description", "#err-lat", "#err-photo", "#report-error", "#sent"]) $(id).textContent = "";
  const lat = Number.parseFloat(form.lat.value);
  const lng = Number.parseFloat(form.lng.value);
  let ok = true;
  if (!form.category.value) { $("#err-category").textContent = t("m_needCategory"); ok = false; }
  if (!form.description.value.trim()) { $("#err-description").textContent = t("m_needDescription"); ok = false; }
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) { $("#err-lat").textContent = t("m_needPlace"); ok = false; }
  if (!ok) return;
  $("#send").disabled = true;
  try {
    // The photo first (once, even if the report must be resent), then the report naming it.
    if (state.photo && !state.evidenceId) {
      const data = new FormData();
      data.append("kind", "before");
      data.append("taken_at", new Date().toISOString());
      data.append("lat", String(lat));
      data.append("lng", String(lng));
      data.append("file", state.photo, "photo.jpg");
      state.evidenceId = (await api.upload("/api/v1/evidence", data)).id;
    }
    const body = { category: form.category.value, description: form.description.value.trim(), lat, lng };
    if (form.address.value.trim()) body.address = form.address.value.trim();
    if (state.evidenceId) body.evidence = [state.evidenceId];
    const answer = await api.call("POST", "/api/v1/events", body, { "Idempotency-Key": state.draftKey });
    $("#sent").textContent = t(answer.filed === "duplicate" ? "m_joined" : "m_filed", answer.id.slice(-8));
    form.reset();
    clearPhoto();
    $("#located").textContent = "";
    newDraft();
    loadMine();
  } catch (err) {
    showFault(err);
  } finally {
    $("#send").disabled = false;
  }
});

// ----- my reports -----

function categoryName(code) { return state.names?.get(code) || code; }

async function loadMine(cursor) {
  const page = await api.call("GET", `/api/v1/events?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ""}`);
  state.rows = cursor ? state.rows.concat(page.events) : page.events;
  state.next = page.next;
  renderMine();
}
$("#mine-more").addEventListener("click", () => loadMine(state.next));

function renderMine() {
  const list = $("#my-reports");
  list.replaceChildren(...state.rows.map((e) => el("li", {},
    el("button", { type: "button", class: "card", "data-id": e.id, onclick: () => follow(e.id) },
      el("strong", {}, t(`s_${e.state}`)), " · ", categoryName(e.category), el("br"),
      el("span", {}, e.description), el("br"),
      el("time", { class: "muted" }, when(e.created_at))))));
  if (!state.rows.length) list.append(el("li", { class: "muted" }, t("m_noneYet")));
  $("#mine-more").hidden = !state.next;
}

/** One report's progress: the public steps of its timeline. */
async function follow(id) {
  const e = await api.call("GET", `/api/v1/events/${id}`);
  const box = $("#followed");
  box.hidden = false;
  box.dataset.id = id;
  box.replaceChildren(
    el("h3", {}, `${categoryName(e.category)} · ${t(`s_${e.state}`)}`),
    el("p", {}, e.description),
    el("ol", { class: "timeline" }, e.timeline.map((s) => el("li", {},
      el("time", {}, when(s.at)), " ", el("strong", {}, t(`a_${s.action}`)),
      s.reason ? el("div", { class: "reason" }, s.reason) : null))));
}

function onLive(view) {
  const i = state.rows.findIndex((r) => r.id === view.id);
  if (i >= 0) state.rows[i] = view; else state.rows.unshift(view);
  renderMine();
  const open = $("#followed");
  if (!open.hidden && open.dataset.id === view.id) follow(view.id);
}
