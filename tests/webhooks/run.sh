#!/usr/bin/env bash
# A department system's receiver, in Python, verifying every message of a real `gridwork demo`
# with the Standard Webhooks library from PyPI (`standardwebhooks`), through a window in which it
# fails, then stalls, then recovers.
# Usage: tests/webhooks/run.sh GRIDWORK_BINARY
# The library is installed once into GRIDWORK_TOOLS_DIR (default /var/tmp/gridwork-tools); exit 3
# means it could not be installed (the caller reports a skip).
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
tools=${GRIDWORK_TOOLS_DIR:-/var/tmp/gridwork-tools}
venv="$tools/standardwebhooks-1.1.0"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import standardwebhooks, requests' 2>/dev/null; then
  echo "webhooks: installing standardwebhooks 1.1.0 from PyPI into $tools"
  mkdir -p "$tools"
  python3 -m venv "$venv" >/dev/null 2>&1 || { echo "webhooks: no python3 venv" >&2; exit 3; }
  "$venv/bin/pip" install -q "standardwebhooks==1.1.0" "requests" >/dev/null 2>&1 \
    || { rm -rf "$venv"; echo "webhooks: pip could not install standardwebhooks" >&2; exit 3; }
fi
exec "$venv/bin/python" "$here/test_standard_webhooks.py" "$bin"
