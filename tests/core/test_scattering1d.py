"""1D Morlet scattering: Kymatio's numbers (main and 0.3.0 fixtures), properties, checks."""

import json

import numpy as np
import pytest

from reference import fixture_files, list_error, scatflow_kwargs, worst_channel_error
from scatflow import tuning
from scatflow.backends import get_backend
from scatflow.filters import morlet1d
from scatflow.frontends.scattering1d import Scattering1DBase
from scatflow.numpy import Scattering1D

FIXTURES = fixture_files("main", "1d") + fixture_files("0.3.0", "1d")
TOL64, TOL32 = 1e-8, 3e-5


def test_fixtures_present():
    assert len(fixture_files("main", "1d")) >= 10 and len(fixture_files("0.3.0", "1d")) >= 8


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_kymatio(path, dtype):
    kwargs, x, data = scatflow_kwargs(path)
    S = Scattering1D(**kwargs)
    out = S(x.astype(dtype))
    tol = TOL64 if dtype == np.float64 else TOL32
    if kwargs["out_type"] == "list":
        refs = [data[k] for k in sorted(k for k in data.files if k.startswith("coef_"))]
        assert all(c["coef"].dtype == dtype for c in out)
        assert [list(c["n"]) for c in out] == json.loads(str(data["paths"]))
        assert list_error([c["coef"] for c in out], refs) <= tol
    else:
        assert out.dtype == dtype and out.shape == data["S"].shape
        assert worst_channel_error(out, data["S"], channel_axis=-2) <= tol


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_meta_matches_kymatio(path):
    kwargs, x, data = scatflow_kwargs(path)
    meta = Scattering1D(**kwargs).meta()
    assert list(meta)[:2] == ["order", "key"]
    assert [list(k) for k in meta["key"]] == json.loads(str(data["paths"]))
    for key in ("order", "n", "j", "xi", "sigma"):
        np.testing.assert_allclose(meta[key], data[f"meta_{key}"], rtol=1e-15, atol=0)


@pytest.mark.parametrize("J, Q, T, oversampling", [(4, 2, None, 0), (5, 8, 16, 1), (5, 1, None, 2),
                                                   (5, (4, 2), 0, 0), (5, 4, 0, 1)])
def test_compat_factor_equals_mean_reduced_levels(J, Q, T, oversampling):
    """Kymatio 0.3.0 = the same algorithm with mean-reduced filter levels. Running the core on
    such a bank with kymatio_compat="0.3"'s decimations but no rescaling gives exactly the
    rescaled coefficients: S1 x 2^-k1, S2 x 2^-(2 k1 + k2) (U2 x 2^-k1 when T=0)."""
    out_type = "list" if T == 0 else "array"
    S = Scattering1D(J, 256, Q, T=T, oversampling=oversampling, kymatio_compat="0.3",
                     out_type=out_type)
    x = np.random.default_rng(J).standard_normal((2, 256))
    ours = S(x)
    core = S.core
    bank = morlet1d.filter_bank_1d(core.N_padded, J, *core.Q, core.T, core.max_order,
                                   core._psi2_levels, core._phi_levels, reduction="mean",
                                   kymatio_compat="0.3")
    saved = [(item, item.scale) for g in core.groups for item in [g] + g.blocks]
    try:
        for item, _ in saved:
            item.scale = 1.0
        mean_run = core(x, get_backend("numpy"), dict(bank))
    finally:
        for item, scale in saved:
            item.scale = scale
    if out_type == "list":
        ours = [c["coef"] for c in ours]
        assert list_error(ours, mean_run) <= 1e-13
    else:
        assert worst_channel_error(ours, np.stack(mean_run, axis=1), 1) <= 1e-13
    assert any(g.k1 > 0 for g in core.groups)  # the factors were really exercised


