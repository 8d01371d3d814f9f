"""One Morlet filter family, designed and evaluated: Kymatio's 1D constants, each wavelet's
centre frequency, bandwidth and subsampling index (`filter_params`), and the filters in the
Fourier domain (`morlet_1d`, `gauss_1d`, `morlet_bank`) with their supports. `morlet1d`
assembles the banks a scattering uses from these.

Frequencies are normalized so that 0.5 is Nyquist. The constants are Kymatio's
(`sigma0 = 0.1`, `alpha = 5`, `r_psi = sqrt(1/2)`). All filters of one family are built as one
2D array `(n_filters, N)` (real, float64).

Cost: a filter is evaluated on its band only (the bins where it is not negligible: a few out of
N for the narrow ones), written into memory whose untouched pages are never allocated
(`lazy_zeros`), and divided by its L1 norm in time, which the closed form of its inverse DFT
gives (`_l1_norms`); supports follow from the bands. Working arrays stay small (BAND_ENTRIES):
glibc maps larger ones afresh, and page faults then dominate.
"""

import math
import mmap
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.fft

SIGMA0 = 0.1
ALPHA = 5.0
R_PSI = math.sqrt(0.5)
EPS = 1e-7
MAX_PERIODS = 5
BAND_ENTRIES = 2**13  # entries of one vectorized step (64 kB float64 arrays)
# A filter is treated as zero where it is below SUPPORT_EPS times its peak, the Gaussian tails
# beyond TRUNCATION_WIDTH (9.6) sigmas: the bank leaves them out, and the scattering skips
# those bins in its products (see `support_bins`).
SUPPORT_EPS = 1e-20
TRUNCATION_WIDTH = math.sqrt(2 * math.log(1 / SUPPORT_EPS))


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
class _Layout(NamedTuple):
    """Per row of a bank: periods P, kappa, whether the kappa term is kept, and the band
    [start, start + length) (unwrapped bins, taken modulo N) outside which the row is zero;
    rows evaluated on all bins (`dense`) have the band (0, N)."""

    P: np.ndarray
    kappa: np.ndarray
    with_low: np.ndarray
    start: np.ndarray
    length: np.ndarray
    dense: np.ndarray


class _Bank(NamedTuple):
    """Normalized Morlets `(n, N)`, their layout, their `support_bins` at SUPPORT_EPS, and the
    L1 norms they were divided by (0 for a filter that vanishes on the grid: NaN, as Kymatio)."""

    filters: np.ndarray
    layout: _Layout
    support: tuple
    norms: np.ndarray


def morlet_1d(N, xi, sigma):
    """Fourier transforms of Morlet wavelets (or Gaussians where `xi` is None or 0) on the DFT
    grid k/N, one row per (xi, sigma) pair: `(n, N)` for arrays, `(N,)` for scalars.

    Each is periodized by averaging 2P-1 periods (P from `adaptive_choice_P`, at most 5), made
    zero-mean by subtracting kappa times the Gaussian of the same width, and L1-normalized in
    time: Kymatio's definition, which `_morlet_dense` evaluates on all (2P-1) N frequencies.
    A filter narrower than the grid is evaluated on its band only (`_band_layout`: terms below
    SUPPORT_EPS of the peak are left out) and its L1 norm comes from the closed form of its
    inverse DFT (`_l1_norms`); both equal Kymatio's to rounding."""
    scalar = np.ndim(sigma) == 0
    sigma = np.atleast_1d(np.asarray(sigma, dtype=float))
    xi = np.zeros_like(sigma) if xi is None else np.broadcast_to(np.asarray(xi, dtype=float),
                                                                 sigma.shape)
    out = morlet_bank(N, xi, sigma).filters
    return out[0] if scalar else out


def gauss_1d(N, sigma):
    """Fourier transform of the L1-normalized, periodized Gaussian low-pass (DC = 1)."""
    return morlet_1d(N, None, sigma)


def morlet_bank(N, xi, sigma):
    """`morlet_1d` of arrays, as a `_Bank`."""
    layout = _band_layout(N, xi, sigma)
    norms = _l1_norms(N, xi, sigma, layout)
    unknown = np.flatnonzero(np.isnan(norms))  # left to the FFT of the rows (see `_l1_norms`)
    out = lazy_zeros((sigma.size, N))
    _fill(out, xi, sigma, layout, np.where(np.isnan(norms), 1.0, norms))
    with np.errstate(divide="ignore", invalid="ignore"):
        norms[unknown] = l1_norm_time(out[unknown])[:, 0]
        out[unknown] /= norms[unknown, None]
    return _Bank(out, layout, _bank_support(out, layout), norms)


