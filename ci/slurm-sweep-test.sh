#!/usr/bin/env bash
# A sweep through a real Slurm cluster, checked against the same sweep run locally.
# Runs inside ci/slurm-localhost.sh (which sets SLURM_CONF); started by ci/slurm-test.sh:
#
#     bash ci/slurm-localhost.sh bash ci/slurm-sweep-test.sh path/to/descent
#
# 1. `descent run` runs experiments/slurm-smoke.toml locally: the reference.
# 2. `descent slurm --tasks 4 --submit` submits it as a 4-task job array plus a merge job.
# 3. Task 2 is cancelled (scancel) once some but not all of its runs finished; Slurm then
#    cancels the merge job, whose dependency can no longer be met.
# 4. `descent slurm --only 2 --submit` resubmits task 2 and a new merge job; the runs task 2
#    finished before are not run again (their files are untouched).
# 5. The merged runs.jsonl must hold every run exactly once and equal the local one run for
#    run, times aside; the report must have been written.
set -euo pipefail
cd "$(dirname "$0")/.."

descent=$(realpath "${1:?usage: slurm-sweep-test.sh DESCENT}")
experiment=experiments/slurm-smoke.toml
tasks=4
work=${SLURM_LOCALHOST_DIR:?run this inside ci/slurm-localhost.sh}/sweep
out=$work/cluster
mkdir -p "$work"

