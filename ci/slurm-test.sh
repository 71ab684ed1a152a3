#!/usr/bin/env bash
# descent on a real Slurm: builds the `descent` program, starts a one-node Slurm cluster on this
# machine (ci/slurm-localhost.sh: installs slurm-wlm and munge, needs root), and runs
# ci/slurm-sweep-test.sh against it: a sweep submitted with `descent slurm --submit`, merged by
# its follow-up job and compared run for run with the same sweep run locally; one task cancelled
# midway and resubmitted. Everything started is stopped at the end, on failure too.
#
#     sudo bash ci/slurm-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== descent slurm: building descent"
cargo build -q -p descent-runner --bin descent
target_dir=$(cargo metadata -q --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
descent="$target_dir/debug/descent"
[[ -x $descent ]] || {
    echo "no descent program at $descent" >&2
    exit 1
}

echo "== descent slurm: a sweep on a localhost Slurm cluster"
exec timeout 540 bash ci/slurm-localhost.sh bash ci/slurm-sweep-test.sh "$descent"