def _band_layout(N, xi, sigma):
    """Where each Morlet lives on the grid (see `_Layout`). The band spans +-TRUNCATION_WIDTH
    sigma around xi and, where the kappa term is kept, the bins around 0 where it exceeds
    SUPPORT_EPS times the Gabor term's largest value on the grid (at the bin nearest xi; far
    below 1 for wavelets narrower than a bin). A filter whose band would overlap itself (wider
    than N) is evaluated densely."""
    P = np.minimum(adaptive_choice_P(sigma), MAX_PERIODS)
    kappa = np.ones_like(sigma)
    for p in np.unique(P):
        rows = P == p
        periods = np.arange(1 - p, p, dtype=float)[None]
        s2 = (2 * sigma[rows] ** 2)[:, None]
        gabor0 = np.exp(-((periods - xi[rows][:, None]) ** 2) / s2).mean(axis=1)
        low0 = np.exp(-(periods**2) / s2).mean(axis=1)
        kappa[rows] = gabor0 / low0
    centre = np.floor(xi * N).astype(np.int64)
    nearest = np.minimum(xi * N - centre, centre + 1 - xi * N) / N
    with np.errstate(divide="ignore"):  # log(kappa / (SUPPORT_EPS * the Gabor term's peak))
        low_excess = np.log(kappa / SUPPORT_EPS) + nearest**2 / (2 * sigma**2)
    with_low = (xi != 0) & (low_excess >= 0)
    half = np.ceil(TRUNCATION_WIDTH * sigma * N).astype(np.int64) + 1
    low_half = np.minimum(np.ceil(np.sqrt(2 * np.maximum(low_excess, 0)) * sigma * N), N)
    low_half = low_half.astype(np.int64)
    start = np.where(with_low, np.minimum(centre - half, -low_half - 1), centre - half)
    stop = np.where(with_low, np.maximum(centre + half + 2, low_half + 2), centre + half + 2)
    length = stop - start  # the kappa term reaches past the Gabor's band for xi < 0
    dense = (length > N) | (P == 1)
    start[dense], length[dense] = 0, N
    return _Layout(P, kappa, with_low, start, length, dense)


def _fill(out, xi, sigma, layout, norms):
    """Write the Morlets divided by `norms` into the zero rows `out` `(n, N)`."""
    N = out.shape[-1]
    for P in np.unique(layout.P[layout.dense]):
        rows = np.flatnonzero(layout.dense & (layout.P == P))
        out[rows] = _morlet_dense(N, xi[rows], sigma[rows], P) / norms[rows, None]
    for rows, ext in band_pieces(layout, np.flatnonzero(~layout.dense)):
        values = _band_values(N, xi, sigma, layout, rows, ext)
        values /= norms[rows, None]
        counts = np.minimum((layout.start + layout.length)[rows] - ext[:, 0], ext.shape[1])
        for row, first, count, band in zip(rows, ext[:, 0].tolist(), counts.tolist(), values):
            _write_circular(out[row], first, band[:count])


def band_pieces(layout, rows):
    """The bands of `rows` in 2D pieces `(rows of the piece, unwrapped bins (rows, L))` of
    about BAND_ENTRIES entries: consecutive bands of similar lengths (within a factor 1.5)
    together, padded to the longest; a longer band alone, cut into consecutive pieces."""
    lengths = layout.length[rows].tolist()
    first = 0
    while first < len(rows):
        if lengths[first] > BAND_ENTRIES:
            row = rows[first:first + 1]
            for offset in range(0, lengths[first], BAND_ENTRIES):
                stop = min(offset + BAND_ENTRIES, lengths[first])
                yield row, layout.start[row, None] + np.arange(offset, stop)
            first += 1
            continue
        stop, shortest, longest = first + 1, lengths[first], lengths[first]
        while stop < len(rows):
            shortest, longest = min(shortest, lengths[stop]), max(longest, lengths[stop])
            if longest > 1.5 * shortest or (stop + 1 - first) * longest > BAND_ENTRIES:
                break
            stop += 1
        yield rows[first:stop], layout.start[rows[first:stop], None] + np.arange(
            max(lengths[first:stop]))
        first = stop


