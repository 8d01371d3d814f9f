"""Shared fixtures."""

import pytest


@pytest.fixture
def cupy_gpu():
    """CuPy, where it is installed and sees a CUDA device; the test is skipped otherwise."""
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except cupy.cuda.runtime.CUDARuntimeError:
        pytest.skip("no CUDA device")
    return cupy