say() { printf '[slurm-sweep %3ds] %s\n' "$SECONDS" "$*"; }
fail() {
    say "FAILED: $*"
    for f in "$out"/slurm/logs/*.out; do
        [[ -f $f ]] || continue
        say "---- $f"
        tail -n 20 "$f"
    done
    exit 1
}

# The state of every job (array tasks one by one) in $1, as "ID STATE" lines; Slurm keeps
# finished jobs for MinJobAge seconds, which ci/slurm-localhost.sh sets to an hour.
job_states() { scontrol -o show job "$1" 2>/dev/null | sed -E 's/^JobId=([0-9]+) .*ArrayJobId=([0-9]+) ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+).*/\2_\3 \4/; s/^JobId=([0-9]+) .*JobState=([A-Z_]+).*/\1 \2/'; }
in_queue() { [[ -n $(squeue -h -j "$1" -o %i 2>/dev/null) ]]; }
wait_gone() { # job, seconds
    local deadline=$((SECONDS + $2))
    while in_queue "$1"; do
        ((SECONDS < deadline)) || fail "job $1 still queued after $2 s: $(squeue 2>&1)"
        sleep 0.5
    done
}
finished_runs() { find "$1/runs" -maxdepth 1 -name '*.json' ! -name '.*' 2>/dev/null | wc -l; }

total=$("$descent" run "$experiment" --dry-run | sed -nE 's/.*valid; ([0-9]+) runs.*/\1/p')
share=$(((total + tasks - 1) / tasks))
say "$experiment: $total runs, $tasks tasks of at most $share"
((total >= 16)) || fail "the smoke sweep must have at least 16 runs, it has $total"

# ------------------------------------------------------------------ 1. the local reference
say "local: descent run $experiment --out $work/local"
"$descent" run "$experiment" --out "$work/local" --plain 2>&1 | tail -n 2

# ------------------------------------------------------------------ 2. submit the array
submit=$("$descent" slurm "$experiment" --tasks "$tasks" --cpus-per-task 1 --time 10 \
    --output-dir "$out" --submit)
printf '%s\n' "$submit"
array=$(sed -nE 's/^array job ([0-9]+):.*/\1/p' <<<"$submit")
merge=$(sed -nE 's/^merge job ([0-9]+):.*/\1/p' <<<"$submit")
[[ -n $array && -n $merge ]] || fail "no job ids in the output of descent slurm --submit"
grep -q "^#SBATCH --array=0-$((tasks - 1))$" "$out/slurm/array.sbatch" || fail "no --array line"
say "array job $array, merge job $merge (dependency: $(scontrol -o show job "$merge" | grep -o 'Dependency=[^ ]*'))"

# ------------------------------------------------------------------ 3. cancel task 2 midway
victim=2
shard=$out/shards/task-$victim
deadline=$((SECONDS + 240))
until [[ $(job_states "$array" | awk -v t="${array}_$victim" '$1 == t {print $2}') == RUNNING ]] &&
    (($(finished_runs "$shard") >= 1)); do
    ((SECONDS < deadline)) || fail "task $victim never ran with a finished run: $(job_states "$array" | xargs)"
    sleep 0.05
done
scancel "${array}_$victim"
say "cancelled task ${array}_$victim with $(finished_runs "$shard") of its runs finished"
wait_gone "$array" 240
wait_gone "$merge" 60
states=$(job_states "$array" | sort | xargs)
say "array job after the cancel: $states"
[[ $(job_states "$array" | awk -v t="${array}_$victim" '$1 == t {print $2}') == CANCELLED ]] ||
    fail "task $victim is not CANCELLED: $states"
merge_state=$(job_states "$merge" | awk '{print $2}')
say "merge job $merge: ${merge_state:-gone} (its dependency can no longer be met)"
[[ ${merge_state:-CANCELLED} == CANCELLED ]] || fail "merge job $merge ran although task $victim was cancelled"
[[ ! -e $out/merged/runs.jsonl ]] || fail "a merged runs.jsonl exists after a cancelled task"
done_before=$(finished_runs "$shard")
mine=$("$descent" run "$experiment" --tasks "$tasks" --task-index "$victim" --dry-run | grep -c '^ *[0-9]')
((done_before >= 1 && done_before < mine)) ||
    fail "task $victim was not cancelled midway: $done_before of $mine runs finished (runs too fast?)"
say "task $victim: $done_before of its $mine runs finished before the cancel"
before=$(cd "$shard/runs" && stat -c '%n %i %Y' -- *.json | sort)

# ------------------------------------------------------------------ 4. resubmit task 2
submit=$("$descent" slurm "$experiment" --tasks "$tasks" --cpus-per-task 1 --time 10 \
    --output-dir "$out" --only "$victim" --submit)
printf '%s\n' "$submit"
array2=$(sed -nE 's/^array job ([0-9]+):.*/\1/p' <<<"$submit")
merge2=$(sed -nE 's/^merge job ([0-9]+):.*/\1/p' <<<"$submit")
[[ -n $array2 && -n $merge2 ]] || fail "no job ids from the resubmission"
wait_gone "$array2" 240
wait_gone "$merge2" 120
say "resubmitted task: $(job_states "$array2" | xargs); merge job: $(job_states "$merge2" | xargs)"
[[ $(job_states "$array2" | awk '{print $2}' | sort -u | xargs) == COMPLETED ]] || fail "resubmitted task did not complete"
[[ $(job_states "$merge2" | awk '{print $2}') == COMPLETED ]] || fail "merge job $merge2 did not complete"
after=$(cd "$shard/runs" && stat -c '%n %i %Y' -- *.json | sort)
[[ $(join <(printf '%s\n' "$before") <(printf '%s\n' "$after") | wc -l) -eq $done_before ]] ||
    fail "runs finished before the cancel were written again"
while read -r line; do
    grep -qxF "$line" <<<"$after" || fail "run file changed by the resubmission: $line"
done <<<"$before"
[[ $(finished_runs "$shard") -eq $mine ]] || fail "task $victim has $(finished_runs "$shard") of $mine runs"
say "task $victim resumed: its $done_before earlier runs were kept untouched, $((mine - done_before)) more ran"
grep -h '^descent: task' "$out"/slurm/logs/*.out | sort | uniq -c | sed 's/^/[slurm-sweep]   /'
grep -q "on 1 threads" "$out/slurm/logs/descent-slurm-smoke-${array2}_$victim.out" ||
    fail "the task did not run on the 1 core Slurm granted it"

# ------------------------------------------------------------------ 5. compare
[[ -s $out/merged/report.md ]] || fail "the merge job wrote no report.md"
python3 - "$work/local/runs.jsonl" "$out/merged/runs.jsonl" "$total" <<'EOF'
import json, sys

TIMES = {"wall_seconds", "seconds"}  # what may differ between two runs of the same sweep


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


local, merged, total = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
ids = [r["id"] for r in merged]
problems = []
if len(local) != total:
    problems.append(f"local sweep has {len(local)} runs, expected {total}")
if len(ids) != len(set(ids)):
    dup = sorted({i for i in ids if ids.count(i) > 1})
    problems.append(f"merged runs.jsonl repeats runs: {dup}")
by_id = {r["id"]: r for r in merged}
missing = [r["id"] for r in local if r["id"] not in by_id]
extra = sorted(set(by_id) - {r["id"] for r in local})
if missing:
    problems.append(f"runs missing from the merge: {missing}")
if extra:
    problems.append(f"runs in the merge that the local sweep does not have: {extra}")
differ = [r["id"] for r in local if r["id"] in by_id and strip(r) != strip(by_id[r["id"]])]
if differ:
    r = next(r for r in local if r["id"] == differ[0])
    keys = [k for k in r if k not in TIMES and strip(r.get(k)) != strip(by_id[differ[0]].get(k))]
    problems.append(f"{len(differ)} runs differ, first {differ[0]} in {keys}")
if [r["index"] for r in merged] != sorted(r["index"] for r in merged):
    problems.append("merged runs.jsonl is not in run order")
statuses = sorted({r["status"] for r in merged})
if problems:
    print("\n".join("[slurm-sweep] MISMATCH: " + p for p in problems))
    sys.exit(1)
print(
    f"[slurm-sweep] merged runs.jsonl: {len(merged)} runs, each once, equal run for run to the "
    f"local sweep apart from times (statuses: {', '.join(statuses)})"
)
EOF
say "report: $(head -n 1 "$out/merged/report.md")"
say "all checks passed"
