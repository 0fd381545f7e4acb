#!/usr/bin/env bash
# Compiles the generated Kotlin bindings with FieldDay.kt and runs the Kotlin field day on the JVM
# (JNA loads libgridwork_ffi) against a real `gridwork demo` server.
# Usage: ffi/tests/kotlin/run.sh KOTLIN_BINDINGS_DIR FFI_LIBRARY_DIR GRIDWORK_BINARY
#
# Tools, fetched on first use into GRIDWORK_TOOLS_DIR (default /var/tmp/gridwork-tools):
# - the Kotlin compiler (2.3) and kotlinx libraries: the `kotlin-jupyter-kernel` wheel from PyPI
#   ships them in one jar;
# - JNA: Debian's libjna-java (/usr/share/java/jna.jar), installed with apt-get when missing.
# Java 17+ must be on the machine. Exit 3 means "could not get a tool" (the caller reports a skip).
set -euo pipefail
bindings=$1 libdir=$2 gridwork=$3
here=$(cd "$(dirname "$0")" && pwd)
tools=${GRIDWORK_TOOLS_DIR:-/var/tmp/gridwork-tools}
wheel_version=0.19.0.944

skip() { echo "kotlin: $*" >&2; exit 3; }

command -v java >/dev/null 2>&1 || skip "no java on PATH"
jar=$(ls "$tools"/kotlin-jupyter-kernel-$wheel_version/run_kotlin_kernel/jars/kotlin-jupyter-kernel-*-all.jar 2>/dev/null | head -n1 || true)
if [ -z "$jar" ]; then
  echo "kotlin: fetching the Kotlin compiler (kotlin-jupyter-kernel==$wheel_version from PyPI)"
  mkdir -p "$tools"
  dl=$(mktemp -d)
  python3 -m pip download --quiet --no-deps "kotlin-jupyter-kernel==$wheel_version" -d "$dl" || { rm -rf "$dl"; skip "pip could not fetch kotlin-jupyter-kernel"; }
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$dl"/*.whl "$tools/kotlin-jupyter-kernel-$wheel_version"
  rm -rf "$dl"
  jar=$(ls "$tools"/kotlin-jupyter-kernel-$wheel_version/run_kotlin_kernel/jars/kotlin-jupyter-kernel-*-all.jar | head -n1)
fi
jna=/usr/share/java/jna.jar
if [ ! -f "$jna" ]; then
  echo "kotlin: installing JNA (Debian libjna-java)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java >/dev/null 2>&1; } \
      || skip "apt-get could not install libjna-java"
  else
    skip "JNA is missing and cannot be installed here (needs root and apt-get)"
  fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The compiler is K2 (Kotlin 2.3); warnings from generated code are not ours to fix, errors fail.
java -Xss8m -cp "$jar" org.jetbrains.kotlin.cli.jvm.K2JVMCompiler \
  -no-stdlib -no-reflect -jvm-target 17 -nowarn -cp "$jar:$jna" -d "$out/classes" \
  "$bindings"/org/gridwork/core/gridwork_ffi.kt "$here/FieldDay.kt"
# JNA finds the library by name on jna.library.path; uniffi's Kotlin asks for "gridwork_ffi".
java -Djna.library.path="$libdir" -cp "$out/classes:$jar:$jna" FieldDayKt "$gridwork"
