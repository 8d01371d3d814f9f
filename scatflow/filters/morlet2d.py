"""2D Morlet filter bank (ScatNet's, as Kymatio builds it), in NumPy, vectorized and cached.

The filters are built in space on the padded grid as a sum of 5x5 periodic replicas of an
anisotropic Gabor function, then moved to Fourier (real part of the FFT). Replicas whose
Gaussian envelope stays below 1e-22 of its peak everywhere are skipped: they add nothing in
float64. Lower-resolution copies ("levels") keep the low-frequency corners of the spectrum
(`filter_levels="kymatio"`, Kymatio's and ScatNet's) or sum all its aliases (`"local"`).
"""

from functools import lru_cache

import numpy as np
import scipy.fft

from . import decimated_circulant, read_only, significant_blocks

REPLICAS = (-2, -1, 0, 1, 2)
NEGLIGIBLE_EXPONENT = 50.0  # exp(-50) ~ 2e-22: a replica this far out changes nothing in float64


def wavelet_angle(theta, L):
    """Orientation of wavelet `theta` (0..L-1): Kymatio's (int(L - L/2 - 1) - theta) * pi / L."""
    return (int(L - L / 2 - 1) - theta) * np.pi / L


def wavelet_xi(j):
    """Centre frequency magnitude of the scale-j wavelets, radians per sample: 3 pi / 4 / 2^j."""
    return 3.0 / 4.0 * np.pi / 2**j


def wavelet_frequency(j, theta, L):
    """Centre frequency vector of wavelet (j, theta) in cycles per sample, along (rows, columns):
    the carrier of `gabor_2d`, `wavelet_xi(j)` in the direction `wavelet_angle(theta, L)`."""
    xi, angle = wavelet_xi(j) / (2 * np.pi), wavelet_angle(theta, L)
    return xi * np.cos(angle), xi * np.sin(angle)


def _quadratic_form(sigma, theta, slant):
    """Coefficients (a, b, c) of the envelope exponent a x^2 + b x y + c y^2.

    The rotation matrices are rounded to float32, as in Kymatio, so the filters match its."""
    cos, sin = np.cos(theta), np.sin(theta)
    rot = np.array([[cos, -sin], [sin, cos]], np.float32).astype(np.float64)
    rot_inv = np.array([[cos, sin], [-sin, cos]], np.float32).astype(np.float64)
    curv = rot @ np.diag([1.0, slant * slant]) @ rot_inv / (2 * sigma * sigma)
    return curv[0, 0], curv[0, 1] + curv[1, 0], curv[1, 1], np.linalg.eigvalsh(curv)[0]


def gabor_2d(M, N, sigma, theta, xi, slant=1.0):
    """Spatial Gabor filter and its envelope, periodized over 5x5 replicas of the M x N grid.

    Returns (gabor, envelope): complex128 and float64 arrays of shape (M, N), both divided by
    Kymatio's normalization 2 * 3.1415 * sigma^2 / slant."""
    a, b, c, smallest_eig = _quadratic_form(sigma, theta, slant)
    gabor = np.zeros((M, N), np.complex128)
    envelope = np.zeros((M, N), np.float64)
    rows, cols = np.arange(M, dtype=np.float64), np.arange(N, dtype=np.float64)
    for ex in REPLICAS:
        x = rows + ex * M
        dx = 0.0 if ex in (0, -1) else min(abs(x[0]), abs(x[-1]))
        for ey in REPLICAS:
            y = cols + ey * N
            dy = 0.0 if ey in (0, -1) else min(abs(y[0]), abs(y[-1]))
            if smallest_eig * (dx * dx + dy * dy) > NEGLIGIBLE_EXPONENT:
                continue
            env = np.exp(-((a * x * x)[:, None] + (b * x)[:, None] * y[None, :] + (c * y * y)[None, :]))
            envelope += env
            if xi != 0:
                phase_x = np.exp(1j * xi * np.cos(theta) * x)
                phase_y = np.exp(1j * xi * np.sin(theta) * y)
                gabor += env * phase_x[:, None] * phase_y[None, :]
    if xi == 0:
        gabor = envelope.astype(np.complex128)
    norm = 2 * 3.1415 * sigma * sigma / slant
    return gabor / norm, envelope / norm


def morlet_2d(M, N, sigma, theta, xi, slant):
    """Zero-mean Morlet: the Gabor minus its envelope scaled to cancel the mean."""
    gabor, envelope = gabor_2d(M, N, sigma, theta, xi, slant)
    return gabor - (gabor.sum() / envelope.sum()) * envelope


FILTER_LEVELS = ("kymatio", "local")


