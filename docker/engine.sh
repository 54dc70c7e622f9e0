# Sourced by the docker/ scripts and tests: picks the container engine and its settings.
#   $engine: podman when present, else docker (override with GRADER_ENGINE=docker).
# On hosts with v1/hybrid cgroups (no /sys/fs/cgroup/cgroup.controllers) podman needs
# docker/containers.conf (runc, cgroupfs, lower ulimits); a caller's CONTAINERS_CONF wins.
engine="${GRADER_ENGINE:-}"
if [ -z "$engine" ]; then
  if command -v podman >/dev/null; then engine=podman
  elif command -v docker >/dev/null; then engine=docker
  else
    echo "no container engine: install podman or docker" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
if [ "$engine" = podman ] && [ -z "${CONTAINERS_CONF:-}" ] \
   && [ ! -f /sys/fs/cgroup/cgroup.controllers ] && command -v runc >/dev/null; then
  CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
  export CONTAINERS_CONF
fi
