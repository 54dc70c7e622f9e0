#!/usr/bin/env bash
# Opens an HTML file in headless Chromium, in a 1400 px wide window, and records what a reader
# would get.
# Usage: tests/html/render_check.sh FILE.html OUTDIR
# Writes OUTDIR/dom.html (the DOM after scripts ran) and OUTDIR/console.txt (every console
# message: errors, CSP violations such as a blocked external resource, logs).
# Exit status: 0 when the page rendered with no console message, 1 when it logged any,
# 2 when Chromium itself failed.
set -u
file=$(realpath "$1")
out=$2
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium=${CHROMIUM:-/usr/bin/chromium}
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --window-size=1400,1000 --disable-background-networking --disable-component-update --disable-sync \
  --disable-dev-shm-usage --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --virtual-time-budget=2000 --dump-dom "file://$file" >"$out/dom.html" 2>"$out/chromium.log"
status=$?
grep -F ':CONSOLE' "$out/chromium.log" >"$out/console.txt"
if [ "$status" -ne 0 ] || [ ! -s "$out/dom.html" ]; then
  echo "render_check: chromium failed ($status); see $out/chromium.log" >&2
  exit 2
fi
if [ -s "$out/console.txt" ]; then
  cat "$out/console.txt" >&2
  exit 1
fi
exit 0