# -- structure ---------------------------------------------------------------------------------
def test_paths_meta_output_size_and_dict_keys():
    S = Scattering1D(6, 1024, 8)
    meta = S.meta()
    C = S.output_size()
    assert C == 126 and S.output_size(detail=True) == (1, 38, 87)
    assert meta["order"].shape == (C,) and meta["xi"].shape == (C, 2) and len(meta["key"]) == C
    assert np.all(meta["j"][meta["order"] == 2, 1] > meta["j"][meta["order"] == 2, 0])
    assert np.isnan(meta["n"][0]).all() and np.isnan(meta["n"][1:39, 1]).all()
    x = np.random.default_rng(0).standard_normal(1024)
    array = S(x)
    assert array.shape == (C, 16)
    as_dict = Scattering1D(6, 1024, 8, out_type="dict")(x)
    assert list(as_dict) == meta["key"]
    for i, key in enumerate(meta["key"]):
        np.testing.assert_array_equal(as_dict[key], array[i])
    as_list = Scattering1D(6, 1024, 8, out_type="list")(x)
    assert [c["n"] for c in as_list] == meta["key"]
    assert {"coef", "order", "n", "j", "xi", "sigma"} <= set(as_list[0])


@pytest.mark.parametrize("J, N, Q, count", [(8, 4096, 12, 337), (6, 512, 16, 222)])
def test_kymatio_path_counts(J, N, Q, count):
    assert Scattering1D(J, N, Q).output_size() == count


def test_max_order_1_is_a_prefix():
    x = np.random.default_rng(1).standard_normal((2, 700))
    S1, S2 = Scattering1D(5, 700, 4, max_order=1), Scattering1D(5, 700, 4)
    first, both = S1(x), S2(x)
    assert first.shape[-2] == S1.output_size() == 1 + S1.output_size(detail=True)[1]
    np.testing.assert_allclose(both[..., : first.shape[-2], :], first, rtol=1e-14, atol=1e-15)
    assert S1.meta()["key"] == S2.meta()["key"][: first.shape[-2]]
    assert S1.meta()["xi"].shape[1] == 1


@pytest.mark.parametrize("batch", [(), (2,), (2, 3), (1, 2, 3)])
def test_batch_dims(batch):
    S = Scattering1D(4, 256, 2)
    x = np.random.default_rng(2).standard_normal(batch + (256,))
    out = S(x)
    assert out.shape == batch + (S.output_size(), 16)
    flat = S(x.reshape(-1, 256))
    np.testing.assert_array_equal(out.reshape(flat.shape), flat)
    listed = Scattering1D(4, 256, 2, T=0, out_type="list")(x)
    assert all(c["coef"].shape[: len(batch)] == batch for c in listed)


def test_T_stride_oversampling_and_global_shapes():
    x = np.random.default_rng(3).standard_normal(1024)
    assert Scattering1D(6, 1024, 8)(x).shape == (126, 16)
    assert Scattering1D(6, 1024, 8, T=64, stride=16)(x).shape == (126, 64)
    assert Scattering1D(6, 1024, 8, T=16)(x).shape == (126, 64)
    assert Scattering1D(6, 1024, 8, oversampling=1)(x).shape == (126, 32)
    assert Scattering1D(6, 1024, 8, oversampling=9)(x).shape == (126, 1024)  # stride clamped at 1
    np.testing.assert_allclose(Scattering1D(6, 1024, 8, oversampling=1)(x),
                               Scattering1D(6, 1024, 8, stride=32)(x), rtol=1e-14, atol=1e-15)
    S = Scattering1D(6, 1024, 8, T="global")
    out = S(x)
    assert out.shape == (126, 1) and S.log2_stride is None and S.average_mode == "global"
    np.testing.assert_allclose(out[0, 0], np.pad(x, (S.pad_left, S.pad_right), "reflect").sum())


def test_T0_lengths_and_order0_is_the_input():
    S = Scattering1D(6, 512, 4, T=0, out_type="list")
    x = np.random.default_rng(4).standard_normal(512)
    out = S(x)
    np.testing.assert_array_equal(out[0]["coef"], x)
    for c in out[1:]:
        res = c["j"][-1]
        assert c["coef"].shape == (S.ind_end[res] - S.ind_start[res],)
        assert np.all(c["coef"] >= 0)  # moduli
    assert S.core.array_shape is None
    assert Scattering1D(6, 512, 4, average=False, out_type="dict")(x).keys() == {c["n"] for c in out}


