#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for testing descent's Slurm support.
#
#   bash ci/slurm-localhost.sh                  # start it, run a 4-task job array through it, stop it
#   bash ci/slurm-localhost.sh CMD [ARGS...]    # ... then run CMD against the cluster before stopping
#
# Needs root and Debian (or Ubuntu): installs `slurm-wlm` and `munge` with apt-get when they are
# missing, writes a minimal slurm.conf for this host (node line from `slurmd -C`, proctrack/linuxproc,
# task/none, no cgroups, no accounting), creates a fresh munge key, starts munged, slurmctld and
# slurmd by hand (no systemd), waits until the node is idle, and stops everything when it exits,
# whether it succeeded or not. Everything it writes lives under one temporary directory.
#
# CMD runs with SLURM_CONF set (so sbatch, squeue, scancel, scontrol talk to this cluster) and with
# SLURM_LOCALHOST_DIR naming that directory. The daemons' logs are printed when anything fails.
#
# Environment: SLURM_LOCALHOST_PORT (default 6817; slurmd uses the next port),
#              SLURM_LOCALHOST_KEEP=1 keeps the temporary directory after exit.
set -euo pipefail

log() { printf '[slurm-localhost %3ds] %s\n' "$SECONDS" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts the Slurm daemons)"

# ---------------------------------------------------------------- install
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge from the Debian archive"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
log "$(slurmd -V)"

# ---------------------------------------------------------------- layout
PORT=${SLURM_LOCALHOST_PORT:-6817}
DIR=$(mktemp -d /tmp/slurm-localhost.XXXXXX)
chmod 0755 "$DIR"
mkdir -p "$DIR/munge" "$DIR/munge-socket" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run" "$DIR/jobs"
chown munge:munge "$DIR/munge" "$DIR/munge-socket" "$DIR/log"
chmod 0700 "$DIR/munge"     # the key: munge's alone
chmod 0755 "$DIR/munge-socket" # the socket: every client must reach it
export SLURM_CONF=$DIR/slurm.conf
export SLURM_LOCALHOST_DIR=$DIR
MUNGE_SOCKET=$DIR/munge-socket/munge.socket

PIDS=() # daemons we started, in start order
NAMES=()

