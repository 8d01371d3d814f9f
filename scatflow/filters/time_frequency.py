"""The frequential filters of joint time-frequency scattering (Kymatio main's
`TimeFrequencyScattering`), NumPy only, cached by parameters and returned read-only.

Frequency scattering works along the first-order index n1 of a scalogram, zero-padded to `N_fr`
rows: it convolves with Morlets of both spins (centre frequencies xi and -xi, `morlet1d`'s
Morlets on the N_fr grid) and with the low-pass of width 2**J_fr, decimates, and averages the
moduli with the low-pass of width F. The n1 axis is short (N_fr is a few hundred rows), so each
of these steps is a small matrix along it: `scattering_matrix` (zero padding, circular
convolution and decimation in one) and `averaging_matrix`. `frequency_operator` stacks them for
the paths of one input and leaves out the rows whose contribution is negligible.
"""

from functools import lru_cache

import numpy as np

from . import decimated_circulant, read_only
from .morlet1d import periodize
from .morlet1d_design import SIGMA0, filter_params, gauss_1d, morlet_1d

# A row of the frequency convolution is left out where every entry it would be made of is
# below PRUNE_EPS times the filter's largest value in n1 (their ifft's floor is ~1e-16: the
# rows left out would hold rounding noise; the widest Morlet keeps a 1e-14 floor, from the
# truncation of its periodization, so rows within ~11 of the data are kept).
PRUNE_EPS = 1e-13


def frequency_padding(J, Q1, J_fr, F):
    """N_fr, the length of the zero-padded n1 axis (Kymatio main): the N_input_fr = (J+1) Q1
    rows Kymatio budgets for the first-order filters plus 8 min(F, 2**J_fr), rounded down to a
    multiple of 2**J_fr; where F > 2**J_fr (no Kymatio answer: it fails), to a multiple of
    2**floor(log2 F), the largest decimation then (equal to Kymatio's wherever that divides)."""
    K = max(J_fr, int(F).bit_length() - 1)
    return ((J + 1) * Q1 + 8 * min(F, 2**J_fr)) // 2**K * 2**K


@lru_cache(maxsize=64)
def frequency_filter_params(J_fr, Q_fr):
    """(xi, sigma, j) of the frequential filters, as tuples indexed by n_fr in Kymatio's order:
    n_fr = 0 the low-pass of width 2**J_fr (xi 0, j = J_fr), then the Morlets of spin +1
    (decreasing xi > 0), then their mirrors of spin -1 (xi < 0, same sigma and j)."""
    xi, sigma, j = filter_params(J_fr, Q_fr)
    return ((0.0,) + xi + tuple(-v for v in xi), (SIGMA0 / 2**J_fr,) + sigma + sigma,
            (J_fr,) + j + j)


@lru_cache(maxsize=32)
def frequency_bank(N_fr, J_fr, Q_fr, F):
    """`(psi, phi_F)`: the frequential filters in Fourier, read-only float64, `psi` (n_fr, N_fr)
    in `frequency_filter_params`'s order, `phi_F` (N_fr,) the low-pass of width F."""
    xi, sigma, _ = frequency_filter_params(J_fr, Q_fr)
    psi = np.concatenate([gauss_1d(N_fr, sigma[0])[None], morlet_1d(N_fr, xi[1:], sigma[1:])])
    return read_only(psi), read_only(gauss_1d(N_fr, SIGMA0 / F))


def scattering_matrix(kernel, factor, n_inputs):
    """The complex matrix `(N / factor, n_inputs)` of: zero-pad n_inputs samples to N, convolve
    circularly with `kernel` (N,) (the inverse DFT of a filter), keep every `factor`-th sample
    (Kymatio's FFT, product, Fourier periodization and inverse FFT, as one matrix)."""
    N = kernel.shape[-1]
    rows = factor * np.arange(N // factor)
    return kernel[(rows[:, None] - np.arange(n_inputs)[None, :]) % N]


def averaging_matrix(phi_f, level, factor):
    """The real matrix `(n / factor, n)`, n = len(phi_f) / 2**level: low-pass rows decimated by
    2**level with level `level` of `phi_f` (Kymatio's summed periodization), keep every
    `factor`-th row (the real part of Kymatio's inverse FFT)."""
    phi_level = periodize(phi_f, level)
    return decimated_circulant(phi_level, factor * np.arange(phi_level.shape[-1] // factor))


@lru_cache(maxsize=128)
def frequency_operator(N_fr, J_fr, Q_fr, F, n_inputs, real_input, paths):
    """The frequency scattering of one input `(..., n_inputs, time)` for its frequential
    `paths`, a tuple of `(n_fr, k_fr, averaging, rows)`: convolve with filter n_fr decimated by
    2**k_fr, take the modulus, then `averaging` is None (keep the rows), ('local', k_out) (the
    F low-pass from 2**k_fr to 2**k_out) or 'global' (the sum over all rows); `rows` first
    output rows are kept.

    Returns a dict: ``scatter``, the convolutions of all paths stacked `(R, n_inputs)`
    (complex; for a real input, `real_input=True`, its real parts over its imaginary parts
    `(2 R, n_inputs)`, so that one real product serves); ``average``, per path the real matrix
    `(rows, R_path)` applied to the moduli of its rows, or None; ``slices``, per path its rows
    `(start, stop)` in ``scatter``. Rows that cannot contribute (PRUNE_EPS) are left out."""
    psi, phi_F = frequency_bank(N_fr, J_fr, Q_fr, F)
    kernels = np.fft.ifft(psi, axis=-1)
    lowpasses = {}  # (level, factor) -> averaging matrix
    blocks, averages, slices, start = [], [], [], 0
    for n_fr, k_fr, averaging, rows in paths:
        M = scattering_matrix(kernels[n_fr], 2**k_fr, n_inputs)
        if averaging is None:
            M, A = M[:rows], None
        else:
            if averaging == "global":
                A = np.ones((1, M.shape[0]))
            else:
                key = (k_fr, 2 ** (averaging[1] - k_fr))
                if key not in lowpasses:
                    lowpasses[key] = averaging_matrix(phi_F, *key)
                A = lowpasses[key][:rows]
            keep = _significant(np.abs(M).max(axis=1)) & _significant(np.abs(A).max(axis=0))
            M, A = M[keep], read_only(A[:, keep])
        blocks.append(M)
        averages.append(A)
        slices.append((start, start + M.shape[0]))
        start += M.shape[0]
    M = np.concatenate(blocks)
    scatter = np.concatenate([M.real, M.imag]) if real_input else M
    return {"scatter": read_only(scatter), "average": tuple(averages), "slices": tuple(slices)}


def _significant(magnitudes):
    return magnitudes > PRUNE_EPS * magnitudes.max()


def cache_clear():
    """Forget every cached frequential filter."""
    for fn in (frequency_filter_params, frequency_bank, frequency_operator):
        fn.cache_clear()