def _band_values(N, xi, sigma, layout, rows, ext):
    """Unnormalized Morlets at unwrapped bins `ext` `(rows, L)`: inside a band each bin
    receives one of the 2P - 1 periods, so the period mean is that value / (2P - 1) exactly."""
    f = ext / float(N)
    s2 = (2 * sigma[rows] ** 2)[:, None]
    nper = (2 * layout.P[rows] - 1)[:, None]
    values = np.empty(f.shape)
    _gaussian_into(values, f, xi[rows, None], s2)
    values /= nper
    low = layout.with_low[rows]
    if low.any():
        term = np.empty(f[low].shape)
        _gaussian_into(term, f[low], 0.0, s2[low])
        term /= nper[low]
        term *= layout.kappa[rows[low], None]
        values[low] -= term
    return values


def _write_circular(dest, start, values):
    """dest[(start + k) % N] = values[k], with at most two slice writes (len(values) <= N)."""
    N, L = dest.shape[-1], values.shape[-1]
    start %= N
    head = min(L, N - start)
    dest[start:start + head] = values[:head]
    dest[: L - head] = values[head:]


def _morlet_dense(N, xi, sigma, P):
    """Unnormalized Morlets (Gaussians where xi == 0) evaluated on all (2P-1) N frequencies,
    a few columns and one period at a time (the period mean in Kymatio's order of summation)."""
    s2 = (2 * sigma**2)[:, None]
    out = np.empty((sigma.size, N))
    width = max(1, BAND_ENTRIES // sigma.size)
    for first in range(0, N, width):
        columns = np.arange(first, min(first + width, N))
        gabor, low = np.zeros((sigma.size, columns.size)), np.zeros((sigma.size, columns.size))
        term = np.empty((sigma.size, columns.size))
        for period in range(1 - P, P):
            freqs = (columns + period * N) / float(N)
            _gaussian_into(term, np.fft.fftfreq(N)[columns] if P == 1 else freqs, 0.0, s2)
            low += term
            _gaussian_into(term, freqs, xi[:, None], s2)
            gabor += term
        gabor /= 2 * P - 1
        low /= 2 * P - 1
        if first == 0:
            kappa = gabor[:, :1] / low[:, :1]
        # Kymatio's `if xi:`: a Gaussian where xi == 0
        out[:, columns] = np.where(xi[:, None] != 0, gabor - kappa * low, low)
    return out


def _gaussian_into(out, freqs, centre, s2):
    """out = exp(-((freqs - centre) ** 2) / s2), computed in place."""
    np.subtract(freqs, centre, out=out)
    np.square(out, out=out)
    np.negative(out, out=out)
    np.divide(out, s2, out=out)
    np.exp(out, out=out)


def lazy_zeros(shape):
    """Float64 zeros in fresh anonymous memory, whose pages cost neither time nor resident
    memory until written: a bank is zero outside its filters' bands, most of it for narrow
    filters. (NumPy may back large arrays with transparent huge pages, which makes every
    2 MB region that a band touches resident.)"""
    size = math.prod(shape) * 8
    if size < mmap.PAGESIZE or not hasattr(mmap, "MAP_PRIVATE"):
        return np.zeros(shape)
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
    return np.frombuffer(memory, dtype=np.float64).reshape(shape)


# -- L1 norms ---------------------------------------------------------------------------------
def _l1_norms(N, xi, sigma, layout):
    """L1 norms in time of the unnormalized Morlets on N frequencies, from their time domain.

    Where the 2P - 1 periods cover a Morlet's Gaussians (to SUPPORT_EPS), its samples are those
    of its Gaussians periodized over all periods, divided by 2P - 1, whose inverse DFT is
    (Poisson summation) q(t) / (2P - 1), q(t) = sqrt(2 pi) sigma sum_m g(t - mN)
    (e^{2 pi i xi (t - mN)} - kappa), g(t) = exp(-2 pi^2 sigma^2 t^2) (no kappa term where it
    is not kept; no phase for a Gaussian, xi = 0). Where |q| is one Gaussian (no kappa term, no
    overlapping images m) or a sum of Gaussians (xi = 0), sum_t |q(t)| = sum_k exp(-k^2 /
    (2 sigma^2)) = 1 to SUPPORT_EPS (such rows have sigma < 0.097); other rows with at most two
    overlapping images are summed in time (`_time_l1`). The rest are NaN, for the FFT of the
    rows: too few periods, or images that cancel (wavelets narrower than a bin)."""
    nper = 2 * layout.P - 1
    complete = layout.P - 1 >= TRUNCATION_WIDTH * sigma
    images = np.floor(TRUNCATION_WIDTH / (2 * np.pi * sigma * N) + 0.5)  # see `_time_l1`
    closed = complete & ((xi == 0) | (~layout.with_low & (images == 0)))
    norms = np.where(closed, 1.0 / nper, np.nan)
    for row in np.flatnonzero(complete & ~closed & (images <= 2)):
        kappa = layout.kappa[row] if layout.with_low[row] else 0.0
        norms[row] = _time_l1(N, xi[row], sigma[row], kappa) / nper[row]
    return norms


def _time_l1(N, xi, sigma, kappa):
    """sum_t |q(t)| over one period (see `_l1_norms`) from t = 0..N/2, as |q(-t)| = |q(t)|
    (only while g(t) >= SUPPORT_EPS where that is shorter), with the images m whose g reaches
    SUPPORT_EPS there."""
    reach = TRUNCATION_WIDTH / (2 * np.pi * sigma)  # g(t) < SUPPORT_EPS beyond
    wraps = reach >= N / 2
    images = range(-int(reach / N), int(reach / N + 0.5) + 1) if wraps else [0]
    stop = N // 2 + 1 if wraps else int(reach) + 1
    total = 0.0
    for first in range(0, stop, BAND_ENTRIES):
        t = np.arange(first, min(first + BAND_ENTRIES, stop), dtype=float)
        real, imag, envelope = np.zeros(t.size), np.zeros(t.size), np.zeros(t.size)
        for m in images:
            g = np.exp(-2 * np.pi**2 * sigma**2 * (t - m * N) ** 2)
            rotation = np.exp(-2j * np.pi * ((xi * m * N) % 1.0))  # e^{-2 pi i xi m N}
            real += rotation.real * g
            imag += rotation.imag * g
            envelope += g
        if kappa:  # times e^{2 pi i xi t}, minus kappa sum_m g(t - mN)
            cos, sin = np.cos(2 * np.pi * xi * t), np.sin(2 * np.pi * xi * t)
            real, imag = real * cos - imag * sin - kappa * envelope, real * sin + imag * cos
        twice = np.where((t == 0) | (2 * t == N), 1.0, 2.0)  # t and -t; 0 and N/2 once
        total += (np.sqrt(real * real + imag * imag) * twice).sum()
    return math.sqrt(2 * math.pi) * sigma * total


def l1_norm_time(filters_f):
    """sum_t |ifft(h_f)[t]| of real Fourier rows `(n, N)`, from their real FFT: for a real h_f,
    |ifft(h_f)| at t and N - t are both |rfft(h_f)[t]| / N."""
    N = filters_f.shape[-1]
    weights = np.full(N // 2 + 1, 2.0)
    weights[0] = 1.0
    if N % 2 == 0:
        weights[-1] = 1.0
    return (np.abs(scipy.fft.rfft(filters_f, axis=-1)) @ weights)[..., None] / N


# -- supports --------------------------------------------------------------------------------
def support_bins(filters_f, eps):
    """Where Fourier filters `(n, N)` are not negligible: each row is at most `eps` times its
    largest magnitude outside bins -below..above (circularly). Returns two tuples of ints
    `(below, above)`; `below + above >= N - 1` means the row has no negligible band."""
    filters_f = np.atleast_2d(filters_f)
    n, N = filters_f.shape
    below, above = np.zeros(n, np.int64), np.zeros(n, np.int64)
    bins, step = np.arange(N), max(1, BAND_ENTRIES // N)
    for a in range(0, n, step):
        mag = np.abs(filters_f[a:a + step])
        keep = mag > eps * mag.max(axis=-1, keepdims=True)
        above[a:a + step] = np.where(keep & (bins <= N // 2), bins, 0).max(axis=-1)
        below[a:a + step] = np.where(keep & (bins > N // 2), N - bins, 0).max(axis=-1)
    return tuple(below.tolist()), tuple(above.tolist())


def _bank_support(filters_f, layout, eps=SUPPORT_EPS):
    """`support_bins` of a bank: a band row is zero outside its band, whose extent it takes
    (its band ends where it falls below SUPPORT_EPS); dense rows are scanned at `eps`."""
    N = filters_f.shape[-1]
    negative = N - N // 2 - 1  # bins N // 2 + 1..N - 1 are the frequencies -negative..-1
    first = (layout.start + negative) % N - negative  # the band's first signed frequency
    last = first + layout.length - 1
    wraps = last > N // 2  # then the band reaches the most negative frequency too
    above = np.where(wraps, N // 2, np.maximum(last, 0))
    below = np.where(wraps, negative, np.maximum(-first, 0))
    dense = np.flatnonzero(layout.dense)
    above[dense], below[dense] = support_bins(filters_f[dense], eps)[::-1]
    return tuple(below.tolist()), tuple(above.tolist())
