// The map view: the caller's areas from the API's outlines (no base-map tiles, so it works
// offline), open events as markers clustered by Leaflet.markercluster (coloured by deadline:
// normal, warning, overdue) and on-duty workers. Leaflet and the cluster plugin are the vendored
// npm packages (web/vendor.sh), loaded as classic scripts before this module.
/* global L */
import * as api from "./api.js";
import { t } from "./i18n.js";

const OPEN = "reported,accepted,returned,dispatched,claimed,in_progress,rework,resolved,suspended";
const MAX_EVENTS = 10000;
const MAX_CHILD_OUTLINES = 60;

let map = null;
let layers = null;

function dot(kind) {
  return L.divIcon({ className: `dot dot-${kind}`, iconSize: [14, 14] });
}

function eventKind(e) {
  if (e.overdue) return "overdue";
  if (e.warned) return "warning";
  return "normal";
}

/** Draws the map for the caller; `onPick(id)` opens an event. Reloads the data each time. */
export async function showMap(scopes, onPick) {
  if (!map) {
    // No tile layer gives the zoom range, and clustering needs one.
    map = L.map("mapview", { attributionControl: false, minZoom: 3, maxZoom: 19 });
    layers = {
      areas: L.featureGroup().addTo(map),
      events: L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 }).addTo(map),
      workers: L.layerGroup().addTo(map),
    };
    L.control.layers(null, {
      [t("layerAreas")]: layers.areas, [t("layerEvents")]: layers.events, [t("layerWorkers")]: layers.workers,
    }, { collapsed: false }).addTo(map);
  }
  Object.values(layers).forEach((l) => l.clearLayers());
  await drawAreas(scopes);
  if (layers.areas.getLayers().length) map.fitBounds(layers.areas.getBounds(), { padding: [12, 12] });
  else map.setView([30.59, 114.3], 12);
  await Promise.all([drawEvents(onPick), drawWorkers()]);
  document.querySelector("#map-count").textContent = t("mapCount", layers.events.getLayers().length);
}

async function outline(code, style) {
  const area = await api.call("GET", `/api/v1/areas/${code}`);
  L.geoJSON(area.geometry, { style }).bindTooltip(`${area.name} (${area.code})`).addTo(layers.areas);
  return area;
}

async function drawAreas(scopes) {
  const roots = scopes.length ? scopes : (await api.call("GET", "/api/v1/areas?level=city")).areas.map((a) => a.code);
  for (const code of roots) {
    const area = await outline(code, { color: "#0b5cad", weight: 3, fill: false });
    // One level down, so the ops centre sees its streets, communities or grids.
    if (area.children.length <= MAX_CHILD_OUTLINES) {
      await Promise.all(area.children.map((c) => outline(c.code, { color: "#5c6778", weight: 1, fillOpacity: 0.03 })));
    }
  }
}

async function drawEvents(onPick) {
  let cursor = null;
  let count = 0;
  do {
    const page = await api.call("GET", `/api/v1/events?state=${OPEN}&limit=500${cursor ? `&cursor=${cursor}` : ""}`);
    const markers = page.events.map((e) => L.marker([e.location.lat, e.location.lng], {
      icon: dot(eventKind(e)), keyboard: true, title: `${e.category} ${e.description}`,
    }).on("click", () => onPick(e.id)));
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
      L.marker([w.location.lat, w.location.lng], { icon: dot("worker"), title: `${w.display_name} · ${w.open_tasks}` })
        .bindTooltip(`${w.display_name} · ${t("load")} ${w.open_tasks}`).addTo(layers.workers);
    }
  } catch (_) { /* not an ops centre: no workforce layer */ }
}
