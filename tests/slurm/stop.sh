#!/usr/bin/env bash
# Stops what tests/slurm/start.sh DIR started (by pid file; munged only if it started it).
dir=$(realpath "$1")
stop_pid() {  # pid file, name
  [ -s "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ] || return 0
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}
stop_pid "$dir/slurmd.pid" slurmd
stop_pid "$dir/slurmctld.pid" slurmctld
if [ -e "$dir/started-munged" ]; then
  stop_pid /run/munge/munged.pid munged
  rm -f "$dir/started-munged"
fi
exit 0
