"""The CuPy backend: its code runs here with NumPy standing in for CuPy; on a machine with a CUDA
GPU and CuPy the `gpu` tests run the real thing (and skip cleanly elsewhere)."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import scipy.fft

import scatflow.numpy as snp
from scatflow.backends.cupy import CupyBackend

CASES = [
    ("Scattering1D", dict(J=4, shape=256, Q=(4, 2)), (3, 256)),
    ("Scattering1D", dict(J=3, shape=128, T=0, out_type="list"), (2, 128)),
    ("Scattering2D", dict(J=2, shape=(20, 24), L=4), (2, 20, 24)),
    ("HarmonicScattering3D", dict(J=2, shape=(12, 12, 12), L=2), (2, 12, 12, 12)),
    ("Scattering2D", dict(J=2, shape=(20, 24), L=4, average=False, out_type="list"),
     (2, 20, 24)),
    ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1, average=False, out_type="list"),
     (2, 8, 8, 8)),
]


def as_arrays(out):
    return [item["coef"] for item in out] if isinstance(out, list) else [out]


@pytest.mark.parametrize("name, kwargs, shape", CASES)
def test_cupy_backend_code_with_numpy_standing_in(name, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    reference = getattr(snp, name)(**kwargs)(x)
    standing_in = getattr(snp, name)(backend=CupyBackend(np, scipy.fft), **kwargs)(x)
    for ours, ref in zip(as_arrays(standing_in), as_arrays(reference)):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_cupy_is_imported_only_when_the_backend_is_used():
    code = "import sys, scatflow.backends.cupy; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_numpy_frontend_picks_the_backend_from_the_input_type():
    cupy_like = type("ndarray", (), {"__module__": "cupy._core.core"})()
    assert snp.Scattering2D.backend_name_for(cupy_like) == "cupy"
    assert snp.Scattering2D.backend_name_for(np.zeros(3)) == "numpy"


def test_explicit_numpy_backend_refuses_other_arrays():
    cupy_like = type("ndarray", (), {"__module__": "cupy._core.core"})()
    S = snp.Scattering2D(J=1, shape=(8, 8), backend="numpy")
    with pytest.raises(TypeError, match="numpy array for backend 'numpy'; got cupy"):
        S(cupy_like)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cupy_backend_without_cupy_is_a_clear_import_error():
    with pytest.raises(ImportError, match=r"scatflow\[gpu\]"):
        snp.Scattering2D(J=1, shape=(8, 8), backend="cupy")


@pytest.mark.gpu
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("name, kwargs, shape", CASES)
def test_cupy_input_runs_on_the_gpu_and_matches_numpy(name, kwargs, shape, dtype, tol, cupy_gpu):
    cupy = cupy_gpu
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    S = getattr(snp, name)(**kwargs)
    reference = S(x)
    out = S(cupy.asarray(x))
    for ours, ref in zip(as_arrays(out), as_arrays(reference)):
        assert isinstance(ours, cupy.ndarray) and ours.dtype == dtype
        np.testing.assert_allclose(cupy.asnumpy(ours), ref, rtol=0, atol=tol * np.abs(ref).max())


@pytest.mark.gpu
@pytest.mark.cuda_devices(2)
def test_cupy_output_stays_on_the_input_device(cupy_gpu):
    cupy = cupy_gpu
    S = snp.Scattering2D(J=2, shape=(16, 16), L=4)
    with cupy.cuda.Device(1):
        x = cupy.random.standard_normal((2, 16, 16))
    out = S(x)
    assert out.device.id == 1
