#!/usr/bin/env bash
# One-node Slurm on this machine, for trying crustuq's --cluster slurm path on a workstation
# and for CI (tests/test_slurm.py).
#
#   sudo bash deploy/slurm_localhost.sh start    # install if needed, configure, start, wait for the node
#   sudo bash deploy/slurm_localhost.sh status   # daemons, sinfo, squeue (exit 1 unless the node is up)
#   sudo bash deploy/slurm_localhost.sh stop     # cancel jobs, stop the daemons this script started
#
# Debian/Ubuntu only (apt packages slurmctld slurmd slurm-client munge); needs root.
# Idempotent: `start` on a running cluster only checks it; `stop` on a stopped one does nothing.
# It never overwrites a slurm.conf it did not write (set CRUSTUQ_SLURM_OVERWRITE_CONF=1 to
# allow that) and only stops daemons it started itself (their pids are kept in $RUN_DIR).
#
# Environment knobs:
#   CRUSTUQ_SLURM_TIMEOUT      seconds to wait for the node to become idle (default 90)
#   CRUSTUQ_SLURM_PARTITION    partition name (default "local")
#   CRUSTUQ_SLURM_OVERWRITE_CONF=1  replace an existing /etc/slurm/slurm.conf not written here
#
# The configuration is the smallest that works without systemd, cgroups or a database:
# proctrack/linuxproc, task/none, no accounting, select/cons_tres with CR_Core_Memory,
# SlurmUser=root, one node named after `hostname -s` with the machine's CPUs and memory.

set -euo pipefail

ACTION="${1:-}"
TIMEOUT="${CRUSTUQ_SLURM_TIMEOUT:-90}"
PARTITION="${CRUSTUQ_SLURM_PARTITION:-local}"

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
MARKER="# crustuq-slurm-localhost: written by deploy/slurm_localhost.sh"
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
LOG_DIR=/var/log/slurm
RUN_DIR=/run/crustuq-slurm-localhost
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
MUNGE_KEY=/etc/munge/munge.key
PACKAGES=(slurmctld slurmd slurm-client munge)

NODE="$(hostname -s)"
MADE_POLICY=0

say() { echo "slurm_localhost: $*"; }
die() { echo "slurm_localhost: ERROR: $*" >&2; exit 1; }

usage() {
    echo "usage: bash deploy/slurm_localhost.sh start|stop|status" >&2
    exit 2
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo bash $0 $ACTION)"
}

