"""NumPy frontend: the per-transform bases on NumPy arrays, or CuPy arrays on the GPU.

`backend=None` (or "auto") follows each input: NumPy arrays run on the NumPy backend, CuPy
arrays on the CuPy backend (on the input's device, output on the same device).
"""

import functools

import numpy as np

from ..dispatch import is_cupy
from .harmonic3d import HarmonicScattering3DBase
from .scattering1d import Scattering1DBase
from .scattering2d import Scattering2DBase
from .time_frequency import TimeFrequencyScatteringBase


class NumpyFrontend:
    frontend_name = "numpy"
    default_backend = "numpy"
    array_name = "NumPy array"

    @classmethod
    def allowed_backends(cls):
        return ["numpy", "cupy"]

    @classmethod
    def backend_name_for(cls, x):
        return "cupy" if is_cupy(x) else "numpy"


class Scattering1D(NumpyFrontend, Scattering1DBase):
    """1D Morlet scattering on NumPy/CuPy arrays (Kymatio's `kymatio.numpy.Scattering1D`)."""


class Scattering2D(NumpyFrontend, Scattering2DBase):
    """2D Morlet scattering on NumPy/CuPy arrays (Kymatio's `kymatio.numpy.Scattering2D`)."""


class HarmonicScattering3D(NumpyFrontend, HarmonicScattering3DBase):
    """3D solid-harmonic scattering on NumPy/CuPy arrays (Kymatio's
    `kymatio.numpy.HarmonicScattering3D`)."""


class TimeFrequencyScattering(NumpyFrontend, TimeFrequencyScatteringBase):
    """Joint time-frequency scattering on NumPy/CuPy arrays (Kymatio main's
    `kymatio.numpy.TimeFrequencyScattering`)."""


def freeze(value):
    """A hashable stand-in for a parameter value (lists and arrays become tuples, 0-d arrays
    their NumPy scalar)."""
    if isinstance(value, np.ndarray):
        return value[()] if value.ndim == 0 else tuple(freeze(v) for v in value.tolist())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


@functools.lru_cache(maxsize=32)
def _cached(cls_name, frozen_params):
    return globals()[cls_name](**dict(frozen_params))


def cached_frontend(cls_name, frozen_params):
    """The `cls_name` frontend for `frozen_params` ((name, frozen value) pairs), built once per
    process: each Dask worker builds it, and converts its filters, once for all its tasks."""
    try:
        return _cached(cls_name, frozen_params)
    except TypeError:  # an unhashable parameter value: no cache
        return globals()[cls_name](**dict(frozen_params))


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
