"""Kymatio's 1D Morlet filter bank, built in the Fourier domain with NumPy.

Frequencies are normalized so that 0.5 is Nyquist. The constants are Kymatio's
(`sigma0 = 0.1`, `alpha = 5`, `r_psi = sqrt(1/2)`). All filters of one order are built as one
2D array `(n_filters, N)` (real, float64); the "levels" (copies of a filter periodized for a
signal decimated by `2^k`) are summed over the `2^k` blocks, as on Kymatio's main branch (#984;
Kymatio 0.3.0 took the mean, which is `2^-k` times this). Banks are cached by their parameters
and returned as read-only arrays.
"""

import math
import warnings
from functools import lru_cache

import numpy as np
import scipy.fft

from . import read_only

SIGMA0 = 0.1
ALPHA = 5.0
R_PSI = math.sqrt(0.5)
EPS = 1e-7
MAX_PERIODS = 5
CHUNK_BYTES = 2**25  # working memory of one vectorized filter evaluation
# A filter is treated as zero where it is below SUPPORT_EPS times its peak (the Gaussian tails
# beyond ~9.6 sigma): the scattering skips those bins in its products (see `support_bins`).
SUPPORT_EPS = 1e-20


# -- parameters of a filter family -----------------------------------------------------------
def compute_xi_max(Q):
    """Largest centre frequency of a family with Q wavelets per octave."""
    return max(1.0 / (1.0 + math.pow(2.0, 3.0 / Q)), 0.35)


def compute_sigma_psi(xi, Q, r=R_PSI):
    """Bandwidth of a Morlet wavelet at `xi` such that neighbours (Q per octave) meet at `r`."""
    factor = 1.0 / math.pow(2, 1.0 / Q)
    term1 = (1 - factor) / (1 + factor)
    term2 = 1.0 / math.sqrt(2 * math.log(1.0 / r))
    return xi * term1 * term2


def adaptive_choice_P(sigma, eps=EPS):
    """Number of periods P such that a Gaussian of width `sigma` is below `eps` outside
    [1 - P, P]; works on scalars and arrays."""
    val = np.sqrt(-2 * np.square(sigma) * math.log(eps))
    return np.ceil(val + 1).astype(int)


def get_max_dyadic_subsampling(xi, sigma, alpha=ALPHA):
    """Kymatio's `j`: the largest j such that |xi| + alpha * sigma < 2^-(j+1) (capped at 0.5)."""
    upper_bound = min(abs(xi) + alpha * sigma, 0.5)
    return int(math.floor(-math.log2(upper_bound))) - 1


def anden_generator(J, Q, sigma0=SIGMA0, r_psi=R_PSI, kymatio_compat=None):
    """(xi, sigma) of one order's wavelets, in Kymatio's order (decreasing xi): a geometric
    progression (common ratio 2^(1/Q), constant Q) down to sigma_min = sigma0 / 2^J, then Q-1
    filters of bandwidth sigma_min with linearly spaced centre frequencies (accumulated as on
    Kymatio main, or computed directly as in 0.3.0 with `kymatio_compat="0.3"`: the two differ
    in the last bits, which matters only for filters narrower than one frequency bin)."""
    xi = compute_xi_max(Q)
    sigma = compute_sigma_psi(xi, Q, r=r_psi)
    sigma_min = sigma0 / 2**J
    step = math.pow(2, 1 / Q)
    params = []
    if sigma <= sigma_min:
        xi = sigma  # Kymatio's choice: the elbow is then sigma_max
    else:
        params.append((xi, sigma))
        while sigma > sigma_min * step:
            xi /= step
            sigma /= step
            params.append((xi, sigma))
    elbow = xi
    for q in range(1, Q):
        xi = elbow - q / Q * elbow if kymatio_compat == "0.3" else xi - 1 / Q * elbow
        params.append((xi, sigma_min))
    return params