# ---------------------------------------------------------------- install
install_packages() {
    local missing=0 cmd
    for cmd in slurmctld slurmd sinfo sbatch munged munge; do
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing=1
    done
    [ "$missing" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "Slurm is not installed and apt-get is missing: install ${PACKAGES[*]} by hand"
    say "installing ${PACKAGES[*]} (apt-get, noninteractive)"
    # keep the packages' maintainer scripts from starting services with no configuration yet
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        MADE_POLICY=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT            # also when interrupted
        trap 'rm -f /usr/sbin/policy-rc.d; exit 130' INT TERM
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"; then
        say "apt-get install failed; running apt-get update and trying again"
        apt-get update -q && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" || rc=$?
    fi
    if [ "$MADE_POLICY" -eq 1 ]; then
        rm -f /usr/sbin/policy-rc.d
        MADE_POLICY=0
        trap - EXIT INT TERM
    fi
    [ "$rc" -eq 0 ] || die "apt-get install ${PACKAGES[*]} failed (exit $rc)"
}

# ---------------------------------------------------------------- configuration
machine_cpus() { getconf _NPROCESSORS_ONLN 2>/dev/null || nproc; }

machine_mem_mb() {
    # 95 % of MemTotal: slurmd drains a node whose RealMemory exceeds what it measures
    awk '/^MemTotal:/ { printf "%d\n", $2 / 1024 * 0.95 }' /proc/meminfo
}

render_conf() {
    local cpus mem defmem
    cpus="$(machine_cpus)"
    mem="$(machine_mem_mb)"
    defmem=$(( mem / cpus ))
    cat <<EOF
$MARKER
# One-node Slurm for trying crustuq's --cluster slurm path; see deploy/README.md.
ClusterName=crustuq-localhost
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=60
KillWait=5
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE DefMemPerCPU=$defmem State=UP
EOF
}

# prints "changed" when the configuration file was (re)written
write_conf() {
    mkdir -p "$CONF_DIR"
    if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
        if [ "${CRUSTUQ_SLURM_OVERWRITE_CONF:-0}" != "1" ]; then
            die "$CONF exists and was not written by this script; refusing to replace it (move it away, or set CRUSTUQ_SLURM_OVERWRITE_CONF=1)"
        fi
        cp -p "$CONF" "$CONF.crustuq-backup.$(date +%s)"
        say "saved the existing $CONF as $CONF.crustuq-backup.*" >&2
    fi
    local new
    new="$(render_conf)"
    if [ -e "$CONF" ] && [ "$(cat "$CONF")" = "$new" ]; then
        return 0
    fi
    printf '%s\n' "$new" >"$CONF"
    chmod 644 "$CONF"
    echo changed
}

# ---------------------------------------------------------------- daemons
# pid of a running daemon from a pid file, checking that the process is that daemon
pid_of() {
    local pidfile="$1" name="$2" pid
    [ -r "$pidfile" ] || return 1
    pid="$(tr -dc '0-9' <"$pidfile")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
    echo "$pid"
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_works; then
        say "munged already running"
        return 0
    fi
    id munge >/dev/null 2>&1 || die "user 'munge' is missing (is the munge package installed?)"
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    if [ ! -s "$MUNGE_KEY" ]; then
        say "creating $MUNGE_KEY"
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile="$MUNGE_KEY" --force
        else
            dd if=/dev/urandom bs=1 count=1024 of="$MUNGE_KEY" status=none
        fi
    fi
    chown munge:munge /etc/munge "$MUNGE_KEY" /run/munge /var/lib/munge /var/log/munge
    chmod 700 /etc/munge
    chmod 400 "$MUNGE_KEY"
    chmod 755 /run/munge
    say "starting munged as user munge"
    if ! runuser -u munge -- /usr/sbin/munged 2>"$RUN_DIR/munged.err"; then
        # containers often have group-writable /var/log or /run, which munged refuses by default
        say "munged refused to start ($(tail -n 1 "$RUN_DIR/munged.err")); retrying with --force"
        runuser -u munge -- /usr/sbin/munged --force
    fi
    local i
    for i in $(seq 1 50); do
        munge_works && break
        sleep 0.2
    done
    munge_works || die "munged started but 'munge -n | unmunge' fails; see /var/log/munge/munged.log"
    pid_of "$MUNGE_PID" munged >"$RUN_DIR/munged.pid" || true
}

# start_daemon NAME PIDFILE LOGFILE: start /usr/sbin/NAME unless running, wait for its pid
start_daemon() {
    local name=$1 pidfile=$2 logfile=$3 i
    if pid_of "$pidfile" "$name" >/dev/null; then
        say "$name already running"
        return 0
    fi
    say "starting $name"
    "/usr/sbin/$name"
    for i in $(seq 1 50); do
        pid_of "$pidfile" "$name" >"$RUN_DIR/$name.pid" && return 0
        sleep 0.2
    done
    tail -n 20 "$logfile" >&2 || true
    die "$name did not start; see $logfile"
}

start_slurmctld() { start_daemon slurmctld "$CTLD_PID" "$LOG_DIR/slurmctld.log"; }
start_slurmd() { start_daemon slurmd "$SLURMD_PID" "$LOG_DIR/slurmd.log"; }

node_state() { sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n 1; }

wait_node_ready() {
    local t0 state resumed=0
    t0=$(date +%s)
    while :; do
        state="$(node_state || true)"
        case "$state" in
            idle|mixed|allocated|completing)
                say "node $NODE is $state ($(( $(date +%s) - t0 )) s)"
                return 0 ;;
            *drain*|down*|*fail*)
                if [ "$resumed" -eq 0 ]; then
                    say "node $NODE is '$state'; resuming it"
                    scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
                    resumed=1
                fi ;;
        esac
        if [ $(( $(date +%s) - t0 )) -ge "$TIMEOUT" ]; then
            echo "---- sinfo" >&2; sinfo -N -l >&2 2>&1 || true
            echo "---- scontrol show node" >&2; scontrol show node "$NODE" >&2 2>&1 || true
            echo "---- $LOG_DIR/slurmctld.log (tail)" >&2; tail -n 15 "$LOG_DIR/slurmctld.log" >&2 || true
            echo "---- $LOG_DIR/slurmd.log (tail)" >&2; tail -n 15 "$LOG_DIR/slurmd.log" >&2 || true
            die "node $NODE not idle within ${TIMEOUT} s (state: '${state:-no answer from slurmctld}'); logs above"
        fi
        sleep 1
    done
}

