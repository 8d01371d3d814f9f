"""NumPy backend on scipy.fft: the reference implementation of the backend interface.

Every primitive works on the trailing `ndim` axes (the signal axes) and broadcasts over the
leading ones, so a core can stack filters on an extra axis and run one call for many paths.
Another array library (CuPy, ...) reuses this class with its own `xp` and `fft` namespaces.

CPU parallelism: `scatflow.core.batches` runs the core on slices of the batch in `threads`
threads (NumPy and pocketfft release the GIL), each with single-threaded FFTs. A batch it does
not split (one signal, or under 2 x MIN_SLICE_SAMPLES padded samples in all, `scatflow.tuning`)
runs in the calling thread: with `threads` FFT workers where it holds at least `threads` x
MIN_SLICE_SAMPLES padded samples (a large signal), else with single-threaded FFTs.
"""

import functools

import numpy
import scipy.fft

from .base import Backend, default_threads


class NumpyBackend(Backend):
    """Scattering primitives for NumPy-like arrays (`xp`) and a scipy.fft-like module (`fft`)."""

    name = "numpy"

    def __init__(self, xp=numpy, fft=scipy.fft, threads=None):
        self.xp = xp
        self._fft = fft
        self.threads = default_threads() if threads is None else threads
        self._fft_kwargs = {"workers": self.threads} if fft is scipy.fft else {}

    def worker_backend(self):
        """Batch slices run in parallel threads, each with single-threaded FFTs."""
        return type(self)(self.xp, self._fft, threads=1)

    def threads_split(self):
        """BLAS (the 2D low-pass products) single-threaded while the batch is split over
        threads: each thread starting BLAS's own threads would oversubscribe the cores.
        The limit is process-wide for that time (threadpoolctl)."""
        return _blas_controller().limit(limits=1, user_api="blas")

    # -- conversion ----------------------------------------------------------------------------
    def is_array(self, x):
        return isinstance(x, self.xp.ndarray)

    def input_dtype(self, x):
        """`x`'s dtype as NumPy describes it (byte order included), for `compute_dtype`."""
        return x.dtype

    def asarray(self, a, dtype=None, device=None):
        """`a` as this backend's array with NumPy dtype `dtype`, on `device` if given."""
        with self.on_device(device):
            return self.xp.asarray(a, dtype=dtype)

    def filter_array(self, a, single, device=None):
        """A NumPy filter as this backend's array on `device`, in single or double precision;
        real filters stay real (half the memory of complex ones)."""
        if a.dtype.kind == "c":
            dtype = self.xp.complex64 if single else self.xp.complex128
        else:
            dtype = self.xp.float32 if single else self.xp.float64
        with self.on_device(device):
            return self.xp.asarray(a, dtype=dtype)

    # -- Fourier transforms over the trailing `ndim` axes --------------------------------------
    def fft(self, x, ndim):
        return self._fft.fftn(x, axes=tuple(range(-ndim, 0)), **self._fft_kwargs)

    def ifft(self, x, ndim, overwrite=False):
        """Inverse FFT; `overwrite=True` lets it reuse `x`'s memory (a temporary of the caller)."""
        return self._fft.ifftn(x, axes=tuple(range(-ndim, 0)), overwrite_x=overwrite,
                               **self._fft_kwargs)

    def irfft(self, x, shape):
        """Inverse of a Hermitian spectrum given by its first `shape[-1] // 2 + 1` columns."""
        return self._fft.irfftn(x, s=shape, axes=tuple(range(-len(shape), 0)), **self._fft_kwargs)

    # -- pointwise -----------------------------------------------------------------------------
    def writes_in_place(self, x, filters):
        return self.xp is numpy

    def empty(self, shape, like):
        return self.xp.empty(shape, like.dtype)

    def zeros_along(self, like, n):
        """Zeros of `like`'s dtype and shape, but n long on the last axis."""
        return self.xp.zeros(tuple(like.shape[:-1]) + (n,), like.dtype)

    def multiply_into(self, a, b, out):
        self.xp.multiply(a, b, out=out)

    def modulus(self, x):
        return self.xp.abs(x)

    def modulus_squared(self, x):
        return self.xp.abs(x) ** 2

    def sqrt(self, x):
        """Square root; differentiable backends must give it a finite gradient at 0."""
        return self.xp.sqrt(x)

    def power(self, x, p):
        return x**p

    def isnan(self, x):
        return self.xp.isnan(x)

    def where(self, condition, x, y):
        """x where `condition`, else y (arrays or Python numbers, in the arrays' dtype)."""
        return self.xp.where(condition, x, y)

    # -- shape ---------------------------------------------------------------------------------
    def pad(self, x, pads, mode):
        """Pad the trailing len(pads) axes by `pads` in `mode` ("reflect", "symmetric", "zero")."""
        widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
        return self.xp.pad(x, widths, mode="constant" if mode == "zero" else mode)

    def reshape(self, x, shape):
        return x.reshape(shape)

    def concatenate(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def stack(self, arrays, axis):
        return self.xp.stack(arrays, axis=axis)

    def take(self, x, indices, axis):
        return self.xp.take(x, self.xp.asarray(indices), axis=axis)

    def sum(self, x, axes):
        return x.sum(axis=axes)

    def matmul(self, a, b):
        """Matrix product over the trailing two axes, broadcasting the leading ones."""
        return self.xp.matmul(a, b)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (found once: a few ms)."""
    import threadpoolctl

    return threadpoolctl.ThreadpoolController()


backend = NumpyBackend()
