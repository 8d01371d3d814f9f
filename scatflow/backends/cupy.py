"""CuPy backend: the NumPy backend's code on CuPy arrays and cupyx.scipy.fft, on the input's GPU.

CuPy is imported when this backend is first used (`get_backend("cupy")`), never by
`import scatflow`. Any NumPy-like namespace can stand in for it (`CupyBackend(numpy,
scipy.fft)`), which is how the tests exercise this file without a GPU.
"""

import contextlib

from .numpy import NumpyBackend


class CupyBackend(NumpyBackend):
    """NumpyBackend on `xp` (default cupy) and `fft` (default cupyx.scipy.fft): the batch runs
    as one job (the GPU parallelizes inside each call) on the input's device."""

    name = "cupy"

    def __init__(self, xp=None, fft=None):
        if xp is None:
            import cupy
            import cupyx.scipy.fft

            xp, fft = cupy, cupyx.scipy.fft
        super().__init__(xp=xp, fft=fft, threads=1)

    def device(self, x):
        return getattr(x, "device", None) if self._has_devices() else None

    def on_device(self, device):
        return device if device is not None and self._has_devices() else contextlib.nullcontext()

    def _has_devices(self):
        return hasattr(self.xp, "cuda")


def __getattr__(name):
    """`backend`, the shared instance, made (and CuPy imported) on first access."""
    if name == "backend":
        globals()["backend"] = CupyBackend()
        return globals()["backend"]
    raise AttributeError(name)
