"""Scattering2D: Kymatio 0.3.0's numbers, its shapes and order, and the behaviour around them."""

import numpy as np
import pytest

from reference import fixture_files, load_fixture, scatflow_kwargs, worst_channel_error
from scatflow.backends.numpy import backend as numpy_backend
from scatflow.filters.morlet2d import filter_bank_2d, lowpass_levels_2d, lowpass_matrices_2d
from scatflow.numpy import Scattering2D

FIXTURES_2D = fixture_files("0.3.0", "2d")


def build(path, **extra):
    kwargs, _, _ = scatflow_kwargs(path)
    return Scattering2D(**(kwargs | extra))


def test_there_are_enough_fixtures():
    assert len(FIXTURES_2D) >= 6


@pytest.mark.parametrize("path", FIXTURES_2D, ids=lambda p: p.stem)
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 5e-6), (np.float32, 5e-6)])
def test_matches_kymatio_030(path, dtype, tolerance):
    params, x, data = load_fixture(path)
    S = build(path)
    out = S(x.astype(dtype))
    assert out.dtype == dtype
    assert out.shape == data["S"].shape
    assert worst_channel_error(out, data["S"], channel_axis=x.ndim - 2) <= tolerance


@pytest.mark.parametrize("path", FIXTURES_2D[:3], ids=lambda p: p.stem)
def test_list_order_matches_kymatio(path):
    import json

    params, x, data = load_fixture(path)
    items = build(path, out_type="list")(x)
    expected = json.loads(str(data["paths"]))
    assert [(tuple(i["j"]), tuple(i["theta"])) for i in items] == \
        [(tuple(e["j"]), tuple(e["theta"])) for e in expected]


def test_output_shape_and_count():
    S = Scattering2D(J=3, shape=(45, 50), L=8)
    out = S(np.zeros((2, 3, 45, 50)))
    assert out.shape == (2, 3, 1 + 8 * 3 + 64 * 3, 5, 6)
    assert S.output_size() == 217
    assert S.output_size(detail=True) == (1, 24, 192)


def test_max_order_1_is_prefix_of_max_order_2():
    x = np.random.default_rng(0).standard_normal((2, 32, 32))
    full = Scattering2D(J=3, shape=(32, 32), L=4)(x)
    first = Scattering2D(J=3, shape=(32, 32), L=4, max_order=1)(x)
    assert first.shape[-3] == 1 + 3 * 4
    np.testing.assert_allclose(first, full[:, : first.shape[-3]], rtol=1e-12, atol=1e-14)


def test_meta_dict_and_list_agree_with_array():
    x = np.random.default_rng(1).standard_normal((32, 32))
    S = Scattering2D(J=2, shape=(32, 32), L=4)
    array = S(x)
    meta = S.meta()
    assert meta["order"].shape == (array.shape[0],)
    assert list(meta["order"][:5]) == [0, 1, 1, 1, 1]
    assert np.isnan(meta["j"][0]).all() and meta["j"].shape == (array.shape[0], 2)
    as_dict = Scattering2D(J=2, shape=(32, 32), L=4, out_type="dict")(x)
    assert list(as_dict) == meta["key"]
    for c, key in enumerate(meta["key"]):
        np.testing.assert_array_equal(as_dict[key], array[c])
    as_list = Scattering2D(J=2, shape=(32, 32), L=4, out_type="list")(x)
    assert [item["order"] for item in as_list] == list(meta["order"])
    np.testing.assert_array_equal(as_list[7]["coef"], array[7])


def test_pre_pad_equals_padding_by_hand():
    x = np.random.default_rng(2).standard_normal((32, 32))
    plain = Scattering2D(J=2, shape=(32, 32))
    padded = np.pad(x, plain.core.pads, mode="reflect")
    pre = Scattering2D(J=2, shape=(32, 32), pre_pad=True)
    np.testing.assert_allclose(pre(padded), plain(x), rtol=0, atol=1e-12)


