"""Solid harmonic wavelets of Kymatio 0.3.0's `HarmonicScattering3D`, in the Fourier domain.

Kymatio's filter of degree l, scale j and order m (-l <= m <= l) is, at the frequency w,

    psi_{l,j,m}(w) = norm_l (2 pi)^{3/2} (-i)^l (sigma_j |w|)^l exp(-sigma_j^2 |w|^2 / 2) Y_l^m(w)

with sigma_j = sigma_0 2^j, j = 0..J, and for l = 0 just the Gaussian exp(-sigma_j^2 |w|^2 / 2).
It is a real radial factor (l, j) times a complex angular factor (l, m), and we keep it in that
form: `radial_factors` (L+1, J+1, M, N, O) float64 and `angular_factors`, per l >= 1,
(2l+1, M, N, O) complex128 = (-i)^l Y_l^m. That is L(L+2) + (L+1)(J+1)/2 volumes instead of
(J+1)(L+1)^2. `solid_harmonic_filter_bank` multiplies them out into Kymatio's layout, per l
(J+1, 2l+1, M, N, O).

Mirror symmetry: (-i)^l Y_l^{-m} = (-1)^{l+m} conj((-i)^l Y_l^m), and psi_{l,j,m}(-w) =
(-1)^l psi_{l,j,m}(w). On the DFT grid the mirror -k mod n of a frequency is its negation except
on the Nyquist planes of even sizes (Kymatio's grid holds -pi there, not +pi) and everywhere for
odd sizes (the origin sits at index 1). Where the symmetry holds, a real input x gives
|x * psi_{l,j,-m}| = |x * psi_{l,j,m}|: `mirror_symmetric` says where (to a tolerance).

Kymatio's conventions, reproduced here (`kymatio/scattering3d/filter_bank.py`, `utils.py`):

* grid: ifftshift(mgrid[-M//2 : -M//2 + M, ...]) times 2 pi / M (per axis). For odd sizes this
  grid runs from -(M+1)/2 to (M-3)/2, so its origin sits at index 1, not 0: Kymatio's quirk, kept.
* the first array axis is called z: polar = arctan2(z, sqrt(x^2 + y^2)) + pi/2 (pi minus the usual
  polar angle), azimuthal = arctan2(y, x).
* Y_l^m = `scipy.special.sph_harm(m, l, azimuthal, polar)` of SciPy < 1.17, which is
  `scipy.special.sph_harm_y(l, m, polar, azimuthal)`: argument order and meaning both swap.
* norm_l = 1 / (2 pi sqrt(l + 1/2) (l+1)!!) for even l, 1 / (2^{(l+3)/2} sqrt(pi (2l+1)) ((l+1)/2)!)
  for odd l.

Kymatio builds in float32/complex64; we build in float64/complex128 (the frontend casts for
float32 input). Kymatio's Gaussian filter bank (never used by its algorithm) is not built.
Every array returned is read-only and cached by its parameters: the factored bank while
something holds it (`cached_while_held`; at 128^3 it is 400 MB in float64, and a frontend that
converted it to float32 or to torch buffers lets it go rather than keeping both for the life of
the process), Kymatio's multiplied-out layout by `functools.lru_cache`.
"""

import functools
import math
import weakref

import numpy as np
from scipy.special import sph_harm_y, sph_legendre_p

from . import read_only


