#!/usr/bin/env bash
# Drives the Open311 door of a real `gridwork demo` with a third-party GeoReport v2 client from
# PyPI (`georeport`) and the specification's own POST example: services and definitions, a
# request filed and followed, in JSON and in XML.
# Usage: tests/open311/run.sh GRIDWORK_BINARY
# The client is installed once into GRIDWORK_TOOLS_DIR (default /var/tmp/gridwork-tools); exit 3
# means it could not be installed (the caller reports a skip).
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
tools=${GRIDWORK_TOOLS_DIR:-/var/tmp/gridwork-tools}
venv="$tools/georeport-0.3.1"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import georeport, xmltodict' 2>/dev/null; then
  echo "open311: installing georeport 0.3.1 (and xmltodict, which it reads XML with) from PyPI into $tools"
  mkdir -p "$tools"
  python3 -m venv "$venv" >/dev/null 2>&1 || { echo "open311: no python3 venv" >&2; exit 3; }
  "$venv/bin/pip" install -q "georeport==0.3.1" "xmltodict==0.14.2" "requests" >/dev/null 2>&1 \
    || { rm -rf "$venv"; echo "open311: pip could not install georeport" >&2; exit 3; }
fi
exec "$venv/bin/python" "$here/test_georeport.py" "$bin"