def test_wavelets_have_zero_mean_and_bounded_littlewood_paley():
    phi, psi = filter_bank_2d(64, 64, 3, 8)
    wavelets = np.concatenate([level[0] for level in psi])
    assert np.abs(wavelets[:, 0, 0]).max() < 1e-6 * np.abs(wavelets).max()
    assert abs(phi[0][0, 0] - 1) < 1e-3
    # Littlewood-Paley sum (each wavelet and its mirror, as the modulus sees both): a near-tight
    # frame up to |omega| = pi/2; ScatNet's wavelets leave the corners near Nyquist uncovered.
    lp = phi[0] ** 2 + 0.5 * (wavelets**2 + np.roll(np.flip(wavelets, (1, 2)), 1, (1, 2)) ** 2).sum(0)
    omega = np.fft.fftfreq(64) * 2 * np.pi
    radius = np.hypot(omega[:, None], omega[None, :])
    assert lp.max() < 1.05
    assert lp[radius <= np.pi / 2].min() > 0.75


def test_translation_invariance_grows_with_J():
    rng = np.random.default_rng(3)
    x = np.zeros((64, 64))
    x[20:44, 20:44] = rng.standard_normal((24, 24))
    shifted = np.roll(x, 2, axis=1)
    changes = []
    for J in (1, 2, 3):
        S = Scattering2D(J=J, shape=(64, 64), L=4)
        a, b = S(x), S(shifted)
        changes.append(np.linalg.norm(a - b) / np.linalg.norm(a))
    assert changes[0] > changes[1] > changes[2]


def test_input_dtypes():
    x = (np.random.default_rng(4).standard_normal((16, 16)) * 100).astype(np.int32)
    S = Scattering2D(J=2, shape=(16, 16), L=4)
    ref = S(x.astype(np.float64))
    assert S(x).dtype == np.float64
    np.testing.assert_array_equal(S(x), ref)
    big_endian = x.astype(">f4")
    out = S(big_endian)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
    with pytest.raises(TypeError, match="complex"):
        S(x.astype(np.complex64))
    with pytest.raises(TypeError, match="x must"):
        S("not an array")


def test_nan_stays_in_its_own_signal():
    x = np.random.default_rng(5).standard_normal((3, 16, 16))
    x[1, 3, 4] = np.nan
    out = Scattering2D(J=2, shape=(16, 16), L=4)(x)
    assert np.isnan(out[1]).all()
    assert np.isfinite(out[[0, 2]]).all()


def test_wrong_input_shape():
    S = Scattering2D(J=2, shape=(16, 16), L=4)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 16, 16\)"):
        S(np.zeros((16, 15)))
    with pytest.raises(ValueError, match="x must have shape"):
        S(np.zeros(16))
    with pytest.raises(ValueError, match=r"\(\.\.\., 24, 24\)"):
        Scattering2D(J=2, shape=(16, 16), L=4, pre_pad=True)(np.zeros((16, 16)))


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(J=-1), ValueError, "J"),
    (dict(J=2.5), TypeError, "J"),
    (dict(J=6), ValueError, "J"),
    (dict(shape=(32,)), ValueError, "shape"),
    (dict(shape=(32, 0)), ValueError, r"shape\[1\]"),
    (dict(shape=(32, 32.0)), TypeError, r"shape\[1\]"),
    (dict(L=0), ValueError, "L"),
    (dict(L="8"), TypeError, "L"),
    (dict(max_order=3), ValueError, "max_order"),
    (dict(max_order=0), ValueError, "max_order"),
    (dict(pre_pad="yes"), TypeError, "pre_pad"),
    (dict(filter_levels="cropped"), ValueError, "filter_levels"),
    (dict(out_type="tensor"), ValueError, "out_type"),
    (dict(backend="jax"), ValueError, "backend"),
    (dict(backend=object()), ValueError, "backend"),
])
def test_bad_parameters_are_named(kwargs, error, name, monkeypatch):
    import scatflow.core.scattering2d as bank

    def must_not_build(*args):
        raise AssertionError("filters built before the parameters were checked")

    monkeypatch.setattr(bank, "filter_bank_2d", must_not_build)
    params = dict(J=2, shape=(32, 32)) | kwargs
    with pytest.raises(error, match=name):
        Scattering2D(**params)


