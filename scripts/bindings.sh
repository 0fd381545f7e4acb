#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from the built gridwork-ffi library.
# Usage: scripts/bindings.sh [OUT_DIR]   (default: ffi/bindings)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/ffi/bindings}
cd "$root"
cargo build -p gridwork-ffi --lib
cargo build -p gridwork-ffi --features bindgen --bin uniffi-bindgen
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
case "$(uname -s)" in Darwin) lib=libgridwork_ffi.dylib ;; *) lib=libgridwork_ffi.so ;; esac
for lang in kotlin swift python; do
  "$target/debug/uniffi-bindgen" generate --library "$target/debug/$lib" --language "$lang" --out-dir "$out/$lang" --no-format
done
cp "$target/debug/$lib" "$out/python/"
echo "bindings written to $out"
