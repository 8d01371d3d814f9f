#!/bin/sh
# The GPU check's one command (issue 14), for a machine with or without make:
#     sh benchmarks/gpu_check.sh [--only SECTION,...] [--out DIR] [--dry-run] ...
# Uses $GPU_PYTHON (default python3). Where .gpu-wheels/ (`make gpu-wheels`) holds wheels for
# this Python (its TARGET file names the tag, e.g. cp312), installs them without network or
# dependencies into a folder put first on PYTHONPATH, so that the machine's own torch, CuPy and
# JAX are used. The repository root goes on PYTHONPATH too, for the check and its Dask workers.
set -e
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${GPU_PYTHON:-python3}
SITE=${GPU_SITE:-/tmp/scatflow-gpu-site}
TAG=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
if [ -f .gpu-wheels/TARGET ]; then
    if [ "$(cat .gpu-wheels/TARGET)" = "$TAG" ]; then
        echo "installing .gpu-wheels/*.whl into $SITE (no network, no dependencies)"
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
            --upgrade --target "$SITE" .gpu-wheels/*.whl
        PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    else
        echo ".gpu-wheels/ holds wheels for $(cat .gpu-wheels/TARGET), this Python is $TAG:" \
             "using its own packages"
    fi
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
PYTHONUNBUFFERED=1 exec "$PYTHON" benchmarks/gpu_check.py "$@"