def test_kymatio_filter_attributes():
    S = Scattering2D(J=3, shape=(32, 32), L=4)
    assert len(S.psi) == 12 and [p["j"] for p in S.psi[::4]] == [0, 1, 2]
    assert [p["theta"] for p in S.psi[:4]] == [0, 1, 2, 3]
    assert [lv.shape for lv in S.psi[-1]["levels"]] == [(48, 48), (24, 24)]
    assert [lv.shape for lv in S.phi["levels"]] == [(48, 48), (24, 24), (12, 12)] and S.phi["j"] == 3
    assert abs(S.phi["levels"][0][0, 0] - 1) < 1e-3 and abs(S.psi[5]["levels"][0][0, 0]) < 1e-6


def test_kymatios_types_phrases_and_documented_attributes():
    with pytest.raises(RuntimeError, match="smallest dimension should be larger than 2") as error:
        Scattering2D(10, shape=(10, 10))
    assert isinstance(error.value, ValueError) and "J must satisfy" in str(error.value)
    S = Scattering2D(np.array(2), shape=(30, 20), L=np.int64(4), pre_pad=np.array(False))
    assert (S.M_padded, S.N_padded) == S.core.padded_shape == (36, 28)
    P = Scattering2D(2, shape=(30, 20), L=4, pre_pad=np.bool_(True))
    with pytest.raises(RuntimeError, match=r"Padded array must be of spatial size \(36, 28\)"):
        P(np.zeros((30, 20)))
    with pytest.raises(TypeError, match="pre_pad must be True or False"):
        Scattering2D(2, shape=(30, 20), pre_pad=np.array(1))


def test_repr_shows_the_constructor_arguments():
    text = repr(Scattering2D(J=2, shape=(16, 16), L=4, out_type="list"))
    assert text == ("Scattering2D(J=2, shape=(16, 16), L=4, max_order=2, pre_pad=False, "
                    "backend=None, out_type='list', filter_levels='kymatio', average=True, "
                    "nan_policy='propagate', min_valid=0.5, padding_mode='reflect')")


def test_J0_is_the_full_resolution_lowpass():
    S = Scattering2D(J=0, shape=(5, 6), L=4)
    assert S.output_size() == 1
    out = S(np.full((2, 5, 6), 3.0))
    assert out.shape == (2, 1, 5, 6)
    np.testing.assert_allclose(out, 3.0 * S.phi["levels"][0][0, 0], rtol=1e-12)  # the DC gain


def test_local_filter_levels_are_the_filters_sampled_in_space():
    phi, psi = filter_bank_2d(48, 64, 4, 4, "local")
    for r in (1, 2):
        k = 2**r
        np.testing.assert_allclose(np.fft.ifft2(psi[3][r]), k * k * np.fft.ifft2(psi[3][0])[:, ::k, ::k],
                                   atol=1e-15)
        np.testing.assert_allclose(np.fft.ifft2(phi[r]), k * k * np.fft.ifft2(phi[0])[::k, ::k], atol=1e-15)
    kymatio_phi, _ = filter_bank_2d(48, 64, 4, 4)
    np.testing.assert_array_equal(phi[0], kymatio_phi[0])  # full resolution: no difference


def test_local_filter_levels_stay_close_to_kymatios():
    """Summing the aliases instead of cutting the band changes coefficients by a few 1e-3 of a
    channel's maximum (measured 3.7e-3 on a 256x256 photograph, J=3)."""
    rng = np.random.default_rng(4)
    x = np.cumsum(np.cumsum(rng.standard_normal((2, 64, 64)), axis=1), axis=2)  # smooth field
    kymatio = Scattering2D(J=3, shape=(64, 64), L=4)(x)
    local = Scattering2D(J=3, shape=(64, 64), L=4, filter_levels="local")(x)
    assert 1e-5 < worst_channel_error(local, kymatio, channel_axis=1) < 2e-2


