#!/usr/bin/env bash
# Copies the console's third-party files from npm (versions pinned by package-lock.json) into
# backend/web/console/vendor/, which is committed and embedded in the binary: running Gridwork
# needs no npm. `vendor.sh --check` installs from the lockfile into a scratch folder and fails if
# the committed copy differs (scripts/test runs it when npm is there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../backend/web/console/vendor"
files=(
  "leaflet/dist/leaflet.js leaflet.js"
  "leaflet/dist/leaflet.css leaflet.css"
  "leaflet/LICENSE LICENSE.leaflet"
  "leaflet.markercluster/dist/leaflet.markercluster.js leaflet.markercluster.js"
  "leaflet.markercluster/dist/MarkerCluster.css MarkerCluster.css"
  "leaflet.markercluster/dist/MarkerCluster.Default.css MarkerCluster.Default.css"
  "leaflet.markercluster/MIT-LICENCE.txt LICENSE.leaflet.markercluster"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --silent >/dev/null)
if [ "${1:-}" = "--check" ]; then
  for f in "${files[@]}"; do
    set -- $f
    cmp -s "$work/node_modules/$1" "$dest/$2" || { echo "vendor: $dest/$2 differs from npm's $1; run web/vendor.sh" >&2; exit 1; }
  done
  echo "vendor: the committed copy matches package-lock.json"
else
  mkdir -p "$dest"
  for f in "${files[@]}"; do
    set -- $f
    cp "$work/node_modules/$1" "$dest/$2"
  done
  echo "vendor: copied into $dest"
fi