def test_translation_invariance_grows_with_T():
    N = 4096
    t = np.arange(N)
    burst = np.random.default_rng(5).standard_normal(N) * np.exp(-(((t - N / 2) / (N / 32)) ** 2))
    shifted = np.roll(burst, 5)
    distances = []
    for T in (4, 16, 64, 256):
        S = Scattering1D(10, N, 8, T=T, stride=4)
        a, b = S(burst), S(shifted)
        distances.append(np.linalg.norm(a - b) / np.linalg.norm(a))
    assert all(d1 > d2 for d1, d2 in zip(distances, distances[1:])), distances
    assert distances[-1] < 0.1 * distances[0]


def test_small_working_arrays_give_the_same_numbers(monkeypatch):
    """Chunking (filter groups split by the working-memory cap) does not change the result."""
    S = Scattering1D(6, 1024, (8, 2))
    x = np.random.default_rng(6).standard_normal((3, 1024))
    expected = S(x)
    monkeypatch.setattr(tuning, "SCATTERING1D_WORKING_BYTES", 1)
    np.testing.assert_array_equal(S(x), expected)


# -- dtypes and inputs -------------------------------------------------------------------------
def test_float32_computes_in_float32():
    S = Scattering1D(5, 512, 8)
    x = np.random.default_rng(7).standard_normal((2, 512))
    out32 = S(x.astype(np.float32))
    assert out32.dtype == np.float32
    assert worst_channel_error(out32, S(x), 1) <= TOL32
    listed = Scattering1D(5, 512, 8, T=0, out_type="list")(x.astype(np.float32))
    assert {c["coef"].dtype for c in listed} == {np.dtype(np.float32)}


@pytest.mark.parametrize("dtype", [np.int16, np.int64, np.uint8, ">f8", ">f4", bool])
def test_integer_bool_and_big_endian_input_cast_to_float64(dtype):
    S = Scattering1D(4, 256, 2)
    x = np.random.default_rng(8).integers(0, 2, (2, 256))
    out = S(x.astype(dtype))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, S(x.astype(np.float64)), rtol=1e-14, atol=1e-15)


def test_nan_propagates_to_its_signal_only():
    """A NaN in one signal makes that signal's coefficients NaN; the other signals of the batch
    are unaffected, and nothing raises."""
    S = Scattering1D(5, 512, 4)
    x = np.random.default_rng(9).standard_normal((3, 512))
    clean = S(x)
    x[1, 100] = np.nan
    out = S(x)
    assert np.isnan(out[1]).all()
    np.testing.assert_array_equal(out[[0, 2]], clean[[0, 2]])


def test_complex_and_wrong_inputs():
    S = Scattering1D(4, 256, 2)
    with pytest.raises(TypeError, match="complex"):
        S(np.ones(256, dtype=complex))
    with pytest.raises(ValueError, match="shape"):
        S(np.ones(255))
    with pytest.raises(TypeError):
        S("not an array")


# -- the frontend --------------------------------------------------------------------------------
def test_parameters_are_stored_untouched():
    Q = (8,)
    S = Scattering1D(6, (1000,), Q=Q, T=None, out_type="list", oversampling=0)
    assert S.parameters()["Q"] is Q and S.parameters()["T"] is None
    assert S.parameters()["average"] is None
    # Q, T and average read as Kymatio normalises them; the others as given
    assert (S.J, S.shape, S.Q, S.T, S.max_order, S.average, S.oversampling) == (
        6, (1000,), (8, 1), 64, 2, "local", 0)
    assert (S.stride, S.kymatio_compat, S.out_type, S.backend) == (None, None, "list", None)
    assert S.core.Q == (8, 1) and S.core.T == 64 and S.log2_T == 6 and S.log2_stride == 6


