#!/usr/bin/env bash
# The ops console in a real browser: Debian's chromium and chromium-driver, driven by Selenium
# (PyPI) from tests/browser/test_console.py against a real `gridwork demo`.
# Usage: tests/browser/run.sh GRIDWORK_BINARY
# Installs what is missing (apt-get for the browser, a venv under GRIDWORK_TOOLS_DIR for
# Selenium). Exit 3: a tool could not be had (the caller reports a skip). Screenshots go to
# $GRIDWORK_TEST_OUT (default target/browser-screenshots).
set -euo pipefail
gridwork=$1
here=$(cd "$(dirname "$0")" && pwd)
tools=${GRIDWORK_TOOLS_DIR:-/var/tmp/gridwork-tools}
selenium_version=4.40.0

skip() { echo "browser: $*" >&2; exit 3; }

# A CJK font, so the screenshots show the zh-CN console as people see it.
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 \
  || [ ! -d /usr/share/fonts/truetype/wqy ]; then
  echo "browser: installing Debian's chromium, chromium-driver and fonts-wqy-microhei"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    packages="chromium chromium-driver fonts-wqy-microhei"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null 2>&1; } \
      || skip "apt-get could not install $packages"
  else
    skip "chromium is missing and cannot be installed here (needs root and apt-get)"
  fi
fi
venv="$tools/selenium-$selenium_version"
if [ ! -x "$venv/bin/python" ]; then
  echo "browser: installing selenium $selenium_version from PyPI into $tools"
  mkdir -p "$tools"
  python3 -m venv "$venv" >/dev/null 2>&1 || skip "no python3 venv"
  "$venv/bin/pip" install -q "selenium==$selenium_version" >/dev/null 2>&1 \
    || { rm -rf "$venv"; skip "pip could not install selenium"; }
fi
# A real XLSX reader for the reports the console downloads.
"$venv/bin/python" -c "import openpyxl" >/dev/null 2>&1 || "$venv/bin/pip" install -q "openpyxl==3.1.5" >/dev/null 2>&1 \
  || skip "pip could not install openpyxl"
out=${GRIDWORK_TEST_OUT:-$(pwd)/target/browser-screenshots}
mkdir -p "$out"
"$venv/bin/python" "$here/test_console.py" "$gridwork" "$out"
echo "browser: screenshots in $out"