# stop one daemon this script started (pid recorded in $RUN_DIR)
stop_daemon() {
    local name="$1" pid i
    pid="$(pid_of "$RUN_DIR/$name.pid" "$name" || true)"
    if [ -z "$pid" ]; then
        rm -f "$RUN_DIR/$name.pid"
        return 0
    fi
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$name.pid"
}

# ---------------------------------------------------------------- actions
do_start() {
    need_root
    local t0
    t0=$(date +%s)
    install_packages
    mkdir -p "$RUN_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR"
    local changed
    changed="$(write_conf)"
    if [ "$changed" = "changed" ]; then
        say "wrote $CONF (node $NODE: CPUs=$(machine_cpus) RealMemory=$(machine_mem_mb) MB, partition $PARTITION)"
        # daemons started with another configuration must be restarted
        stop_daemon slurmd
        stop_daemon slurmctld
    fi
    start_munge
    start_slurmctld
    start_slurmd
    wait_node_ready
    say "ready in $(( $(date +%s) - t0 )) s"
    sinfo
}

do_stop() {
    need_root
    if [ ! -d "$RUN_DIR" ]; then
        say "nothing to stop (no daemons started by this script)"
        return 0
    fi
    if pid_of "$CTLD_PID" slurmctld >/dev/null && grep -qF "$MARKER" "$CONF" 2>/dev/null; then
        # worker jobs left behind would keep running under slurmstepd after slurmd is gone
        if [ -n "$(squeue -h -p "$PARTITION" -o '%i' 2>/dev/null)" ]; then
            say "cancelling the jobs in partition $PARTITION"
            scancel -p "$PARTITION" 2>/dev/null || true
            local i
            for i in $(seq 1 30); do
                [ -z "$(squeue -h -p "$PARTITION" -o '%i' 2>/dev/null)" ] && break
                sleep 0.5
            done
        fi
    fi
    stop_daemon slurmd
    stop_daemon slurmctld
    stop_daemon munged
    say "stopped"
}

do_status() {
    local ok=0 name pidfile pid
    for name in munged slurmctld slurmd; do
        case "$name" in
            munged) pidfile="$MUNGE_PID" ;;
            slurmctld) pidfile="$CTLD_PID" ;;
            slurmd) pidfile="$SLURMD_PID" ;;
        esac
        if pid="$(pid_of "$pidfile" "$name")"; then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running"
            ok=1
        fi
    done
    if command -v sinfo >/dev/null 2>&1; then
        sinfo 2>&1 || ok=1
        squeue 2>&1 || true
    else
        echo "sinfo: not installed"
        ok=1
    fi
    case "$(node_state || true)" in
        idle|mixed|allocated|completing) ;;
        *) ok=1 ;;
    esac
    return "$ok"
}

case "$ACTION" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
