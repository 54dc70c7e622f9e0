#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given binaries load, one per
# line, so the runtime image installs exactly those (no compiler, no -dev packages).
#   docker/runtime-packages.sh bin/grader bin/grader-sandbox
set -euo pipefail
for lib in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u); do
  # dpkg knows a file under one of its names (/lib or /usr/lib on merged-/usr systems).
  dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null \
    || dpkg -S "/$(basename "$lib")"
done | cut -d: -f1 | sort -u
