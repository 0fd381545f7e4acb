#!/usr/bin/env bash
# Runs schemathesis (PyPI) over every operation of the OpenAPI document of a real `gridwork demo`
# server, signed in as several roles, bounded in examples: no server errors, no answer outside the
# schema, no undocumented status code, no wrong content type.
# Usage: tests/schemathesis/run.sh GRIDWORK_BINARY
# schemathesis is installed once into GRIDWORK_TOOLS_DIR (default /var/tmp/gridwork-tools); exit 3
# means it could not be installed (the caller reports a skip).
set -euo pipefail
bin=$1
command -v curl >/dev/null 2>&1 || { echo "schemathesis: no curl to sign in with" >&2; exit 3; }
tools=${GRIDWORK_TOOLS_DIR:-/var/tmp/gridwork-tools}
version=4.32.5
st="$tools/schemathesis-$version/bin/schemathesis"
if [ ! -x "$st" ]; then
  echo "schemathesis: installing $version from PyPI into $tools"
  mkdir -p "$tools"
  python3 -m venv "$tools/schemathesis-$version" >/dev/null 2>&1 || { echo "schemathesis: no python3 venv" >&2; exit 3; }
  "$tools/schemathesis-$version/bin/pip" install -q "schemathesis==$version" >/dev/null 2>&1 \
    || { rm -rf "$tools/schemathesis-$version"; echo "schemathesis: pip could not install it" >&2; exit 3; }
fi

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GRIDWORK_DATA_DIR="$dir" GRIDWORK_LOG=warn "$bin" demo --listen "127.0.0.1:$port" >"$dir/out.log" 2>"$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

token() {
  curl -fsS -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"gridwork-demo\"}" \
    "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
# Sessions first: the fuzzed sign-ins that follow may lock this address out of signing in.
declare -A tokens
for user in admin coordinator worker.wang resident.chen; do
  tokens[$user]=$(token "$user")
done
status=0
for user in admin coordinator worker.wang resident.chen; do
  echo "schemathesis as $user"
  # The event stream never ends on its own; signing out would end the run's own session.
  "$st" run "$base/api/v1/openapi.json" -H "Authorization: Bearer ${tokens[$user]}" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --exclude-path /api/v1/events/stream --exclude-path /api/v1/auth/logout \
    --max-examples 30 --workers 1 --seed 20261201 --no-color --warnings off >"$dir/st-$user.log" 2>&1 || status=$?
  grep -E "^(API Operations|  Tested|Test cases|  [0-9]+ generated|=+ .* in )" "$dir/st-$user.log" | tr '\n' ' '; echo
  if [ "$status" != 0 ]; then
    sed -n '/FAILURES\|ERRORS/,$p' "$dir/st-$user.log" | head -120
    echo "server log:"; tail -20 "$dir/server.log"
    exit "$status"
  fi
done
# actix logs requests it cannot even parse (schemathesis sends broken headers) at error level;
# ours are "request failed" (a 5xx) and panics.
if grep -E "panicked|request failed" "$dir/server.log"; then
  echo "the server failed requests under schemathesis" >&2
  exit 1
fi
echo "schemathesis: clean for 4 roles"
