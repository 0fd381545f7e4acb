// The map view: the caller's areas from the API's outlines, one level deeper as the zoom grows
// (district → street → community → grid → compound → building); open events as markers
// clustered by Leaflet.markercluster (coloured by deadline: normal, warning, overdue); on-duty
// workers; a hotspot layer of events per H3 cell for a category and time window. No base-map
// tiles are needed (outlines alone work offline); when the server is given a tile URL the map
// draws on it, shifting everything onto GCJ-02 for Chinese providers. Leaflet and the cluster
// plugin are the vendored npm packages (web/vendor.sh), loaded as classic scripts.
/* global L */
import * as api from "./api.js";
import { t } from "./i18n.js";
import { wgs84ToGcj02 } from "./crs.js";

const OPEN = "reported,accepted,returned,dispatched,claimed,in_progress,rework,resolved,suspended";
const MAX_EVENTS = 10000;
const MAX_OUTLINES = 400;
const LEVELS = ["city", "district", "street", "community", "grid", "compound", "building"];
const HOUR = 3600 * 1000;

let map = null;
let layers = null;
let project = (lat, lng) => [lat, lng];
let roots = [];
let onPickEvent = () => {};
const outlines = new Map(); // code → AreaOutline (cached for the session)
const children = new Map(); // code → Promise<AreaOutline[]>

/** The area level to outline at a zoom. */
export function levelForZoom(z) {
  if (z <= 11) return "district";
  if (z <= 13) return "street";
  if (z <= 14) return "community";
  if (z <= 16) return "grid";
  if (z <= 17) return "compound";
  return "building";
}

/** The H3 resolution of the hotspot layer at a zoom: cells a few dozen pixels across. */
function resForZoom(z) {
  if (z <= 11) return 7;
  if (z <= 13) return 8;
  if (z <= 15) return 9;
  return 10;
}

// The ring says where in the loop an event is; the fill says how its deadline stands.
const STAGE = {
  reported: "new", accepted: "waiting", returned: "waiting", dispatched: "working", claimed: "working",
  in_progress: "working", rework: "working", resolved: "checking", suspended: "paused",
};

function dot(kind, stage) {
  return L.divIcon({ className: `dot dot-${kind}${stage ? ` ring-${stage}` : ""}`, iconSize: [14, 14] });
}

function eventKind(e) {
  if (e.overdue) return "overdue";
  if (e.warned) return "warning";
  return "normal";
}

function latLng(lat, lng) { return L.latLng(...project(lat, lng)); }

function geo(geometry, style) {
  return L.geoJSON(geometry, { style, coordsToLatLng: (c) => latLng(c[1], c[0]) });
}

async function setUp() {
  const config = await api.call("GET", "/console/config.json");
  const tiles = config.tiles;
  map = L.map("mapview", { attributionControl: Boolean(tiles), minZoom: 3, maxZoom: 19 });
  if (tiles) {
    if (tiles.crs === "gcj02") project = wgs84ToGcj02;
    L.tileLayer(tiles.url, { subdomains: tiles.subdomains, attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
    document.querySelector("#mapview").dataset.tiles = tiles.crs;
  }
  layers = {
    areas: L.featureGroup().addTo(map),
    events: L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 }).addTo(map),
    workers: L.layerGroup().addTo(map),
    hotspots: L.layerGroup(),
  };
  L.control.layers(null, {
    [t("layerAreas")]: layers.areas, [t("layerEvents")]: layers.events, [t("layerWorkers")]: layers.workers,
    [t("layerHotspots")]: layers.hotspots,
  }, { collapsed: false }).addTo(map);
  map.on("moveend", () => { drawLevel(); drawHotspots(); });
  map.on("overlayadd", (e) => { if (e.layer === layers.hotspots) drawHotspots(); });
  document.querySelector("#hotspot-form").addEventListener("change", () => {
    if (!map.hasLayer(layers.hotspots)) map.addLayer(layers.hotspots);
    drawHotspots();
  });
}

/** Draws the map for the caller; `onPick(id)` opens an event. Reloads the data each time. */
export async function showMap(scopes, onPick, categories) {
  onPickEvent = onPick;
  if (!map) await setUp();
  fillCategories(categories);
  layers.events.clearLayers();
  layers.workers.clearLayers();
  const codes = scopes.length ? scopes : (await api.call("GET", "/api/v1/areas?level=city")).areas.map((a) => a.code);
  roots = await Promise.all(codes.map(async (code) => {
    const a = await api.call("GET", `/api/v1/areas/${code}`);
    const o = { code: a.code, name: a.name, level: a.level, geometry: a.geometry };
    outlines.set(o.code, o);
    return o;
  }));
  const bounds = L.latLngBounds([]);
  for (const r of roots) bounds.extend(geo(r.geometry).getBounds());
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView([30.59, 114.3], 12);
  await Promise.all([drawLevel(), drawEvents(), drawWorkers()]);
  document.querySelector("#map-count").textContent = t("mapCount", layers.events.getLayers().length);
}

