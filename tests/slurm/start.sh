#!/usr/bin/env bash
# Starts a throw-away single-node Slurm cluster (munged, slurmctld, slurmd) without systemd.
# Usage: tests/slurm/start.sh DIR    (DIR: an empty folder; must be run as root)
# Afterwards: export SLURM_CONF=DIR/slurm.conf; stop everything with tests/slurm/stop.sh DIR.
# Needs Debian's slurm-wlm and munge (scripts/setup installs them).
set -euo pipefail
dir=$(realpath "$1")
[ "$(id -u)" -eq 0 ] || { echo "start.sh: must run as root (daemons switch users)" >&2; exit 1; }
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "start.sh: $tool not found; run scripts/setup" >&2; exit 1; }
done
host=$(hostname -s)
mkdir -p "$dir"/{state,spool,log}
chmod 755 "$dir"
chown slurm:slurm "$dir/state" "$dir/log"

# munge: one daemon per machine on its default socket; reuse a running one.
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged
  touch "$dir/started-munged"
  for _ in $(seq 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

# Free ports, so that this cluster never meets another one on the same machine.
read -r ctld_port slurmd_port < <(/usr/bin/python3 -c '
import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')

cat >"$dir/slurm.conf" <<CONF
ClusterName=gradertest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=30
MinJobAge=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 150); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  if [ "$state" = "idle" ]; then
    echo "slurm up: SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "start.sh: the node did not become idle (state '${state:-?}'); logs in $dir/log" >&2
tail -n 20 "$dir"/log/*.log >&2 || true
exit 1