show_logs() {
    local f
    for f in "$DIR"/log/*.log; do
        [[ -s $f ]] || continue
        log "---- last lines of $f"
        tail -n 40 "$f" >&2 || true
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [[ $status -ne 0 ]]; then
        log "failed (exit $status); the daemons' logs follow"
        show_logs
    fi
    if [[ ${#PIDS[@]} -gt 0 ]] && command -v scancel >/dev/null; then
        # Cancel whatever is left in the queue, and give the step daemons time to go.
        scancel --quiet --full --partition=debug 2>/dev/null
        local i
        for i in $(seq 1 30); do
            [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break
            sleep 1
        done
    fi
    local n
    for ((n = ${#PIDS[@]} - 1; n >= 0; n--)); do
        local pid=${PIDS[$n]}
        if kill -0 "$pid" 2>/dev/null; then
            log "stopping ${NAMES[$n]} (pid $pid)"
            kill -TERM "$pid" 2>/dev/null
            local t
            for t in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    # Step daemons and job processes of this cluster that outlived their slurmd (their jobs were
    # cancelled above, so normally none are left): found by this cluster's configuration file in
    # their environment (a job's processes also have SLURM_JOB_ID there).
    local p env
    for p in /proc/[0-9]*; do
        [[ ${p#/proc/} == "$$" ]] && continue
        env=$({ tr '\0' '\n' <"$p/environ"; } 2>/dev/null) || continue
        grep -qx "SLURM_CONF=$SLURM_CONF" <<<"$env" || continue
        if [[ $({ cat "$p/comm"; } 2>/dev/null) == slurmstepd ]] || grep -q '^SLURM_JOB_ID=' <<<"$env"; then
            log "stopping leftover $({ cat "$p/comm"; } 2>/dev/null) ${p#/proc/}"
            kill -KILL "${p#/proc/}" 2>/dev/null
        fi
    done
    if [[ ${SLURM_LOCALHOST_KEEP:-0} == 1 ]]; then
        log "kept $DIR"
    else
        rm -rf "$DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a daemon in the foreground of a background job, so that its pid is ours to stop.
start() {
    local name=$1
    shift
    "$@" >>"$DIR/log/$name.stdout.log" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
    log "started $name (pid $!)"
}

# Waits up to $1 seconds for the command that follows to succeed.
wait_for() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# ---------------------------------------------------------------- munge
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$DIR/munge/munge.key"
chmod 0400 "$DIR/munge/munge.key"
start munged setpriv --reuid=munge --regid=munge --init-groups munged --foreground \
    --key-file="$DIR/munge/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/munged.seed" \
    --log-file="$DIR/log/munged.log"
wait_for 20 bash -c "munge -n -S '$MUNGE_SOCKET' | unmunge -S '$MUNGE_SOCKET'" ||
    die "munged did not answer on $MUNGE_SOCKET"
log "munge credentials round-trip"

# ---------------------------------------------------------------- slurm.conf
HOST=$(hostname -s)
NODE_LINE=$(slurmd -C | head -n 1)
[[ $NODE_LINE == NodeName=* ]] || die "slurmd -C printed no NodeName line: $NODE_LINE"
NODE=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<<"$NODE_LINE")
: >"$DIR/plugstack.conf"
cat >"$SLURM_CONF" <<EOF
# One-node cluster written by ci/slurm-localhost.sh.
ClusterName=descent-localhost
SlurmctldHost=$HOST
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$DIR/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
SlurmdTimeout=60
SchedulerParameters=sched_interval=2
InactiveLimit=0
KillWait=5
$NODE_LINE State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
log "slurm.conf: $NODE_LINE"

# ---------------------------------------------------------------- slurm daemons
start slurmctld slurmctld -D -i -f "$SLURM_CONF"
wait_for 30 scontrol ping || die "slurmctld did not come up"
start slurmd slurmd -D -f "$SLURM_CONF" -N "$NODE"
node_idle() { [[ $(sinfo -h -N -n "$NODE" -o %t) == idle ]]; }
if ! wait_for 60 node_idle; then
    scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
    wait_for 30 node_idle || die "node $NODE is not idle: $(sinfo -N -l 2>&1)"
fi
log "node $NODE is idle: $(sinfo -h -o '%P %a %D %t %c cpus')"

# Waits (up to $2 seconds) until job $1 and all its array tasks have left the queue.
wait_job() {
    local job=$1 seconds=$2
    wait_for "$seconds" bash -c "[[ -z \$(squeue -h -j '$job' -o %i 2>/dev/null) ]]"
}

# ---------------------------------------------------------------- smoke test: a 4-task array
smoke=$(sbatch --parsable --array=0-3 --output="$DIR/jobs/smoke-%A_%a.out" \
    --wrap 'echo "task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname -s)"')
log "submitted array job $smoke"
wait_job "$smoke" 60 || die "array job $smoke did not finish: $(squeue 2>&1)"
for i in 0 1 2 3; do
    out="$DIR/jobs/smoke-${smoke}_$i.out"
    [[ -f $out ]] || die "no output from task $i ($out)"
    grep -qx "task $i of job $smoke on .*" "$out" || die "task $i printed: $(cat "$out")"
    log "  $(cat "$out")"
done
states=$(scontrol -o show job "$smoke" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | xargs)
[[ $states == "4 JobState=COMPLETED" ]] || die "array job $smoke ended as: $states"
log "array job $smoke: $states"

# ---------------------------------------------------------------- the caller's command
if [[ $# -gt 0 ]]; then
    log "running: $*"
    "$@"
fi
log "done"
