"""HarmonicScattering3D: Kymatio 0.3.0's numbers, filters, shapes and order, and the behaviour
around them (analytic Gaussian case, rotation covariance, output formats, parameter checks)."""

import math
import warnings

import numpy as np
import pytest
import scipy.fft
from scipy.special import factorial, lpmv

import scatflow.filters.harmonic3d as fh
from reference import fixture_files, load_fixture, scatflow_kwargs, worst_channel_error
from scatflow.numpy import HarmonicScattering3D

FIXTURES_3D = fixture_files("0.3.0", "3d")


def build(path, **extra):
    kwargs, _, _ = scatflow_kwargs(path)
    return HarmonicScattering3D(**(kwargs | extra))


def channels(S, batch_ndim):
    """(*batch, K, L+1, P) -> (*batch, K*(L+1), P): each (k, l) slot is a channel."""
    return S.reshape(S.shape[:batch_ndim] + (-1, S.shape[-1]))


def blobs(shape, seed=0, batch=()):
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[0:shape[0], 0:shape[1], 0:shape[2]].astype(float)
    out = np.zeros(batch + tuple(shape))
    for idx in np.ndindex(*batch):
        for _ in range(3):
            c = rng.uniform(0.2, 0.8, 3) * np.array(shape)
            s = rng.uniform(1.0, 2.5)
            out[idx] += np.exp(-((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * s * s))
        out[idx] += 0.05 * rng.random(shape)
    return out


# -- Kymatio's numbers ------------------------------------------------------------------------
def test_there_are_enough_fixtures():
    assert len(FIXTURES_3D) >= 6


@pytest.mark.parametrize("path", FIXTURES_3D, ids=lambda p: p.stem)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_kymatio_030(path, dtype):
    params, x, data = load_fixture(path)
    S = build(path)
    out = S(x.astype(dtype))
    assert out.dtype == dtype
    assert out.shape == data["S"].shape
    batch_ndim = x.ndim - 3
    error = worst_channel_error(channels(out, batch_ndim), channels(data["S"], batch_ndim),
                                channel_axis=batch_ndim)
    assert error <= 3e-4


def old_sph_harm(m, l, azimuthal, polar):
    """SciPy < 1.17's `sph_harm(m, l, theta=azimuthal, phi=polar)`, from its definition with the
    associated Legendre function (Condon-Shortley phase included, as in `lpmv`)."""
    norm = math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - m) / math.factorial(l + m))
    return norm * lpmv(m, l, np.cos(polar)) * np.exp(1j * m * azimuthal)


def test_spherical_harmonic_is_the_old_sph_harm():
    polar = np.array([0.0, 0.3, 1.2, np.pi / 2, 2.9, np.pi])
    azimuthal = np.array([-3.1, -1.0, 0.0, 0.4, 2.0, np.pi])  # arctan2 range, negatives included
    for l in range(5):
        for m in range(-l, l + 1):
            ours = fh.spherical_harmonic(l, m, polar, azimuthal)
            np.testing.assert_allclose(ours, old_sph_harm(m, l, azimuthal, polar), atol=1e-13)
    # the swap matters: argument order and meaning both change
    assert not np.allclose(fh.spherical_harmonic(2, 1, polar, azimuthal),
                           fh.spherical_harmonic(2, 1, azimuthal, polar))


def test_fast_harmonics_equal_sph_harm_y_on_kymatios_grid():
    shape = (6, 9, 8)
    polar, azimuthal = fh.kymatio_angles(shape)
    for l in range(5):
        fast = fh.spherical_harmonics(l, *fh.kymatio_angles(shape, sparse=True))
        for i_m, m in enumerate(range(-l, l + 1)):
            np.testing.assert_allclose(fast[i_m], fh.spherical_harmonic(l, m, polar, azimuthal),
                                       rtol=1e-13, atol=1e-15)


