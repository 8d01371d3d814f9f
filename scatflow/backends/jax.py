"""JAX backend: jax.numpy and jax.numpy.fft on immutable arrays, eager or traced (jit, grad, vmap).

JAX arrays cannot be written in place: as in the TensorFlow backend, `writes_in_place` is False
and every primitive returns a new array. Nothing here branches on values or calls `.item()`, so
the cores trace under `jax.jit` with the signal shape fixed; batches are never split over
threads (`splits_batches`) nor into chunks (the tuning constants below): under `jit` one traced
program holds the whole batch (its size bounded as the batch grows), and XLA parallelizes
inside each call. Eager calls would run op by op, each op compiled on first use: the JAX
frontend compiles the transform with `jax.jit` instead (`scatflow.frontends.jax`).

Filters are made concrete even when first asked for inside a trace
(`jax.ensure_compile_time_eval`, TensorFlow's `init_scope`): the cached arrays are constants that
every later trace captures, never tracers that outlive their trace. Real filters stay real (JAX
multiplies complex by real).

Precision: float64 exists only with `jax_enable_x64`; without it a float64 request gives
float32 (JAX's canonical dtype, asked for explicitly so that JAX does not warn).

Differentiability: `jnp.abs` of a complex array has gradient 0 at 0 in JAX; `sqrt` and fractional
`power` are written to have gradient 0 at 0 too (not inf * 0 = NaN).
"""

import jax
import jax.numpy as jnp
import numpy

from .. import tuning
from .base import Backend


def _axes(ndim):
    return tuple(range(-ndim, 0))


def _hermitian_completion(half, n, ndim):
    """The full spectrum of a real signal (last axis n long) from its real FFT `half` over the
    trailing `ndim` axes: X[k] = conj(X[-k]), the missing columns n//2+1 .. n-1 mirrored from
    columns ceil(n/2)-1 .. 1, every other transformed axis indexed by -k (flipped, rolled by
    one)."""
    mirrored = jnp.flip(half[..., 1:(n + 1) // 2], axis=-1)
    for axis in range(-ndim, -1):
        mirrored = jnp.roll(jnp.flip(mirrored, axis=axis), 1, axis=axis)
    return jnp.concatenate([half, jnp.conj(mirrored)], axis=-1)


class JaxBackend(Backend):
    name = "jax"
    # One traced program holds the whole batch: the 3D core's loop over batch chunks would be
    # unrolled into it, its size and compile time growing with the batch (one signal per chunk
    # at 128^3). XLA plans the program's memory instead.
    harmonic3d_working_bytes = 2**62
    # JTFS multiplies groups of TIME_FREQUENCY_STEP_SIGNALS signals at a time: one group here,
    # in time slices as wide as the default plans for each signal of a group.
    time_frequency_step_signals = 2**31
    time_frequency_step_bytes = (tuning.TIME_FREQUENCY_STEP_BYTES
                                 // tuning.TIME_FREQUENCY_STEP_SIGNALS * 2**31)

    def splits_batches(self, x):
        return False

    # -- conversion ----------------------------------------------------------------------------
    def is_array(self, x):
        return isinstance(x, jax.Array)  # tracers (jit, grad, vmap) included

    def input_dtype(self, x):
        return x.dtype.name

    def device(self, x):
        """The one device a concrete array lives on; None for a tracer (the traced program
        places its constants) or an array spread over several devices."""
        if isinstance(x, jax.core.Tracer):
            return None
        devices = x.devices()
        return next(iter(devices)) if len(devices) == 1 else None

    def on_device(self, device):
        return jax.default_device(device)

    def asarray(self, a, dtype=None, device=None):
        """`a` as a JAX array with NumPy dtype `dtype` (JAX's canonical one: float32 for float64
        without `jax_enable_x64`), on `device` if given."""
        if dtype is not None:
            dtype = jax.dtypes.canonicalize_dtype(numpy.dtype(dtype))
        a = jnp.asarray(a, dtype=dtype)
        return a if device is None else jax.device_put(a, device)

    def filter_array(self, a, single, device=None):
        """A NumPy filter as a concrete JAX array on `device` in single or double precision
        (complex stays complex, real stays real), made at trace time inside `jit`."""
        kind = "complex" if a.dtype.kind == "c" else "float"
        bits = (32 if single else 64) * (2 if kind == "complex" else 1)
        dtype = jax.dtypes.canonicalize_dtype(numpy.dtype(f"{kind}{bits}"))
        with jax.ensure_compile_time_eval():
            return jax.device_put(numpy.asarray(a, dtype=dtype), device)

    # -- Fourier transforms over the trailing `ndim` axes --------------------------------------
    def fft(self, x, ndim):
        """FFT over the trailing `ndim` axes; of a real `x`, its real FFT (half the work, where
        XLA's complex FFT of a real input does it all) completed by Hermitian symmetry."""
        if jnp.iscomplexobj(x):
            return jnp.fft.fftn(x, axes=_axes(ndim))
        return _hermitian_completion(jnp.fft.rfftn(x, axes=_axes(ndim)), x.shape[-1], ndim)

    def ifft(self, x, ndim, overwrite=False):
        return jnp.fft.ifftn(x, axes=_axes(ndim))

    def irfft(self, x, shape):
        return jnp.fft.irfftn(x, s=tuple(shape), axes=_axes(len(shape)))

    # -- pointwise -----------------------------------------------------------------------------
    def zeros_along(self, like, n):
        """Zeros of `like`'s dtype and shape, but n long on the last axis."""
        return jnp.zeros(tuple(like.shape[:-1]) + (n,), like.dtype)

    def modulus(self, x):
        return jnp.abs(x)

    def modulus_squared(self, x):
        return jnp.square(x.real) + jnp.square(x.imag)

    def sqrt(self, x):
        """sqrt with gradient 0 (not NaN) where x == 0; NaN stays NaN."""
        zero = x == 0
        return jnp.where(zero, 0, jnp.sqrt(jnp.where(zero, 1, x)))

    def power(self, x, p):
        """x ** p; for 0 < p < 1 the gradient at x == 0 is 0 (not inf * 0 = NaN); NaN stays NaN."""
        if p >= 1:
            return x**p
        zero = x == 0
        return jnp.where(zero, 0, jnp.where(zero, 1, x) ** p)

    def isnan(self, x):
        return jnp.isnan(x)

    def where(self, condition, x, y):
        """x where `condition`, else y (arrays or Python numbers, in the arrays' dtype)."""
        return jnp.where(condition, x, y)

    # -- shape ---------------------------------------------------------------------------------
    def pad(self, x, pads, mode):
        """Pad the trailing len(pads) axes by `pads` in `mode` ("reflect", "symmetric", "zero")."""
        widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
        return jnp.pad(x, widths, mode="constant" if mode == "zero" else mode)

    def reshape(self, x, shape):
        return jnp.reshape(x, shape)

    def concatenate(self, arrays, axis):
        return jnp.concatenate(arrays, axis=axis)

    def stack(self, arrays, axis):
        return jnp.stack(arrays, axis=axis)

    def take(self, x, indices, axis):
        return jnp.take(x, numpy.asarray(indices), axis=axis)

    def sum(self, x, axes):
        return jnp.sum(x, axis=axes)

    def matmul(self, a, b):
        """Matrix product over the trailing two axes, broadcasting the leading ones."""
        return jnp.matmul(a, b)


backend = JaxBackend()
