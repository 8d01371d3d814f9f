"""Kymatio's 1D Morlet filter bank as a scattering uses it, built with NumPy from the filter
families of `morlet1d_design`: the levels (copies of a filter periodized for a signal decimated
by `2^k`), the padding and border indices, and the cached banks.

The levels are summed over the `2^k` blocks, as on Kymatio's main branch (#984; Kymatio 0.3.0
took the mean, which is `2^-k` times this); they are folded from the filters' bands, never from
the full rows. Banks are cached by their parameters and returned as read-only arrays.
"""

import warnings
from functools import lru_cache

import numpy as np
import scipy.fft

from . import read_only
from .morlet1d_design import (ALPHA, R_PSI, SIGMA0, band_pieces, filter_params, gauss_1d,
                              lazy_zeros, morlet_bank)


# -- levels ------------------------------------------------------------------------------------
def periodize(filters_f, k, reduction="sum"):
    """Level k of Fourier filters (..., N): the spectrum of a signal decimated by 2^k, i.e.
    the last axis folded into 2^k blocks and reduced ('sum': Kymatio main; 'mean': 0.3.0)."""
    if k == 0:
        return filters_f
    folded = filters_f.reshape(filters_f.shape[:-1] + (2**k, -1))
    return folded.sum(axis=-2) if reduction == "sum" else folded.mean(axis=-2)