def kymatio_grid(shape):
    """Kymatio's Fourier grid, written as its filter_bank.py writes it."""
    M, N, O = shape
    g = np.fft.ifftshift(np.mgrid[-M // 2:-M // 2 + M, -N // 2:-N // 2 + N,
                                  -O // 2:-O // 2 + O].astype(float), axes=(1, 2, 3))
    g[0] *= 2 * np.pi / M
    g[1] *= 2 * np.pi / N
    g[2] *= 2 * np.pi / O
    return g


def kymatio_filter_value(w, sigma, l, m):
    """psi_{l,m} at one frequency w = (z, y, x), from Kymatio's formulas (scalar code)."""
    z, y, x = w
    r2 = z * z + y * y + x * x
    gaussian = math.exp(-0.5 * r2 * sigma**2)
    if l == 0:
        return gaussian
    polar = math.atan2(z, math.sqrt(x * x + y * y)) + math.pi / 2
    azimuthal = math.atan2(y, x)
    if l % 2 == 0:
        norm = 1 / (2 * math.pi * math.sqrt(l + 0.5) * np.prod(np.arange(l + 1, 0, -2)))
    else:
        norm = 1 / (2 ** (0.5 * (l + 3)) * math.sqrt(math.pi * (2 * l + 1))
                    * factorial((l + 1) / 2))
    radial = math.sqrt(r2**l) * sigma**l * gaussian
    return (norm * (2 * math.pi) ** 1.5 * (-1j) ** l * radial
            * old_sph_harm(m, l, azimuthal, polar))


@pytest.mark.parametrize("shape", [(8, 8, 8), (6, 5, 7)])
def test_filters_match_kymatio_formulas(shape):
    J, L, sigma_0 = 1, 3, 1.3
    g = kymatio_grid(shape)
    for axis, n in enumerate(shape):
        line = [slice(0, 1)] * 3
        line[axis] = slice(None)
        np.testing.assert_allclose(fh.frequency_axes(shape)[axis], g[axis][tuple(line)].ravel())
    bank = fh.solid_harmonic_filter_bank(shape, J, L, sigma_0)
    assert [b.shape for b in bank] == [(J + 1, 2 * l + 1) + shape for l in range(L + 1)]
    rng = np.random.default_rng(1)
    points = [(0, 0, 0), (1, 0, 0), (0, 0, 1), (shape[0] // 2, 1, 2)]
    points += [tuple(rng.integers(0, n) for n in shape) for _ in range(12)]
    for l in range(L + 1):
        for j in range(J + 1):
            for i_m, m in enumerate(range(-l, l + 1)):
                for p in points:
                    expected = kymatio_filter_value(g[(slice(None),) + p], sigma_0 * 2**j, l, m)
                    assert abs(bank[l][j, i_m][p] - expected) <= 1e-12 * max(1.0, abs(expected))


def test_filters_are_cached_and_read_only():
    a = fh.harmonic_filters((8, 8, 8), 2, 2, 1.0)
    b = fh.harmonic_filters((8, 8, 8), 2, 2, 1.0)
    assert a["radial"] is b["radial"] and a["angular"][2] is b["angular"][2]
    assert a["radial"].shape == (3, 3, 8, 8, 8) and a["radial"].dtype == np.float64
    assert a["angular"][2].dtype == np.complex128
    with pytest.raises(ValueError):
        a["radial"][0, 0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        a["angular"][1][0, 0, 0, 0] = 1.0
    bank = fh.solid_harmonic_filter_bank((8, 8, 8), 2, 2, 1.0)
    assert not bank[1].flags.writeable


def test_huge_widths_give_zero_filters_not_nan():
    radial = fh.radial_factors((8, 8, 8), 3, 3, 1e100)
    assert np.isfinite(radial).all()
    assert radial[1:, :, 0, 0, 0].max() == 0 and radial[0, :, 0, 0, 0].min() == 1


def naive_scattering(x, J, L, sigma_0, max_order, rotation_covariant, powers):
    """Kymatio's loop (one filter at a time, full filter bank), for (B, M, N, O) input."""
    bank = fh.solid_harmonic_filter_bank(x.shape[1:], J, L, sigma_0)
    X = scipy.fft.fftn(x, axes=(1, 2, 3))

    def modulus(spectrum, psi):
        ms = range(psi.shape[0]) if rotation_covariant else [0]
        energy = sum(np.abs(scipy.fft.ifftn(spectrum * psi[m], axes=(1, 2, 3))) ** 2 for m in ms)
        return np.sqrt(energy)

    def integrals(U):
        return np.stack([(U**p).sum(axis=(1, 2, 3)) for p in powers], axis=-1)

    per_l = []
    for l in range(L + 1):
        s1, s2 = [], []
        for j1 in range(J + 1):
            U1 = modulus(X, bank[l][j1])
            s1.append(integrals(U1))
            if max_order > 1:
                U1_hat = scipy.fft.fftn(U1, axes=(1, 2, 3))
                s2 += [integrals(modulus(U1_hat, bank[l][j2])) for j2 in range(j1 + 1, J + 1)]
        per_l.append(s1 + s2)
    return np.stack([np.stack(k_paths, axis=1) for k_paths in zip(*per_l)], axis=1)


@pytest.mark.parametrize("shape, kwargs", [
    ((7, 8, 9), dict(J=2, L=2)),
    ((9, 9, 5), dict(J=1, L=3, rotation_covariant=False, integral_powers=(0.5, 3.0))),
    ((6, 10, 8), dict(J=2, L=1, sigma_0=0.7, max_order=1)),
])
def test_matches_a_naive_loop_on_odd_and_mixed_sizes(shape, kwargs):
    x = blobs(shape, seed=3, batch=(2,))
    S = HarmonicScattering3D(shape=shape, **kwargs)
    full = dict(L=3, sigma_0=1, max_order=2, rotation_covariant=True, integral_powers=(0.5, 1, 2))
    full.update(kwargs)
    expected = naive_scattering(x, full["J"], full["L"], full["sigma_0"], full["max_order"],
                                full["rotation_covariant"], full["integral_powers"])
    np.testing.assert_allclose(S(x), expected, rtol=1e-10)


def test_grouping_and_batch_chunks_do_not_change_the_numbers():
    x = blobs((12, 12, 12), seed=4, batch=(3,))
    S = HarmonicScattering3D(J=2, shape=(12, 12, 12), L=2)
    reference = S(x)
    S.core.working_bytes = S.core.group_bytes = 16 * 12**3  # one volume: split batch, rows and m
    np.testing.assert_allclose(S(x), reference, rtol=1e-12)


# -- analytic and symmetry properties ---------------------------------------------------------
def test_single_gaussian_matches_the_analytic_value():
    """Kymatio's test_solid_harmonic_scattering: for a normalized Gaussian of width sigma_g at
    the origin, the first-order p=1 integral at wavelet width sigma_w is
    (sigma_w / sqrt(sigma_w^2 + sigma_g^2))^l. Kymatio runs it on 128^3; 80^3 already meets
    its tolerance 1e-4 (64^3 does not: the widest wavelet wraps around)."""
    M = 80
    sigma_g, sigma_0, J, L = 3.0, 3.0, 1, 3
    g = np.fft.ifftshift(np.mgrid[-M // 2:-M // 2 + M, -M // 2:-M // 2 + M,
                                  -M // 2:-M // 2 + M].astype(float), axes=(1, 2, 3))
    x = np.exp(-0.5 * (g**2).sum(0) / sigma_g**2) / ((2 * np.pi) ** 1.5 * sigma_g**3)
    S = HarmonicScattering3D(J=J, shape=(M, M, M), L=L, sigma_0=sigma_0, max_order=1,
                             integral_powers=[1])
    s = S(x[None])
    assert s.shape == (1, J + 1, L + 1, 1)
    for j in range(J + 1):
        sigma_w = sigma_0 * 2**j
        k = sigma_w / np.sqrt(sigma_w**2 + sigma_g**2)
        for l in range(L + 1):
            assert abs(s[0, j, l, 0] - k**l) / abs(s[0, j, l, 0]) < 1e-4, (j, l)


@pytest.mark.parametrize("axes", [(0, 1), (0, 2), (1, 2)])
def test_rotation_covariant_coefficients_survive_90_degree_rotations(axes):
    x = np.random.default_rng(5).standard_normal((16, 16, 16))
    covariant = HarmonicScattering3D(J=2, shape=(16, 16, 16), L=3)
    a, b = covariant(x), covariant(np.rot90(x, axes=axes))
    # exact up to the Nyquist planes of Kymatio's grid (-pi, not +pi): measured <= 2e-5
    assert np.max(np.abs(a - b) / np.abs(a)) < 1e-4
    if axes != (1, 2):  # a rotation that moves the z axis mixes the orders m
        plain = HarmonicScattering3D(J=2, shape=(16, 16, 16), L=3, rotation_covariant=False)
        c, d = plain(x), plain(np.rot90(x, axes=axes))
        assert np.max(np.abs(c - d) / np.abs(c)) > 1e-2


def test_max_order_1_is_the_first_j_slots_of_max_order_2():
    x = blobs((10, 12, 8), seed=6, batch=(2,))
    J, L = 2, 2
    S1 = HarmonicScattering3D(J=J, shape=(10, 12, 8), L=L, max_order=1)(x)
    S2 = HarmonicScattering3D(J=J, shape=(10, 12, 8), L=L, max_order=2)(x)
    assert S1.shape == (2, J + 1, L + 1, 3)
    assert S2.shape == (2, J + 1 + J * (J + 1) // 2, L + 1, 3)
    np.testing.assert_allclose(S1, S2[:, : J + 1], rtol=1e-12)


# -- output formats and metadata --------------------------------------------------------------
def test_meta_output_size_dict_and_list_agree_with_the_array():
    J, L, shape = 2, 2, (8, 8, 8)
    x = blobs(shape, seed=7, batch=(2,))
    S = HarmonicScattering3D(J=J, shape=shape, L=L, integral_powers=(1, 2))
    array = S(x)
    K = J + 1 + J * (J + 1) // 2
    assert S.output_size() == K * (L + 1) == array.shape[1] * array.shape[2]
    assert S.output_size(detail=True) == ((J + 1) * (L + 1), J * (J + 1) // 2 * (L + 1))
    meta = S.meta()
    assert meta["order"].shape == (S.output_size(),) and meta["j"].shape == (S.output_size(), 2)
    flat = array.reshape(2, K * (L + 1), 2)
    for i, key in enumerate(meta["key"]):
        l, js = key[0], key[1:]
        assert meta["l"][i] == l and meta["order"][i] == len(js)
        np.testing.assert_array_equal(meta["j"][i, : len(js)], js)
        assert np.isnan(meta["j"][i, len(js):]).all()
        k = js[0] if len(js) == 1 else J + 1 + [(a, b) for a in range(J + 1)
                                                 for b in range(a + 1, J + 1)].index(js)
        assert i == k * (L + 1) + l  # Kymatio's flattened (K, L+1) order
    as_dict = HarmonicScattering3D(J=J, shape=shape, L=L, integral_powers=(1, 2),
                                   out_type="dict")(x)
    assert list(as_dict) == meta["key"]
    as_list = HarmonicScattering3D(J=J, shape=shape, L=L, integral_powers=(1, 2),
                                   out_type="list")(x)
    assert len(as_list) == S.output_size()
    for i, (key, item) in enumerate(zip(meta["key"], as_list)):
        assert set(item) == {"coef", "order", "l", "j"}
        assert (item["l"],) + item["j"] == key and item["order"] == len(item["j"])
        assert item["coef"].shape == (2, 2)
        np.testing.assert_array_equal(item["coef"], flat[:, i])
        np.testing.assert_array_equal(as_dict[key], flat[:, i])


def test_batch_dims_are_kept():
    shape = (8, 8, 8)
    S = HarmonicScattering3D(J=1, shape=shape, L=1)
    x = blobs(shape, seed=8, batch=(2, 3))
    out = S(x)
    assert out.shape == (2, 3, 3, 2, 3)
    np.testing.assert_allclose(out[1, 2], S(x[1, 2]), rtol=1e-12)
    assert S(x[0, 0]).shape == (3, 2, 3)
    assert S(x[None, None, :1, 0]).shape == (1, 1, 1, 3, 2, 3)


def test_dtypes():
    shape = (8, 8, 8)
    S = HarmonicScattering3D(J=1, shape=shape, L=1)
    x = blobs(shape, seed=9)
    assert S(x.astype(np.float32)).dtype == np.float32
    assert S(x).dtype == np.float64
    assert S((x * 100).astype(np.int32)).dtype == np.float64
    np.testing.assert_allclose(S(x.astype(">f8")), S(x), rtol=1e-12)


def test_zero_input_gives_zeros():
    out = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=2)(np.zeros((8, 8, 8)))
    assert np.isfinite(out).all() and np.abs(out).max() < 1e-12


def test_nan_input_propagates_without_crashing():
    shape = (8, 8, 8)
    S = HarmonicScattering3D(J=1, shape=shape, L=2)
    clean = blobs(shape, seed=10)
    dirty = clean.copy()
    dirty[3, 4, 5] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = S(np.stack([clean, dirty]))
    assert np.isnan(out[1]).all()
    np.testing.assert_allclose(out[0], S(clean), rtol=1e-12)


# -- checks -----------------------------------------------------------------------------------
BAD_PARAMETERS = [
    (dict(J=-1), ValueError, "J"),
    (dict(J=1.5), TypeError, "J"),
    (dict(J=True), TypeError, "J"),
    (dict(J=5000), ValueError, "J"),
    (dict(shape=(8, 8)), ValueError, "shape"),
    (dict(shape=8), ValueError, "shape"),
    (dict(shape=(8, 0, 8)), ValueError, "shape"),
    (dict(shape=(8, 8.0, 8)), TypeError, "shape"),
    (dict(L=-1), ValueError, "L"),
    (dict(L=2.0), TypeError, "L"),
    (dict(sigma_0=0), ValueError, "sigma_0"),
    (dict(sigma_0=-1.0), ValueError, "sigma_0"),
    (dict(sigma_0=float("nan")), ValueError, "sigma_0"),
    (dict(sigma_0=float("inf")), ValueError, "sigma_0"),
    (dict(sigma_0="1"), TypeError, "sigma_0"),
    (dict(sigma_0=1e200), ValueError, "sigma_0"),
    (dict(max_order=0), ValueError, "max_order"),
    (dict(max_order=3), ValueError, "max_order"),
    (dict(max_order=1.0), TypeError, "max_order"),
    (dict(rotation_covariant="yes"), TypeError, "rotation_covariant"),
    (dict(rotation_covariant=1), TypeError, "rotation_covariant"),
    (dict(method="standard"), ValueError, "method"),
    (dict(method="local"), ValueError, "method"),
    (dict(points=[(1, 2, 3)]), ValueError, "points"),
    (dict(integral_powers=()), ValueError, "integral_powers"),
    (dict(integral_powers=[0]), ValueError, "integral_powers"),
    (dict(integral_powers=[1, -1]), ValueError, "integral_powers"),
    (dict(integral_powers=[float("inf")]), ValueError, "integral_powers"),
    (dict(integral_powers=[[1, 2]]), ValueError, "integral_powers"),
    (dict(integral_powers=[1, "2"]), TypeError, "integral_powers"),
    (dict(integral_powers="12"), TypeError, "integral_powers"),
    (dict(integral_powers=2), TypeError, "integral_powers"),
    (dict(out_type="tensor"), ValueError, "out_type"),
    (dict(backend="torch"), ValueError, "backend"),
]


@pytest.mark.parametrize("bad, error, name", BAD_PARAMETERS,
                         ids=[f"{list(b)[0]}={b[list(b)[0]]!r}" for b, _, _ in BAD_PARAMETERS])
def test_parameter_errors_name_the_parameter(bad, error, name):
    kwargs = dict(J=1, shape=(8, 8, 8))
    kwargs.update(bad)
    with pytest.raises(error, match=name):
        HarmonicScattering3D(**kwargs)


def test_checks_run_before_any_filter_is_built(monkeypatch):
    built = []
    monkeypatch.setattr(fh, "radial_factors", lambda *key: built.append(key))
    monkeypatch.setattr(fh, "angular_factor", lambda *key: built.append(key))
    shape = (5, 6, 11)
    with pytest.raises(ValueError, match="out_type"):
        HarmonicScattering3D(J=1, shape=shape, out_type="tensor")
    with pytest.raises(ValueError, match="integral_powers"):
        HarmonicScattering3D(J=1, shape=shape, integral_powers=[])
    assert built == []


def test_parameters_are_stored_untouched():
    powers = [1, 2]
    shape = [8, 8, 8]
    S = HarmonicScattering3D(2, shape, L=1, sigma_0=2, max_order=1, rotation_covariant=False,
                             integral_powers=powers)
    assert S.shape is shape and S.integral_powers is powers
    assert (S.J, S.L, S.sigma_0, S.max_order, S.rotation_covariant) == (2, 1, 2, 1, False)
    assert (S.method, S.points, S.out_type, S.backend) == ("integral", None, "array", None)
    assert S.core.integral_powers == (1.0, 2.0)


def test_numpy_integral_powers_and_bool_are_accepted():
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=np.array([1.0, 2.0]),
                             rotation_covariant=np.bool_(True))
    assert S(np.ones((8, 8, 8))).shape == (3, 2, 2)


@pytest.mark.parametrize("shape", [(8, 8, 9), (8, 8), (64,), (9, 8, 8)])
def test_wrong_input_shape(shape):
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)
    with pytest.raises(ValueError, match="x must have shape"):
        S(np.zeros(shape))


def test_parameters_set_after_construction_rederive_it():
    """As Kymatio's 3D tests do: `S.max_order = 1; S.integral_powers = [1]`."""
    x = np.random.default_rng(4).standard_normal((2, 8, 8, 8))
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)
    S.method = "integral"  # its value already: nothing to re-derive
    S.max_order = 1
    S.integral_powers = [1]
    expected = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, max_order=1, integral_powers=[1])
    np.testing.assert_array_equal(S(x), expected(x))
    assert S(x).shape == (2, 2, 2, 1) and S.parameters() == expected.parameters()
    with pytest.raises(ValueError, match="method"):
        S.method = "standard"
    assert S.method == "integral"
    with pytest.raises(RuntimeError, match="at least three dimensions"):
        S(np.zeros((8, 8)))


def test_complex_input_is_refused():
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)
    with pytest.raises(TypeError, match="complex"):
        S(np.zeros((8, 8, 8), dtype=np.complex128))


def test_filters_attribute_has_kymatios_layout():
    S = HarmonicScattering3D(J=1, shape=(8, 6, 10), L=2)
    filters = S.filters
    assert [f.shape for f in filters] == [(2, 2 * l + 1, 8, 6, 10) for l in range(3)]
    # l = 0 is the Gaussian low-pass: 1 at the zero frequency, real
    np.testing.assert_allclose(filters[0][:, 0, 0, 0, 0], 1.0)
    assert np.abs(filters[0].imag).max() == 0