@lru_cache(maxsize=64)
def filter_params(J, Q, sigma0=SIGMA0, r_psi=R_PSI, alpha=ALPHA, kymatio_compat=None):
    """Centre frequencies, bandwidths and subsampling indices `j` of one order, as tuples."""
    params = anden_generator(J, Q, sigma0, r_psi, kymatio_compat)
    xi = tuple(float(p[0]) for p in params)
    sigma = tuple(float(p[1]) for p in params)
    j = tuple(get_max_dyadic_subsampling(a, b, alpha) for a, b in params)
    return xi, sigma, j


# -- filters in the Fourier domain -------------------------------------------------------------
def morlet_1d(N, xi, sigma):
    """Fourier transforms of Morlet wavelets (or Gaussians where `xi` is None or 0) on the DFT
    grid k/N, one row per (xi, sigma) pair: `(n, N)` for arrays, `(N,)` for scalars.

    Each is periodized by averaging 2P-1 periods (P from `adaptive_choice_P`, at most 5), made
    zero-mean by subtracting kappa times the Gaussian of the same width, and L1-normalized in
    time. Kymatio evaluates the Gaussians on all (2P-1) N frequencies; here a narrow filter is
    evaluated only where its Gaussians are not exactly 0.0 in float64 (|f - xi| <= 38.7 sigma),
    which gives the same values (see `_morlet_dense` for the plain evaluation); the L1 norm comes
    from a real FFT (equal to Kymatio's to rounding)."""
    scalar = np.ndim(sigma) == 0
    sigma = np.atleast_1d(np.asarray(sigma, dtype=float))
    xi = np.zeros_like(sigma) if xi is None else np.broadcast_to(np.asarray(xi, dtype=float), sigma.shape)
    out = np.zeros((sigma.size, N))
    P_all = np.minimum(adaptive_choice_P(sigma), MAX_PERIODS)
    # half-width (in bins) beyond which exp(-(f - xi)^2 / (2 sigma^2)) underflows to exactly 0
    half = np.ceil(_UNDERFLOW_WIDTH * sigma * N).astype(np.int64) + 1
    length = 2 * half + 2
    sparse = (length <= N) & (P_all > 1) & (xi != 0)
    for P in np.unique(P_all):
        rows = np.flatnonzero((P_all == P) & ~sparse)
        if rows.size:
            out[rows] = _morlet_dense(N, xi[rows], sigma[rows], P)
    # windowed rows, in runs of similar window length (the rows come sorted by sigma)
    rows = np.flatnonzero(sparse)
    while rows.size:
        run = rows[(P_all[rows] == P_all[rows[0]]) & (length[rows] <= 1.25 * length[rows[0]])
                   & (length[rows] * 1.25 >= length[rows[0]])]
        run = run[: max(1, CHUNK_BYTES // (8 * int(length[run].max())))]
        _morlet_windowed(out, run, N, xi[run], sigma[run], half[run], int(P_all[run[0]]),
                         int(length[run].max()))
        rows = np.setdiff1d(rows, run, assume_unique=True)
    out /= l1_norm_time(out)
    return out[0] if scalar else out


def l1_norm_time(filters_f):
    """sum_t |ifft(h_f)[t]| of real Fourier rows `(n, N)`, from their real FFT: for a real h_f,
    |ifft(h_f)| at t and N - t are both |rfft(h_f)[t]| / N."""
    N = filters_f.shape[-1]
    weights = np.full(N // 2 + 1, 2.0)
    weights[0] = 1.0
    if N % 2 == 0:
        weights[-1] = 1.0
    rows = filters_f.reshape(-1, N)
    norms = np.empty(rows.shape[0])
    chunk = max(1, CHUNK_BYTES // (16 * N))  # row chunks: cache- and allocator-friendly
    for a in range(0, rows.shape[0], chunk):
        norms[a:a + chunk] = np.abs(scipy.fft.rfft(rows[a:a + chunk], axis=-1, workers=-1)) @ weights
    return norms.reshape(filters_f.shape[:-1] + (1,)) / N


_UNDERFLOW_WIDTH = 38.7  # exp(-38.7**2 / 2) = exp(-748.8) == 0.0 in float64


def _morlet_dense(N, xi, sigma, P):
    """Unnormalized Morlets (Gaussians where xi == 0) evaluated on all (2P-1) N frequencies."""
    nper = 2 * P - 1
    freqs = (np.arange((1 - P) * N, P * N, dtype=float) / float(N)).reshape(nper, N)
    freqs_low = np.fft.fftfreq(N)[None] if P == 1 else freqs
    neg_f2 = -(freqs_low**2)
    out = np.empty((sigma.size, N))
    chunk = max(1, CHUNK_BYTES // (8 * nper * N))
    for start in range(0, sigma.size, chunk):
        sl = slice(start, start + chunk)
        s2 = (2 * sigma[sl] ** 2)[:, None, None]
        low = np.exp(neg_f2 / s2).mean(axis=1)
        gabor = np.exp(-((freqs - xi[sl][:, None, None]) ** 2) / s2).mean(axis=1)
        kappa = gabor[:, :1] / low[:, :1]
        out[sl] = np.where(xi[sl][:, None] != 0, gabor - kappa * low, low)  # Kymatio's `if xi:`
    return out


def _morlet_windowed(out, rows, N, xi, sigma, half, P, L):
    """Write unnormalized Morlets into `out[rows]` from L-sample windows around xi and 0.

    The Gabor and Gaussian terms are zero outside their windows; inside, each bin receives one
    of the 2P-1 periods (L <= N), so the period mean is that value / (2P - 1) exactly."""
    nper = 2 * P - 1
    lo, hi = (1 - P) * N, P * N
    s2 = (2 * sigma**2)[:, None]
    periods = np.arange(1 - P, P, dtype=float)[None]
    gabor0 = np.exp(-((periods - xi[:, None]) ** 2) / s2).mean(axis=1)
    low0 = np.exp(-(periods**2) / s2).mean(axis=1)
    kappa = (gabor0 / low0)[:, None]
    offsets = np.arange(L)
    g_start = np.floor(xi * N).astype(np.int64) - half
    ext = g_start[:, None] + offsets
    f = ext / float(N)
    gabor = np.where((ext >= lo) & (ext < hi), np.exp(-((f - xi[:, None]) ** 2) / s2), 0.0) / nper
    ext = -half[:, None] + offsets
    f = ext / float(N)
    low = kappa * (np.where((ext >= lo) & (ext < hi), np.exp(-(f**2) / s2), 0.0) / nper)
    for i, row in enumerate(rows):
        _write_circular(out[row], g_start[i], gabor[i])
        _write_circular(out[row], -half[i], low[i], subtract=True)


def _write_circular(dest, start, values, subtract=False):
    """dest[(start + k) % N] = values[k] (or -= values[k]) with at most two slice writes."""
    N, L = dest.shape[-1], values.shape[-1]
    start %= N
    pieces = [(slice(start, min(start + L, N)), slice(0, min(L, N - start)))]
    if start + L > N:
        pieces.append((slice(0, start + L - N), slice(N - start, L)))
    for d, v in pieces:
        if subtract:
            dest[d] = dest[d] - values[v]
        else:
            dest[d] = values[v]


def support_bins(filters_f, eps):
    """Where Fourier filters `(n, N)` are not negligible: each row is at most `eps` times its
    largest magnitude outside bins -below..above (circularly). Returns two tuples of ints
    `(below, above)`; `below + above >= N - 1` means the row has no negligible band."""
    rows = np.atleast_2d(filters_f)
    N = rows.shape[-1]
    half = N // 2 + 1
    below, above = [], []
    chunk = max(1, CHUNK_BYTES // (8 * N))
    for a in range(0, rows.shape[0], chunk):
        mag = np.abs(rows[a:a + chunk])
        keep = mag > eps * mag.max(axis=-1, keepdims=True)
        pos, neg = keep[:, :half], keep[:, half:]  # bins 0..N/2, then -(N - N/2 - 1)..-1
        last_pos = np.where(pos.any(-1), half - 1 - np.argmax(pos[:, ::-1], axis=-1), 0)
        first_neg = np.where(neg.any(-1), N - half - np.argmax(neg, axis=-1), 0)
        above += [int(v) for v in last_pos]
        below += [int(v) for v in first_neg]
    return tuple(below), tuple(above)


def gauss_1d(N, sigma):
    """Fourier transform of the L1-normalized, periodized Gaussian low-pass (DC = 1)."""
    return morlet_1d(N, None, sigma)


def periodize(filters_f, k, reduction="sum"):
    """Level k of Fourier filters (..., N): the spectrum of a signal decimated by 2^k, i.e.
    the last axis folded into 2^k blocks and reduced ('sum': Kymatio main; 'mean': 0.3.0)."""
    if k == 0:
        return filters_f
    folded = filters_f.reshape(filters_f.shape[:-1] + (2**k, -1))
    return folded.sum(axis=-2) if reduction == "sum" else folded.mean(axis=-2)


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
def wavelets(N, J, Q, kymatio_compat=None, sigma0=SIGMA0, r_psi=R_PSI, alpha=ALPHA):
    """All wavelets of one order at full resolution: read-only float64 `(n, N)`."""
    xi, sigma, _ = filter_params(J, Q, sigma0, r_psi, alpha, kymatio_compat)
    with np.errstate(invalid="ignore"):
        bank = morlet_1d(N, np.array(xi), np.array(sigma))
    if not np.isfinite(bank).all():  # a wavelet that vanishes on the grid: 0 / 0
        raise ValueError(f"J={J} is too large for a signal padded to N={N} samples: wavelets of "
                         f"bandwidth sigma0 / 2**J = {sigma0 / 2**J:.3g} vanish on its frequency "
                         f"grid (Kymatio returns NaN here); use a smaller J")
    return read_only(bank)


@lru_cache(maxsize=32)
def lowpass(N, T, sigma0=SIGMA0):
    """The low-pass phi of width sigma0 / T at full resolution: read-only float64 `(N,)`."""
    return read_only(gauss_1d(N, sigma0 / T))


@lru_cache(maxsize=32)
def filter_bank_1d(N, J, Q1, Q2, T, max_order=2, psi2_levels=1, phi_levels=1, reduction="sum",
                   kymatio_compat=None):
    """The filters a 1D scattering uses, as read-only float64 arrays:

    * ``phi``: tuple of `phi_levels` arrays, level k of shape `(N / 2^k,)`;
    * ``psi1``: the `(n1, N)` first-order wavelets (used at level 0 only);
    * ``psi2`` (max_order 2): tuple of `psi2_levels` arrays, level k of shape `(n2, N / 2^k)`;
    * ``support``: for each of ``phi``, ``psi1``, ``psi2``, the bins (as Python ints, see
      `support_bins`) outside which each level-0 filter is below SUPPORT_EPS of its peak.
    """
    phi0 = lowpass(N, T)
    psi1 = wavelets(N, J, Q1, kymatio_compat)
    bank = {
        "phi": tuple(read_only(periodize(phi0, k, reduction)) for k in range(phi_levels)),
        "psi1": psi1,
        "support": {"phi": support_bins(phi0, SUPPORT_EPS),
                    "psi1": support_bins(psi1, SUPPORT_EPS)},
    }
    if max_order >= 2:
        psi2 = wavelets(N, J, Q2, kymatio_compat)
        bank["psi2"] = tuple(read_only(periodize(psi2, k, reduction)) for k in range(psi2_levels))
        bank["support"]["psi2"] = support_bins(psi2, SUPPORT_EPS)
    return bank


def cache_clear():
    """Forget every cached filter (for cold-start timings and tests)."""
    for fn in (filter_params, compute_padding, wavelets, lowpass, filter_bank_1d):
        fn.cache_clear()
