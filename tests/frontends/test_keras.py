"""scatflow.keras on each Keras backend: Keras fixes its backend at first import, so
`tests/frontends/keras_checks.py` runs every check for one backend in one subprocess and each
check becomes one test here (see that file for what each check does)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keras_checks import CHECKS

HERE = Path(__file__).parent
pytest.importorskip("keras")


def run_keras(backend, args, timeout=300):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=HERE.parents[1])  # the repository root


@pytest.fixture(scope="module", params=["tensorflow", "torch", "jax"])
def results(request, tmp_path_factory):
    """{check: 'ok' or traceback} for one Keras backend, from one subprocess."""
    backend = request.param
    pytest.importorskip(backend)
    target = tmp_path_factory.mktemp(f"keras-{backend}") / "results.json"
    done = run_keras(backend, [str(HERE / "keras_checks.py"), str(target)], timeout=600)
    assert done.returncode == 0 and target.exists(), done.stderr[-4000:]
    return json.loads(target.read_text())


@pytest.mark.parametrize("check", CHECKS)
def test_keras_check(results, check):
    assert results[check] == "ok", results[check]


@pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                    reason="Keras's numpy backend needs jax installed (the refusal itself is "
                           "checked with a simulated backend in keras_checks.py)")
def test_other_keras_backend_is_refused_clearly():
    code = ("import scatflow.keras as layers\n"
            "try:\n    layers.Scattering2D(J=1)\nexcept RuntimeError as e:\n    print(e)\n")
    done = run_keras("numpy", ["-c", code])
    assert done.returncode == 0, done.stderr[-4000:]
    assert "'numpy'" in done.stdout and "'tensorflow', 'torch', 'jax'" in done.stdout
