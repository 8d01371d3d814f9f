"""Every frontend reproduces Kymatio's fixtures, and so the NumPy frontend's numbers, within
DESIGN.md's tolerances: one parametrized test over frontends x fixtures x dtypes.

The Keras layers run in one subprocess per Keras backend (Keras fixes its backend at import),
float32 only (Keras's default compute dtype), on the torch and TensorFlow backends: on the JAX
backend a layer runs the JAX backend's compiled program, whose numbers are the JAX frontend's
here, and XLA compiles each fixture's program for seconds (the Keras layers on JAX are compared
with scatflow.numpy in tests/keras_checks.py)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from frontend_outputs import SIGNAL_NDIM, keras_supports, run, transform_of
from reference import FIXTURES, fixture_error, list_error, load_fixture

# JTFS fixtures: tests/core/test_time_frequency.py (no Keras or scikit-learn JTFS frontend yet)
FILES = [p for p in sorted(FIXTURES.glob("kymatio-*.npz")) if transform_of(p) in SIGNAL_NDIM]
# DESIGN.md's tolerances by transform and input dtype
TOLERANCE = {("1d", "float64"): 1e-8, ("1d", "float32"): 3e-5, ("2d", "float64"): 5e-6,
             ("2d", "float32"): 5e-6, ("3d", "float64"): 3e-4, ("3d", "float32"): 3e-4}
FRAMEWORKS = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax", "sklearn": "sklearn",
              "keras-torch": "keras", "keras-tensorflow": "keras"}
KERAS_BACKENDS = ("torch", "tensorflow")


def error(path, out):
    """DESIGN.md's metric against the fixture (a list output: one channel per coefficient)."""
    if isinstance(out, list):
        _, _, data = load_fixture(path)
        return list_error(out, [data[k] for k in sorted(k for k in data.files if k.startswith("coef_"))])
    return fixture_error(path, out, SIGNAL_NDIM[transform_of(path)])


@pytest.fixture(scope="module")
def keras_outputs(tmp_path_factory):
    """{keras backend: {fixture name: output}}, each backend computed in one subprocess."""
    pytest.importorskip("keras")
    outputs = {}
    paths = [str(p) for p in FILES if keras_supports(p)]
    for backend in KERAS_BACKENDS:
        pytest.importorskip(backend)
        target = tmp_path_factory.mktemp("keras") / f"{backend}.npz"
        env = dict(os.environ, KERAS_BACKEND=backend)
        subprocess.run([sys.executable, str(Path(__file__).parent / "frontend_outputs.py"),
                        str(target), *paths], check=True, env=env, timeout=600)
        with np.load(target) as data:
            outputs[backend] = {name: data[name] for name in data.files}
    return outputs


def applicable(frontend, path, dtype):
    """Keras layers compute in float32 and, like the scikit-learn transformers, return arrays
    only (no 1D T=0 list output)."""
    if frontend.startswith("keras") and dtype == "float64":
        return False
    return frontend in ("numpy", "torch", "tensorflow", "jax") or keras_supports(path)


CASES = [(frontend, path, dtype) for dtype in ("float64", "float32")
         for frontend in ("numpy", "torch", "tensorflow", "jax", "sklearn",
                          *(f"keras-{backend}" for backend in KERAS_BACKENDS))
         for path in FILES if applicable(frontend, path, dtype)]


@pytest.mark.parametrize("frontend, path, dtype", CASES,
                         ids=[f"{d}-{f}-{p.stem}" for f, p, d in CASES])
def test_frontend_reproduces_the_fixture(frontend, path, dtype, request):
    if frontend != "numpy":
        pytest.importorskip(FRAMEWORKS[frontend])
    if frontend.startswith("keras"):
        out = request.getfixturevalue("keras_outputs")[frontend.split("-")[1]][path.name]
    else:
        out = run(frontend, path, dtype)
    assert error(path, out) <= TOLERANCE[transform_of(path), dtype]
