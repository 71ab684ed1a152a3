#!/usr/bin/env bash
# W4 sweep scaling beyond the 2 cores of the development machine: runs the W4
# bench (`xtask bench sweep`, which times the whole sweep on every core it may use
# and on one) pinned with taskset to 1, 2, 4, ... cores up to all of them, then
# the PyTorch process-pool peer on every core. One JSON line per measurement.
#
#   XTASK=target/release/xtask PYTHON=benches/peers/.venv/bin/python bash benches/scaling.sh
#
# The xtask binary finds experiments/ and datasets/ at the path it was built in;
# run this from that checkout (or link it there).
set -euo pipefail
XTASK=${XTASK:-target/release/xtask}
PYTHON=${PYTHON:-benches/peers/.venv/bin/python}
cores=$(nproc)
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" >&2
n=2
while [ "$n" -le "$cores" ]; do
    taskset -c "0-$((n - 1))" "$XTASK" bench sweep
    if [ "$n" -lt "$cores" ] && [ $((n * 2)) -gt "$cores" ]; then n=$cores; else n=$((n * 2)); fi
done
if [ "${PEER:-1}" = 1 ]; then
    "$PYTHON" benches/peers/sweep.py --threads "$cores" --runs 3
fi