def test_kymatio_attributes():
    S = Scattering1D(6, 1000, 8)
    assert (S.N_padded, S.pad_left, S.pad_right) == (2048, 524, 524)
    assert S.ind_start[0] == 524 and S.ind_end[6] - S.ind_start[6] == 15
    assert len(S.psi1_f) == 38 and len(S.psi2_f) == 7
    assert S.psi1_f[0]["levels"][0].shape == (2048,) and not S.psi1_f[0]["levels"][0].flags.writeable
    meta = S.meta()
    assert S.psi1_f[3]["xi"] == meta["xi"][4, 0] and S.psi1_f[3]["j"] == meta["j"][4, 0]
    assert [p["j"] for p in S.psi2_f] == list(S.core.j2) and S.psi2_f[2]["sigma"] == S.core.sigma2[2]
    assert [lv.shape[0] for lv in S.phi_f["levels"]] == [2048 // 2**k for k in range(len(S.phi_f["levels"]))]
    assert S.phi_f["levels"][0][0] == pytest.approx(1.0, abs=1e-6) and S.phi_f["j"] == 6
    assert Scattering1D(6, 1000, 8, max_order=1).psi2_f == []


@pytest.mark.parametrize("Q, expected", [
    (8, (8, 1)), ((8,), (8, 1)), ((8, 2), (8, 2)), (np.int64(8), (8, 1)), (np.array(8), (8, 1)),
    ((np.int64(8), np.array(2)), (8, 2)),
])
def test_Q_reads_as_kymatio_normalises_it(Q, expected):
    S = Scattering1D(3, 256, Q=Q)
    assert S.Q == expected and S.core.Q == expected and S.parameters()["Q"] is Q


@pytest.mark.parametrize("T, average, expected_T, expected_average", [
    (None, None, 16, "local"), (8, None, 8, "local"), (0, None, 16, False),
    ("global", None, 16, "global"), (None, True, 16, "local"), (0, False, 16, False),
])
def test_T_and_average_read_as_kymatio_main_normalises_them(T, average, expected_T,
                                                             expected_average):
    S = Scattering1D(4, 256, T=T, average=average, out_type="list")
    assert (S.T, S.average) == (expected_T, expected_average)
    assert S.parameters()["T"] == T and S.parameters()["average"] is average


@pytest.mark.parametrize("kwargs, errors, phrases", [
    # Kymatio's types (and scatflow's where they differ) and the phrases its tests look for
    (dict(Q=[8]), (ValueError, TypeError), ["Q must be an integer or a tuple"]),
    (dict(Q=0.9), (ValueError,), ["Q must always be >= 1", "Q should always be >= 1"]),
    (dict(Q=(1, 1, 1)), (NotImplementedError, ValueError),
     ["Scattering transforms beyond order 2 are not implemented"]),
    (dict(shape=(5, 6)), (ValueError,), ["exactly one element"]),
    (dict(shape=1.5), (ValueError, TypeError), ["1-tuple", "integer"]),
    (dict(oversampling=-1), (ValueError,), ["nonnegative"]),
    (dict(oversampling=0.5), (ValueError, TypeError), ["integer"]),
    (dict(stride="noninteger"), (ValueError, TypeError), ["integer"]),
    (dict(stride=17), (ValueError,), ["power of two"]),
    (dict(T=0, stride=16, out_type="list"), (ValueError,), ["incompatible"]),
    (dict(T="global", stride=16), (ValueError,), ["incompatible"]),
    (dict(stride=16, oversampling=1), (ValueError,), ["incompatible"]),
    (dict(T=0), (ValueError,), ["Cannot convert", "Please set out_type to"]),
    (dict(out_type="doesnotexist"), (ValueError,), ["out_type must be one"]),
])
def test_errors_are_of_kymatios_types_with_its_phrases(kwargs, errors, phrases):
    with pytest.raises(errors[0]) as error:
        Scattering1D(**{"J": 3, "shape": 1024, **kwargs})
    assert all(isinstance(error.value, e) for e in errors)
    assert all(p in str(error.value) for p in phrases), str(error.value)


def test_max_order_set_after_construction_adds_the_second_order():
    """Kymatio's users switch orders on one object (its tests do: T=0, out_type='dict')."""
    x = np.random.default_rng(2).standard_normal((1, 1024))
    S = Scattering1D(4, 1024, 4, T=0, max_order=1, out_type="dict")
    assert all(len(key) <= 1 for key in S(x))
    S.max_order = 2
    out = S(x)
    assert set(out) == set(S.meta()["key"]) and any(len(key) == 2 for key in out)
    assert len(S.psi2_f) > 0 and S.output_size() == len(out)
    S.out_type = "array"
    with pytest.raises(ValueError, match="Please set out_type to"):
        S(x)


def test_entry_point_and_base_class():
    import scatflow

    assert isinstance(scatflow.Scattering1D(4, 256), Scattering1DBase)
    S = Scattering1DBase(4, 256, backend="numpy")
    x = np.random.default_rng(10).standard_normal(256)
    np.testing.assert_array_equal(S(x), Scattering1D(4, 256)(x))


@pytest.mark.filterwarnings("ignore:Signal support is too small")
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(J=-1), ValueError, "J"),
    (dict(J=2.0), TypeError, "J"),
    (dict(J=True), TypeError, "J"),
    (dict(J=9, shape=64), ValueError, "J"),  # too large for the signal: empty output
    (dict(J=12, shape=256, T=4, Q=12), ValueError, "J"),  # wavelets vanish on the grid (NaN)
    (dict(shape=1), ValueError, "shape"),
    (dict(shape=0), ValueError, "shape"),
    (dict(shape=(256, 2)), ValueError, "shape"),
    (dict(shape="256"), ValueError, "shape"),
    (dict(shape=256.0), ValueError, "shape"),
    (dict(Q=0), ValueError, "Q"),
    (dict(Q=(8, 0)), ValueError, "Q"),
    (dict(Q=(8, 2, 1)), ValueError, "Q"),
    (dict(Q=()), ValueError, "Q"),
    (dict(Q=1.5), TypeError, "Q"),
    (dict(Q="8"), TypeError, "Q"),
    (dict(T=257), ValueError, "T"),
    (dict(T=-1), ValueError, "T"),
    (dict(T="local"), ValueError, "T"),
    (dict(T=16.0), TypeError, "T"),
    (dict(T=True), TypeError, "T"),
    (dict(average=1), TypeError, "average"),
    (dict(average=True, T=0, out_type="list"), ValueError, "average"),
    (dict(average=False, T=16, out_type="list"), ValueError, "average"),
    (dict(average=False, T="global", out_type="list"), ValueError, "average"),
    (dict(max_order=0), ValueError, "max_order"),
    (dict(max_order=3), ValueError, "max_order"),
    (dict(max_order=2.0), TypeError, "max_order"),
    (dict(oversampling=-1), ValueError, "oversampling"),
    (dict(oversampling=0.5), TypeError, "oversampling"),
    (dict(oversampling=1, T="global"), ValueError, "oversampling"),
    (dict(stride=3), ValueError, "stride"),
    (dict(stride=0), ValueError, "stride"),
    (dict(stride=2.0), TypeError, "stride"),
    (dict(stride=32), ValueError, "stride"),  # above 2**floor(log2(T)) = 16
    (dict(stride=2, T=0, out_type="list"), ValueError, "stride"),
    (dict(stride=2, T="global"), ValueError, "stride"),
    (dict(stride=2, oversampling=1), ValueError, "stride"),
    (dict(stride=2, kymatio_compat="0.3"), ValueError, "stride"),
    (dict(kymatio_compat="0.4"), ValueError, "kymatio_compat"),
    (dict(kymatio_compat=0.3), ValueError, "kymatio_compat"),
    (dict(T="global", kymatio_compat="0.3"), ValueError, "global"),
    (dict(out_type="tensor"), ValueError, "out_type"),
    (dict(T=0), ValueError, "out_type"),
    (dict(average=False), ValueError, "out_type"),
    (dict(backend="torch"), ValueError, "backend"),
])
def test_parameter_errors(kwargs, error, match):
    kwargs = {"J": 4, "shape": 256, **kwargs}
    with pytest.raises(error, match=match):
        Scattering1D(**kwargs)


def test_checks_run_before_any_filter_is_built():
    morlet1d.cache_clear()
    with pytest.raises(ValueError, match="stride"):
        Scattering1D(6, 1024, 8, stride=3)
    assert morlet1d.wavelets.cache_info().currsize == 0