def _band_levels(bank, count, reduction, used_below=None):
    """Levels 0..count-1 (`periodize`) of a `_Bank`'s filters, folded from their bands in one
    pass (views of one buffer). Level k holds only the rows with `used_below > k` where given
    (a scattering applies a wavelet of subsampling index j only to signals decimated by less
    than 2^j); its other rows are zero."""
    filters, layout = bank.filters, bank.layout
    n, N = filters.shape
    sizes = [N // 2**k for k in range(1, count)]
    buffer = lazy_zeros((n * sum(sizes),))
    offsets = np.cumsum([0] + [n * m for m in sizes])[:-1]
    used = np.arange(1, count)[:, None] < (np.inf if used_below is None else np.array(used_below))
    scales = [1.0 if reduction == "sum" else 2.0**-k for k in range(1, count)]
    for rows, ext in band_pieces(layout, np.flatnonzero(used.any(axis=0))):
        values = np.where(ext < (layout.start + layout.length)[rows, None],
                          filters[rows[:, None], ext % N], 0.0)
        for level, (offset, m, scale) in enumerate(zip(offsets, sizes, scales)):
            keep = used[level, rows]
            if keep.any():
                index = offset + rows[keep, None] * m + ext[keep] % m
                np.add.at(buffer, index, values[keep] * scale)
    levels = [buffer[offset:offset + n * m].reshape(n, m) for offset, m in zip(offsets, sizes)]
    return (filters,) + tuple(read_only(level) for level in levels)


def compute_temporal_support(h_f, criterion_amplitude=1e-3):
    """Smallest half-support t such that the l1 mass of every row of `h_f` (filters in
    Fourier, centred and symmetric) beyond t is <= `criterion_amplitude` (Kymatio's rule;
    half the length, with a warning, if none is)."""
    h_f = np.atleast_2d(h_f)
    h = np.abs(scipy.fft.ifft(h_f, axis=-1))
    half = h.shape[-1] // 2
    residual = np.cumsum(h[:, :half][:, ::-1], axis=-1)[:, ::-1].max(axis=0)
    ok = np.flatnonzero(residual <= criterion_amplitude)
    if ok.size:
        return int(ok[0]) + 1
    warnings.warn("Signal support is too small to avoid border effects", stacklevel=2)
    return half


# -- padding and border indices -----------------------------------------------------------------
@lru_cache(maxsize=256)
def compute_padding(N, T, sigma0=SIGMA0):
    """(N_pad, pad_left, pad_right): pad by three times the support of the low-pass of width
    sigma0 / T on each side, up to the next power of two, but never to more than 3N - 2."""
    support = compute_temporal_support(gauss_1d(N, sigma0 / T))
    min_to_pad = 3 * support
    J_max_support = (3 * N - 2).bit_length() - 1  # floor(log2(3N - 2))
    J_pad = min((N + 2 * min_to_pad - 1).bit_length(), J_max_support)  # ceil(log2(.))
    N_pad = 2**J_pad
    pad_left = (N_pad - N) // 2
    pad_right = N_pad - N - pad_left
    if max(pad_left, pad_right) >= N:
        raise ValueError(f"shape={N} needs a padding >= the signal length ({pad_left}, {pad_right})")
    return N_pad, pad_left, pad_right


def compute_border_indices(max_level, i0, i1):
    """Where the unpadded signal lies after decimation by 2^k, for k = 0..max_level:
    two tuples `ind_start[k]`, `ind_end[k]` (each index rounded up at every halving)."""
    start, end = [i0], [i1]
    for _ in range(max_level):
        start.append(-(-start[-1] // 2))
        end.append(-(-end[-1] // 2))
    return tuple(start), tuple(end)


# -- the bank ---------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _wavelet_bank(N, J, Q, kymatio_compat, sigma0, r_psi, alpha):
    """The `_Bank` of all wavelets of one order at full resolution, its filters read-only."""
    xi, sigma, _ = filter_params(J, Q, sigma0, r_psi, alpha, kymatio_compat)
    bank = morlet_bank(N, np.array(xi), np.array(sigma))
    if not (bank.norms > 0).all():  # a wavelet that vanishes on the grid: 0 / 0
        raise ValueError(f"J={J} is too large for a signal padded to N={N} samples: wavelets of "
                         f"bandwidth sigma0 / 2**J = {sigma0 / 2**J:.3g} vanish on its frequency "
                         f"grid (Kymatio returns NaN here); use a smaller J")
    read_only(bank.filters)
    return bank


@lru_cache(maxsize=32)
def wavelets(N, J, Q, kymatio_compat=None, sigma0=SIGMA0, r_psi=R_PSI, alpha=ALPHA):
    """All wavelets of one order at full resolution: read-only float64 `(n, N)`."""
    return _wavelet_bank(N, J, Q, kymatio_compat, sigma0, r_psi, alpha).filters


@lru_cache(maxsize=32)
def filter_bank_1d(N, J, Q1, Q2, T, max_order=2, psi2_levels=1, phi_levels=1, reduction="sum",
                   kymatio_compat=None):
    """The filters a 1D scattering uses, as read-only float64 arrays:

    * ``phi``: tuple of `phi_levels` arrays, level k of shape `(N / 2^k,)`;
    * ``psi1``: the `(n1, N)` first-order wavelets (used at level 0 only);
    * ``psi2`` (max_order 2): tuple of `psi2_levels` arrays, level k of shape `(n2, N / 2^k)`
      (at level k > 0 only the wavelets with j > k, the ones a scattering applies there; the
      other rows are zero);
    * ``support``: for each of ``phi``, ``psi1``, ``psi2``, the bins (as Python ints, see
      `morlet1d_design.support_bins`) outside which each level-0 filter is below SUPPORT_EPS of
      its peak.
    """
    phi = morlet_bank(N, np.zeros(1), np.array([SIGMA0 / T]))
    read_only(phi.filters)
    psi1 = _wavelet_bank(N, J, Q1, kymatio_compat, SIGMA0, R_PSI, ALPHA)
    bank = {
        "phi": tuple(level[0] for level in _band_levels(phi, phi_levels, reduction)),
        "psi1": psi1.filters,
        "support": {"phi": phi.support, "psi1": psi1.support},
    }
    if max_order >= 2:
        psi2 = _wavelet_bank(N, J, Q2, kymatio_compat, SIGMA0, R_PSI, ALPHA)
        j2 = filter_params(J, Q2, SIGMA0, R_PSI, ALPHA, kymatio_compat)[2]
        bank["psi2"] = _band_levels(psi2, psi2_levels, reduction, used_below=j2)
        bank["support"]["psi2"] = psi2.support
    return bank


def cache_clear():
    """Forget every cached filter (for cold-start timings and tests)."""
    for fn in (filter_params, compute_padding, _wavelet_bank, wavelets, filter_bank_1d):
        fn.cache_clear()
