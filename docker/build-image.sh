#!/usr/bin/env bash
# Builds the grading image with podman (or docker) on a machine with no registry access.
#
#   docker/build-image.sh [--target grader|student|runtime] [--tag NAME] [--base IMAGE]
#                         [--prebuilt BUILD_DIR]
#
# --prebuilt BUILD_DIR puts the programs of a build tree made on this Debian 12 host into the
# image (`cmake --install BUILD_DIR`: the install() rules' layout) instead of compiling them
# again in the builder stage.
# Without --base, the base image is localhost/grader-base:bookworm, made once with
# `debootstrap --variant=minbase bookworm` from this host's Debian mirror and `podman import`
# (about 40 s; reused afterwards). The Dockerfile's apt-get steps need that mirror.
# Prints the image name on the last line of stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

target=grader
tag=""
base=""
prebuilt=""
while (($#)); do
  case "$1" in
    --target) target="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --prebuilt) prebuilt="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$tag" ] || tag="localhost/grader-$target:latest"
[ "$target" = grader ] && [ "$tag" = "localhost/grader-grader:latest" ] && tag=localhost/grader:latest

source docker/engine.sh   # sets $engine and, on hosts that need it, CONTAINERS_CONF

# The first Debian mirror this host's apt uses (deb822 or one-line format).
debian_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb) ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
          /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ -z "$base" ]; then
  base=localhost/grader-base:bookworm
  if ! "$engine" image exists "$base" 2>/dev/null && ! "$engine" image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || {
      echo "build-image.sh: no $base and no debootstrap; pass --base debian:bookworm" >&2; exit 1; }
    mirror=$(debian_mirror)
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/grader-base.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    echo "build-image.sh: debootstrap bookworm from $mirror (once)" >&2
    start=$SECONDS
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
      tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "$engine" import - "$base" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    echo "build-image.sh: imported $base in $((SECONDS - start)) s" >&2
  fi
fi

binaries=(--build-arg BINARIES=builder)
if [ -n "$prebuilt" ]; then
  # Staged inside the build context (ignored by git: /build*/), one folder per build.
  stage="build-image-prebuilt.$$"
  if [ ! -f "$prebuilt/cmake_install.cmake" ]; then
    echo "build-image.sh: --prebuilt $prebuilt: not a build tree (no cmake_install.cmake);" \
      "give the build folder itself, e.g. --prebuilt build" >&2
    exit 2
  fi
  trap 'rm -rf "$stage"' EXIT
  cmake --install "$prebuilt" --prefix "$stage" --strip >/dev/null
  docker/runtime-packages.sh "$stage/bin/grader" "$stage/bin/grader-sandbox" \
    "$stage/bin/libgrader-warm.so" >"$stage/runtime-packages.txt"
  binaries=(--build-arg BINARIES=prebuilt --build-arg "PREBUILT=$stage")
fi

start=$SECONDS
"$engine" build -f docker/Dockerfile --build-arg "BASE=$base" "${binaries[@]}" \
  --target "$target" -t "$tag" . >&2
echo "build-image.sh: built $tag (target $target) in $((SECONDS - start)) s" >&2
echo "$tag"
