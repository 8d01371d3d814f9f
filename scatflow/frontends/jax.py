"""JAX frontend: the per-transform bases on JAX arrays (Kymatio's `kymatio.jax`).

`S(x)` is a pure function of `x`, compiled by `jax.jit` once per input shape and dtype with the
filters as constants (JAX's eager mode would compile each of the transform's many small
operations on first use, and dispatch them one by one after). Inside a `jit`, `grad` or `vmap`
of a model that calls it, the compiled transform is part of the traced program; `jax.grad` of
a loss through it is finite, also where the input has exact zeros (see
`scatflow.backends.jax`); `jax.vmap(S)` over a leading axis gives the batched output. The batch
runs as one program, never split over threads or looped over in Python. The output lives on the input's device.

Input: a JAX array (or a tracer); NumPy arrays, NumPy scalars and nested lists are accepted too
and converted with `jnp.asarray`, as a `jit`-compiled function's arguments are. Other array types
(torch, TensorFlow, CuPy) are a `TypeError`: convert them first.

Precision follows the input: float32 in, float32 out; float64 in, float64 out — with
`jax_enable_x64` only (`jax.config.update("jax_enable_x64", True)` or `with
jax.enable_x64(True)`); without it JAX has no float64 and the transform computes in float32, as
JAX itself does. Integers and bools become float64 (float32 without x64); float16 and bfloat16
compute in float32. The filters are converted once per dtype and device from the NumPy bank and
cached on the object.
"""

import jax
import numpy as np

from ..dispatch import type_name
from .base import compute_dtype
from .harmonic3d import HarmonicScattering3DBase
from .scattering1d import Scattering1DBase
from .scattering2d import Scattering2DBase
from .time_frequency import TimeFrequencyScatteringBase


class JaxFrontend:
    """Mixin placed first in the bases: `class Scattering2D(JaxFrontend, Scattering2DBase)`."""

    frontend_name = "jax"
    default_backend = "jax"
    array_name = "JAX array"

    @classmethod
    def allowed_backends(cls):
        return ["jax"]

    def _check_input(self, x, backend):
        """JAX arrays as they are; NumPy arrays, NumPy scalars and lists as JAX arrays of the
        dtype to compute in; anything else is a TypeError."""
        if not backend.is_array(x):
            if not isinstance(x, (np.ndarray, np.generic, list, tuple)):
                raise TypeError(f"x must be a JAX array (or a NumPy array) for the jax frontend; "
                                f"got {type_name(x)} (convert it with jax.numpy.asarray)")
            a = np.asarray(x)
            x = backend.asarray(a.astype(compute_dtype(a.dtype), copy=False))
        return super()._check_input(x, backend)

    def _coefficients(self, flat, backend):
        """The coefficients through `jax.jit`, one compiled function per transform (rebuilt when
        a parameter assigned after construction rebuilds the core); the output's format (list,
        dict, array) is applied outside, on the arrays it returns."""
        compiled = self.__dict__.get("_compiled")
        if compiled is None or compiled[0] is not self.core:
            base = super()._coefficients
            compiled = (self.core, jax.jit(lambda batch: base(batch, backend)))
            self._compiled = compiled
        return compiled[1](flat)

    def __getstate__(self):
        """Pickles and deep copies leave out the compiled function (compiled again on use)."""
        state = super().__getstate__()
        state.pop("_compiled", None)
        return state


class Scattering1D(JaxFrontend, Scattering1DBase):
    """1D Morlet scattering on JAX arrays (Kymatio's `kymatio.jax.Scattering1D`)."""


class Scattering2D(JaxFrontend, Scattering2DBase):
    """2D Morlet scattering on JAX arrays (Kymatio's `kymatio.jax.Scattering2D`)."""


class HarmonicScattering3D(JaxFrontend, HarmonicScattering3DBase):
    """3D solid-harmonic scattering on JAX arrays (Kymatio's `kymatio.jax.HarmonicScattering3D`)."""


class TimeFrequencyScattering(JaxFrontend, TimeFrequencyScatteringBase):
    """Joint time-frequency scattering on JAX arrays (Kymatio main's
    `kymatio.jax.TimeFrequencyScattering`)."""


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
