#!/usr/bin/env bash
# Creates benches/peers/.venv with the pinned peer frameworks of
# requirements.txt (PyTorch, JAX, scikit-learn, pandas, pyarrow, NumPy).
# Idempotent: when the venv exists, was built from the current
# requirements.txt and imports cleanly, it does nothing.
#
#   bash benches/peers/setup.sh            # create or complete the venv
#   PYTHON=python3.12 bash benches/peers/setup.sh
#   bash benches/peers/setup.sh --force    # rebuild from scratch
#
# The peers are never a dependency of the framework or of its tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.peers-complete"
py="${PYTHON:-python3}"

if [[ "${1:-}" == "--force" ]]; then
  rm -rf "$venv"
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
check='import torch, jax, optax, sklearn, pandas, pyarrow, numpy, threadpoolctl'
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
   && JAX_PLATFORMS=cpu "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "peers venv complete: $venv"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv with $("$py" --version 2>&1)"
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
echo "installing $req (large: torch brings its CUDA runtime wheels)"
"$venv/bin/python" -m pip install --quiet -r "$req"
JAX_PLATFORMS=cpu "$venv/bin/python" -c "$check"
echo "$want" > "$stamp"
echo "peers venv complete: $venv"
