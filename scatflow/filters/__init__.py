"""Filter banks, NumPy only: built once per parameter set (lru_cache; the large 3D bank only
while something holds it, `harmonic3d.cached_while_held`) and returned read-only."""

import numpy as np


def read_only(a):
    """`a` as a C-contiguous array that cannot be written (banks are shared through caches)."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def decimated_circulant(fourier, positions):
    """Rows `positions` of the periodic convolution with the real kernel whose DFT is `fourier`
    (n,): the matrix `(len(positions), n)` whose product with a length-n signal gives the
    filtered signal at those samples (a low-pass followed by decimation, as a matrix)."""
    n = fourier.shape[0]
    kernel = np.real(np.fft.ifft(fourier))
    return kernel[(np.asarray(positions)[:, None] - np.arange(n)[None, :]) % n]


def significant_blocks(filters, factor, eps):
    """The blocks (one tuple of block numbers per axis) of the trailing two axes of `filters`
    `(..., M, N)`, cut into factor x factor blocks of M / factor x N / factor, where some
    filter reaches `eps` times the largest magnitude of all: a periodization by `factor` may
    sum these blocks alone."""
    *_, M, N = filters.shape
    magnitude = np.abs(filters).reshape(-1, M, N).max(axis=0)
    blocks = magnitude.reshape(factor, M // factor, factor, N // factor).max(axis=(1, 3))
    return tuple((int(r), int(c)) for r, c in zip(*np.nonzero(blocks >= eps * magnitude.max())))
