#!/usr/bin/env bash
# Runs every peer benchmark of benches/peers/ and prints their JSON lines
# (shared/BENCHMARKS.md format) on stdout; progress goes to stderr.
#
#   bash benches/peers/run_all.sh [--quick] [--threads N] [--runs N] [--only PATTERNS] [--table] > peers.jsonl
#
# Creates the virtual environment first (setup.sh; a no-op once complete).
# Scripts: linreg (W1, W1b, W1c), mlp (W2, W2b), autodiff (W3, W3b),
# sweep (W4), triad (memory bandwidth and matmul peak: the physical limits).
# csv_load.py and optimizer_step.py are run too when present.
# Exit status is non-zero if any script failed; the others still run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh" >&2 || exit 1
py="$here/.venv/bin/python"
status=0
for s in linreg mlp autodiff sweep csv_load optimizer_step triad; do
  [[ -f "$here/$s.py" ]] || continue
  echo "## $s.py $*" >&2
  "$py" "$here/$s.py" "$@" || { echo "## $s.py FAILED" >&2; status=1; }
done
exit $status