@functools.lru_cache(maxsize=8)
def frequency_axes(shape):
    """Kymatio's angular frequencies along each axis (three read-only 1-D arrays)."""
    return tuple(read_only(np.fft.ifftshift(np.arange((-n) // 2, (-n) // 2 + n, dtype=np.float64))
                           * (2 * np.pi / n)) for n in shape)


def _radius(shape):
    """|w| on the (M, N, O) grid."""
    wz, wy, wx = frequency_axes(shape)
    return np.sqrt(wz[:, None, None] ** 2 + wy[None, :, None] ** 2 + wx[None, None, :] ** 2)


def kymatio_angles(shape, sparse=False):
    """(polar, azimuthal) on the (M, N, O) grid, with Kymatio's conventions (z = first axis).

    With `sparse=True` the azimuthal angle, which does not depend on z, has shape (1, N, O)."""
    wz, wy, wx = frequency_axes(shape)
    z, y, x = np.meshgrid(wz, wy, wx, indexing="ij", sparse=True)
    polar = np.arctan2(z, np.sqrt(x**2 + y**2)) + np.pi / 2
    azimuthal = np.arctan2(y, x)
    return (polar, azimuthal) if sparse else tuple(np.broadcast_arrays(polar, azimuthal))


def spherical_harmonic(l, m, polar, azimuthal):
    """SciPy < 1.17's `sph_harm(m, l, azimuthal, polar)` (Condon-Shortley phase included)."""
    return sph_harm_y(l, m, polar, azimuthal)


def spherical_harmonics(l, polar, azimuthal, factor=1.0):
    """(2l+1, ...) array of `factor * spherical_harmonic(l, m, polar, azimuthal)`, m = -l..l,
    computed as the real spherical Legendre function of the polar angle (3-D) times
    exp(i m azimuthal) (2-D here, broadcast), with Y_l^{-m} = (-1)^m conj(Y_l^m): about 4x faster
    than sph_harm_y, and equal to it (tested)."""
    shape = np.broadcast_shapes(np.shape(polar), np.shape(azimuthal))
    out = np.empty((2 * l + 1,) + shape, dtype=np.complex128)
    for m in range(l + 1):
        # (SciPy 1.17 returns a leading axis of length 1 for the derivatives: drop it)
        theta = np.asarray(sph_legendre_p(l, m, polar)).reshape(np.shape(polar))
        phase = np.exp(1j * m * azimuthal)
        np.multiply(theta, factor * phase, out=out[l + m])
        if m:
            np.multiply(theta, factor * (-1) ** m * np.conj(phase), out=out[l - m])
    return out


def norm_factor(l):
    """Kymatio's normalization of the degree-l wavelet (l >= 1), without (2 pi)^{3/2} (-i)^l."""
    if l % 2 == 0:
        double_factorial = math.prod(range(l + 1, 0, -2))
        return 1.0 / (2 * np.pi * math.sqrt(l + 0.5) * double_factorial)
    return 1.0 / (2 ** (0.5 * (l + 3)) * math.sqrt(np.pi * (2 * l + 1))
                  * math.factorial((l + 1) // 2))


def cached_while_held(builder):
    """`builder(*key)`, an array, cached by its key for as long as something else holds it (a
    weak reference): each holder (a frontend's converted bank, another core) shares one copy,
    and a bank nobody holds is freed, then rebuilt if asked for again."""
    cache = weakref.WeakValueDictionary()

    @functools.wraps(builder)
    def cached(*key):
        array = cache.get(key)
        if array is None:
            array = cache[key] = builder(*key)
        return array

    cached.cache = cache
    return cached


def angular_factors(shape, L):
    """Per degree l = 0..L, the (2l+1, M, N, O) complex128 array (-i)^l Y_l^m, m = -l..l; None
    for l = 0 (Kymatio's l = 0 filter is the bare Gaussian: no harmonic or norm)."""
    shape = tuple(int(n) for n in shape)
    return (None,) + tuple(angular_factor(shape, l) for l in range(1, int(L) + 1))


@cached_while_held
def angular_factor(shape, l):
    """The (2l+1, M, N, O) complex128 array (-i)^l Y_l^m, m = -l..l, of degree l >= 1."""
    polar, azimuthal = kymatio_angles(shape, sparse=True)
    return read_only(spherical_harmonics(l, polar, azimuthal, (-1j) ** l))


MIRROR_TOLERANCE = 2.0**-80


def mirror_symmetric(shape, l, sigma):
    """Whether psi_{l,j,m}(-k) = (-1)^l psi_{l,j,m}(k) on the whole DFT grid of `shape`, up to
    MIRROR_TOLERANCE times the filter's peak, for the width sigma = sigma_0 2^j (l >= 1).

    True where every size is even and the filter is below the tolerance on the Nyquist planes,
    where |w| >= pi: the radial factor s^l exp(-s^2 / 2), s = sigma |w|, peaks at s = sqrt(l)
    and decreases beyond. 2^-80 is 2^-27 of float64 rounding: the scattering differs from the
    unpaired one by rounding unless the input's spectrum is 10^8 times stronger on the Nyquist
    planes than in the filter's band. With sigma_0 = 1: j >= 2 (j = 2 up to l = 13)."""
    if any(int(n) % 2 for n in shape):
        return False
    s = float(sigma) * math.pi
    if s * s <= l:
        return False
    log_ratio = l * math.log(s / math.sqrt(l)) - 0.5 * (s * s - l)
    return log_ratio <= math.log(MIRROR_TOLERANCE)


@cached_while_held
def radial_factors(shape, J, L, sigma_0):
    """(L+1, J+1, M, N, O) float64: norm_l (2 pi)^{3/2} s^l exp(-s^2 / 2), s = sigma_0 2^j |w|,
    and for l = 0 the Gaussian exp(-s^2 / 2)."""
    shape = tuple(int(n) for n in shape)
    radius = _radius(shape)
    sigmas = float(sigma_0) * 2.0 ** np.arange(J + 1)
    s = sigmas.reshape(-1, 1, 1, 1) * radius                      # (J+1, M, N, O)
    half_s2 = 0.5 * s * s
    out = np.empty((L + 1, J + 1) + shape, dtype=np.float64)
    out[0] = np.exp(-half_s2)
    if L >= 1:
        with np.errstate(divide="ignore", over="ignore"):
            log_s = np.log(s)                                     # -inf at w = 0: gives 0 below
        for l in range(1, L + 1):
            # s^l exp(-s^2/2), written so that huge sigma_j gives 0 rather than inf * 0 = nan
            np.exp(l * log_s - half_s2, out=out[l])
            out[l] *= norm_factor(l) * (2 * np.pi) ** 1.5
    return read_only(out)


def harmonic_filters(shape, J, L, sigma_0):
    """The factored bank: {'radial': radial_factors(...), 'angular': angular_factors(...)}."""
    shape = tuple(int(n) for n in shape)
    return {"radial": radial_factors(shape, int(J), int(L), float(sigma_0)),
            "angular": angular_factors(shape, int(L))}


@functools.lru_cache(maxsize=2)
def solid_harmonic_filter_bank(shape, J, L, sigma_0):
    """Kymatio's `solid_harmonic_filter_bank(M, N, O, J, L, sigma_0)` layout: per l = 0..L a
    (J+1, 2l+1, M, N, O) complex128 array of psi_{l,j,m}, m = -l..l (read-only)."""
    bank = harmonic_filters(shape, J, L, sigma_0)
    radial, angular = bank["radial"], bank["angular"]
    return (read_only(radial[0][:, None].astype(np.complex128)),) + tuple(
        read_only(radial[l][:, None] * angular[l][None]) for l in range(1, int(L) + 1))