@pytest.mark.parametrize("filter_levels", ["kymatio", "local"])
@pytest.mark.parametrize("M, N, J", [(48, 64, 2), (40, 48, 3), (5, 6, 0)])
def test_lowpass_matrices_equal_the_fourier_lowpass(M, N, J, filter_levels):
    """rows @ U @ cols == average with phi in Fourier, decimate to 2^-J, crop one sample."""
    phi = lowpass_levels_2d(M, N, J, filter_levels)
    for r, (rows, cols) in enumerate(lowpass_matrices_2d(M, N, J, filter_levels)):
        U = np.random.default_rng(r).standard_normal((3, M // 2**r, N // 2**r))
        Y = numpy_backend.multiply_periodize(np.fft.fft2(U), phi[r], 2 ** (J - r), 2)
        m, n = Y.shape[-2:]
        fourier = np.fft.irfft2(Y[..., : n // 2 + 1], (m, n))[..., 1:-1, 1:-1]
        np.testing.assert_allclose(rows @ U @ cols, fourier, atol=1e-14 * np.abs(fourier).max())


@pytest.mark.parametrize("x_shape, filters_shape", [((5, 1, 16, 24), (3, 16, 24)),
                                                     ((2, 3, 1, 16, 24), (4, 16, 24))])
@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_multiply_periodize_in_slabs_equals_the_generic_one(x_shape, filters_shape, library, monkeypatch):
    from scatflow import tuning
    from scatflow.backends import get_backend

    monkeypatch.setattr(tuning, "SLAB_BYTES", 3000)  # several slabs, a short last one
    backend = get_backend(library)
    rng = np.random.default_rng(5)
    x = backend.asarray(rng.standard_normal(x_shape) + 1j * rng.standard_normal(x_shape))
    filters = backend.asarray(rng.standard_normal(filters_shape))
    assert backend.writes_in_place(x, filters)
    for factor in (2, 4):
        slabs = backend.multiply_periodize(x, filters, factor, 2)
        monkeypatch.setattr(type(backend), "writes_in_place", lambda self, x, filters: False)
        generic = backend.multiply_periodize(x, filters, factor, 2)
        monkeypatch.undo()
        monkeypatch.setattr(tuning, "SLAB_BYTES", 3000)
        np.testing.assert_array_equal(np.asarray(slabs), np.asarray(generic))
    if library == "torch":  # autograd needs the generic, out-of-place products
        assert not backend.writes_in_place(x.clone().requires_grad_(), filters)


def test_blas_is_single_threaded_while_the_batch_is_split(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from scatflow.backends.numpy import NumpyBackend

    seen = []
    matmul = NumpyBackend.matmul

    def recording_matmul(self, a, b):
        seen.append({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})
        return matmul(self, a, b)

    monkeypatch.setattr(NumpyBackend, "matmul", recording_matmul)
    S = Scattering2D(J=2, shape=(32, 32), L=2, backend=NumpyBackend(threads=2))
    S(np.random.default_rng(0).standard_normal((64, 32, 32)))  # enough work to be split
    assert seen and all(threads == {1} for threads in seen)


@pytest.mark.parametrize("library", ["numpy", "torch"])
@pytest.mark.parametrize("factor", [2, 4, 8])
def test_multiply_periodize_is_the_mean_of_the_product_blocks(library, factor):
    """Decimation in space = the mean over the factor x factor blocks of the spectrum (the block
    loop up to factor 4, one reduction per block axis beyond)."""
    from scatflow.backends import get_backend

    backend = get_backend(library)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 1, 16, 24)) + 1j * rng.standard_normal((2, 3, 1, 16, 24))
    filters = rng.standard_normal((4, 16, 24))
    product = x * filters
    expected = product.reshape(2, 3, 4, factor, 16 // factor, factor, 24 // factor).mean(axis=(3, 5))
    out = backend.multiply_periodize(backend.asarray(x), backend.asarray(filters), factor, 2)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-13, atol=1e-13)