function fillCategories(categories) {
  const select = document.querySelector("#hotspot-category");
  if (select.options.length > 1) return;
  for (const c of categories) select.append(new Option(`${c.major_name} · ${c.minor_name}`, c.code));
}

function boundsOf(o) {
  if (!o.bounds) o.bounds = geo(o.geometry).getBounds();
  return o.bounds;
}

function childrenOf(code) {
  if (!children.has(code)) {
    children.set(code, api.call("GET", `/api/v1/areas/${code}/children`).then((a) => a.areas).catch(() => []));
  }
  return children.get(code);
}

/** The areas at the zoom's level that are in view: each root, opened down level by level. */
let drawing = 0;
async function drawLevel() {
  const run = ++drawing;
  const target = LEVELS.indexOf(levelForZoom(map.getZoom()));
  const view = map.getBounds();
  let frontier = roots.slice();
  let shown = [];
  while (frontier.length) {
    const next = [];
    for (const o of frontier) {
      if (!boundsOf(o).intersects(view)) continue;
      if (LEVELS.indexOf(o.level) >= target) { shown.push(o); continue; }
      const kids = await childrenOf(o.code);
      if (!kids.length) shown.push(o); // the deepest there is
      else next.push(...kids);
    }
    if (shown.length + next.length > MAX_OUTLINES) { shown = shown.concat(frontier.filter((o) => !shown.includes(o))); break; }
    frontier = next;
  }
  if (run !== drawing) return; // a newer move is drawing
  layers.areas.clearLayers();
  for (const r of roots) {
    geo(r.geometry, { color: "#0b5cad", weight: 3, fill: false }).bindTooltip(`${r.name} (${r.code})`).addTo(layers.areas);
  }
  for (const o of shown) {
    if (roots.includes(o)) continue;
    geo(o.geometry, { color: "#5c6778", weight: 1, fillOpacity: 0.03, className: `area-${o.level}` })
      .bindTooltip(`${o.name} (${o.code})`).addTo(layers.areas);
  }
  document.querySelector("#mapview").dataset.level = LEVELS[target];
}

async function drawEvents() {
  let cursor = null;
  let count = 0;
  do {
    const page = await api.call("GET", `/api/v1/events?state=${OPEN}&limit=500${cursor ? `&cursor=${cursor}` : ""}`);
    const markers = page.events.map((e) => L.marker(latLng(e.location.lat, e.location.lng), {
      icon: dot(eventKind(e), STAGE[e.state]), keyboard: true, title: `${t(`s_${e.state}`)} · ${e.description}`,
    }).on("click", () => onPickEvent(e.id)));
    layers.events.addLayers(markers);
    count += page.events.length;
    cursor = page.next;
  } while (cursor && count < MAX_EVENTS);
}

async function drawWorkers() {
  try {
    const board = await api.call("GET", "/api/v1/workforce");
    for (const w of board.workers) {
      if (!w.on_duty || !w.location) continue;
      L.marker(latLng(w.location.lat, w.location.lng), { icon: dot("worker"), title: `${w.display_name} · ${w.open_tasks}` })
        .bindTooltip(`${w.display_name} · ${t("load")} ${w.open_tasks}`).addTo(layers.workers);
    }
  } catch (_) { /* not an ops centre: no workforce layer */ }
}

/** Events per H3 cell for the chosen category and window, shaded by count (densest darkest). */
let hotspotRun = 0;
async function drawHotspots() {
  if (!map.hasLayer(layers.hotspots)) return;
  const run = ++hotspotRun;
  const form = document.querySelector("#hotspot-form");
  const res = resForZoom(map.getZoom());
  const q = new URLSearchParams({ res: String(res) });
  if (form.category.value) q.set("category", form.category.value);
  const hours = Number(form.window.value);
  if (hours) q.set("from", new Date(Date.now() - hours * HOUR).toISOString());
  const out = document.querySelector("#hotspot-count");
  try {
    const d = await api.call("GET", `/api/v1/events/density?${q}`);
    if (run !== hotspotRun) return;
    layers.hotspots.clearLayers();
    const max = d.cells.reduce((m, c) => Math.max(m, c.count), 0);
    for (const c of d.cells) {
      L.polygon(c.boundary.map((p) => latLng(p.lat, p.lng)), {
        color: "#b3261e", weight: 1, fillColor: "#b3261e", fillOpacity: 0.15 + 0.6 * (c.count / max), className: "hotspot",
      }).bindTooltip(t("hotspotCell", c.count)).addTo(layers.hotspots);
    }
    out.textContent = t("hotspotCount", d.total, d.cells.length);
  } catch (err) {
    out.textContent = `${t("refused")}: ${err.message}`;
  }
}