def periodize_filter(filter_f, res, filter_levels="kymatio"):
    """Fourier filter at resolution 2^-res, the sum of its 2^res x 2^res aliases.

    "kymatio": the central band is zeroed first, leaving the four low-frequency corners (Kymatio,
    ScatNet). The cut makes the spatial filter band-limited, so it is not compactly supported:
    sinc tails, up to ~4% of the low-pass at j = J-1, reach across the whole padded image.
    "local": all aliases summed, which is exactly the spatial filter sampled every 2^res pixels
    (times 4^res): as local as the filter itself, so chunk-wise results equal whole-image ones."""
    if res == 0:
        return filter_f
    M, N = filter_f.shape
    k = 2**res
    if filter_levels == "local":
        return filter_f.reshape(k, M // k, k, N // k).sum(axis=(0, 2))
    mask_rows = np.ones(M)
    mask_rows[M // (2 * k): M // (2 * k) + int(M * (1 - 1 / k))] = 0
    mask_cols = np.ones(N)
    mask_cols[N // (2 * k): N // (2 * k) + int(N * (1 - 1 / k))] = 0
    masked = filter_f * mask_rows[:, None] * mask_cols[None, :]
    return masked.reshape(k, M // k, k, N // k).sum(axis=(0, 2))


@lru_cache(maxsize=16)
def filter_bank_2d(M_padded, N_padded, J, L, filter_levels="kymatio"):
    """Fourier-domain 2D filters on the padded grid (`filter_levels`: see `periodize_filter`).

    Returns (phi, psi): `phi[r]` is the low-pass at resolution 2^-r for r = 0..max(J-1, 0)
    (J = 0: the full-resolution low-pass alone, no decimation); `psi[j][r]`
    is an (L, M_padded / 2^r, N_padded / 2^r) stack of the L wavelets of scale j, for the
    resolutions the algorithm uses (r = 0 and r < j). Arrays are float64 and read-only.
    """
    psi = tuple(_wavelet_levels(M_padded, N_padded, J, L, j, filter_levels) for j in range(J))
    return lowpass_levels_2d(M_padded, N_padded, J, filter_levels), psi


# Fourier filters computed as the FFT of spatial ones carry round-off of about 1e-16 of their
# peak at every bin: blocks of the spectrum below NEGLIGIBLE times the peak add nothing a
# float64 result can hold, and the periodizations skip them (`wavelet_blocks_2d`).
NEGLIGIBLE = 1e-16


@lru_cache(maxsize=16)
def wavelet_blocks_2d(M_padded, N_padded, J, L, filter_levels="kymatio"):
    """`blocks[j][r]`: the `significant_blocks` of `psi[j][r]` (`filter_bank_2d`) for the
    periodization the scattering applies to it, by 2^(j - r)."""
    _, psi = filter_bank_2d(M_padded, N_padded, J, L, filter_levels)
    return tuple({r: significant_blocks(level, 2 ** (j - r), NEGLIGIBLE)
                  for r, level in levels.items()} for j, levels in enumerate(psi))


@lru_cache(maxsize=16)
def lowpass_levels_2d(M_padded, N_padded, J, filter_levels="kymatio"):
    """`phi[r]`, the Fourier low-pass at resolution 2^-r for r = 0..max(J-1, 0)."""
    phi_full = np.real(scipy.fft.fft2(gabor_2d(M_padded, N_padded, 0.8 * 2 ** (J - 1), 0, 0)[0]))
    return tuple(read_only(periodize_filter(phi_full, r, filter_levels)) for r in range(max(J, 1)))


@lru_cache(maxsize=16)
def lowpass_matrices_2d(M_padded, N_padded, J, filter_levels="kymatio", periodic=(False, False)):
    """The low-pass step of the 2D scattering as matrices: for each resolution r, `(rows, cols)`
    such that averaging an image U at resolution 2^-r with `phi[r]`, decimating to 2^-J and
    dropping the outermost output sample on each side (along the axes that are not `periodic`,
    which are not padded) equals `rows @ U @ cols`.

    phi is separable (an isotropic Gaussian on a rectangular grid, band cuts per axis), so its
    spatial kernel is the outer product of two periodic 1D kernels and the step is two small
    matrix products: far cheaper than the FFT of U it replaces."""
    matrices = []
    for r, phi in enumerate(lowpass_levels_2d(M_padded, N_padded, J, filter_levels)):
        along_rows, along_cols = phi[:, 0], phi[0, :] / phi[0, 0]
        if np.abs(np.outer(along_rows, along_cols) - phi).max() > 1e-12 * np.abs(phi).max():
            raise RuntimeError("the 2D low-pass is not separable: lowpass_matrices_2d does not apply")
        step = 2 ** (J - r)
        rows, cols = (decimated_circulant(kernel, step * _kept_outputs(kernel.size // step, whole))
                      for kernel, whole in zip((along_rows, along_cols), periodic))
        cols = cols.T
        matrices.append((read_only(rows), read_only(np.ascontiguousarray(cols))))
    return tuple(matrices)


def _kept_outputs(count, periodic):
    """The decimated low-pass samples an axis keeps: all of them where it is periodic, else all
    but the outermost one on each side (Kymatio's crop of the padded border)."""
    return np.arange(count) if periodic else np.arange(1, count - 1)


def _wavelet_levels(M, N, J, L, j, filter_levels):
    """{r: (L, M / 2^r, N / 2^r)} for the L wavelets of scale j (one scale at a time, so that
    the complex spatial filters of the whole bank never sit in memory together)."""
    spatial = np.stack([morlet_2d(M, N, 0.8 * 2**j, wavelet_angle(theta, L), wavelet_xi(j),
                                  4.0 / L) for theta in range(L)])
    full = np.real(scipy.fft.fft2(spatial))
    return {r: read_only(np.stack([periodize_filter(f, r, filter_levels) for f in full]))
            for r in sorted({0, *range(j)})}
