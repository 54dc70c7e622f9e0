#!/usr/bin/env bash
# The install() rules: `cmake --install BUILD --prefix DIR` gives the layout that the grading
# image and docker/build-image.sh --prebuilt take as it is, and the installed programs find each
# other and the Gradescope templates there (not in the source tree).
# Usage: tests/install_test.sh BUILD_DIR
set -euo pipefail
build=$1
fixtures=$(cd "$(dirname "$0")" && pwd)/fixtures
prefix=$(mktemp -d /tmp/grader-install-test.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail() { echo "install_test: $*" >&2; exit 1; }
for f in bin/grader bin/grader-sandbox share/grader/gradescope/run_autograder \
         share/grader/gradescope/setup.sh; do
  [ -x "$prefix/$f" ] || fail "$f is missing or not executable"
done
for f in bin/libgrader-warm.so bin/grader-zygote.py; do
  [ -f "$prefix/$f" ] || fail "$f is missing (grader-sandbox looks for it beside itself)"
done
extra=$(cd "$prefix" && find . -type f | sort | grep -v -x -e ./bin/grader -e ./bin/grader-sandbox \
  -e ./bin/libgrader-warm.so -e ./bin/grader-zygote.py -e ./share/grader/gradescope/run_autograder \
  -e ./share/grader/gradescope/setup.sh || true)
[ -z "$extra" ] || fail "unexpected files installed: $extra"
"$prefix/bin/grader" --version | grep -q '^grader ' || fail "the installed grader does not run"
# The packer takes the templates from DIR/share: make the installed copy tell itself apart.
echo "# installed copy" >>"$prefix/share/grader/gradescope/setup.sh"
zip="$prefix/a.zip"
out=$(cd /tmp && GRADER_ASSIGNMENTS="$fixtures" "$prefix/bin/grader" gradescope mini \
  --timeout 3600 --out "$zip" 2>&1) || fail "the installed grader cannot make a Gradescope package: $out"
unzip -p "$zip" setup.sh | grep -q '^# installed copy$' ||
  fail "the package's setup.sh is not the installed one (share/grader/gradescope)"
for f in bin/grader bin/grader-sandbox bin/libgrader-warm.so bin/grader-zygote.py; do
  unzip -l "$zip" "$f" >/dev/null || fail "the package lacks $f"
done
echo "install_test: the installed layout works"
