"""Joint time-frequency scattering: Kymatio main's numbers (fixtures) on the NumPy, torch,
TensorFlow and JAX frontends, its metadata, and the outputs scatflow defines where Kymatio fails."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from reference import fixture_files, list_error, scatflow_kwargs, worst_channel_error
from scatflow.filters.morlet1d import periodize
from scatflow.frontends.numpy import Scattering1D, TimeFrequencyScattering

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))  # tests/fixtures
from fixture_inputs import chirp_vibrato  # noqa: E402

FIXTURES = fixture_files("main", "jtfs")
TOL64, TOL32 = 1e-8, 3e-5
META_FIELDS = ("order", "n", "xi", "sigma", "j", "n_fr", "xi_fr", "sigma_fr", "j_fr", "spin")


def fixture_error(out, data, x):
    """DESIGN.md's metric against a fixture: per path channel (array) or per coefficient."""
    if isinstance(out, list):
        refs = [data[k] for k in sorted(k for k in data.files if k.startswith("coef_"))]
        return list_error([np.asarray(item["coef"]) for item in out], refs)
    return worst_channel_error(np.asarray(out), data["S"], channel_axis=x.ndim - 1)


def test_fixtures_present():
    assert len(FIXTURES) >= 8


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_matches_kymatio(path, dtype):
    kwargs, x, data = scatflow_kwargs(path)
    out = TimeFrequencyScattering(**kwargs)(x.astype(dtype))
    coefficients = [item["coef"] for item in out] if isinstance(out, list) else [out]
    assert {c.dtype for c in coefficients} == {np.dtype(dtype)}
    assert fixture_error(out, data, x) <= (TOL64 if dtype == np.float64 else TOL32)


def _torch_frontend(dtype):
    torch = pytest.importorskip("torch")
    from scatflow.frontends.torch import TimeFrequencyScattering as TorchJTFS

    return TorchJTFS, lambda x: torch.from_numpy(x.astype(dtype)), (
        torch.float64 if dtype == np.float64 else torch.float32)


def _tensorflow_frontend(dtype):
    tf = pytest.importorskip("tensorflow")
    from scatflow.frontends.tensorflow import TimeFrequencyScattering as TensorFlowJTFS

    return TensorFlowJTFS, lambda x: tf.constant(x.astype(dtype)), tf.as_dtype(dtype)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("frontend", [_torch_frontend, _tensorflow_frontend],
                         ids=["torch", "tensorflow"])
def test_framework_frontends_match_kymatio(frontend, path, dtype):
    """The torch and TensorFlow frontends: the fixtures, in the input's dtype."""
    cls, as_tensor, out_dtype = frontend(dtype)
    kwargs, x, data = scatflow_kwargs(path)
    out = cls(**kwargs)(as_tensor(x))
    if isinstance(out, list):
        out = [dict(item, coef=item["coef"].numpy()) for item in out]
    else:
        assert out.dtype == out_dtype
        out = out.numpy()
    assert fixture_error(out, data, x) <= (TOL64 if dtype == np.float64 else TOL32)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jax_matches_kymatio(path, dtype):
    jax = pytest.importorskip("jax")
    from scatflow.frontends.jax import TimeFrequencyScattering as JaxJTFS

    kwargs, x, data = scatflow_kwargs(path)
    S = JaxJTFS(**kwargs)
    if S.out_type == "array":  # compiled: eager JAX compiles each of its many steps
        S = jax.jit(S)
    with jax.enable_x64(dtype == np.float64):  # JAX has float64 only with x64
        out = S(jax.numpy.asarray(x.astype(dtype)))
    if isinstance(out, list):
        out = [dict(item, coef=np.asarray(item["coef"])) for item in out]
    else:
        assert out.dtype == dtype
        out = np.asarray(out)
    assert fixture_error(out, data, x) <= (TOL64 if dtype == np.float64 else TOL32)


def test_frequential_filters_match_kymatio():
    """Both spins (Kymatio's morlet_1d periodizes a negative xi over P >= 2 periods too) and
    the two low-passes, on Kymatio's N_fr."""
    path = next(p for p in FIXTURES if "filters_fr_psi" in np.load(p).files)
    kwargs, _, data = scatflow_kwargs(path)
    phi, psis = TimeFrequencyScattering(**kwargs).filters_fr
    ours = np.stack([psi["levels"][0] for psi in psis])
    assert ours.shape == data["filters_fr_psi"].shape
    assert {np.sign(psi["xi"]) for psi in psis} == {-1, 0, 1}
    np.testing.assert_allclose(ours, data["filters_fr_psi"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(phi["levels"][0], data["filters_fr_phi"], rtol=0, atol=1e-14)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_meta_rows_describe_the_channels_kymatio_describes(path):
    """Row i of meta() is output channel i (Kymatio's key order), with Kymatio's values for
    that key (Kymatio sorts its meta by key; its joint-array keys also hold order 0)."""
    kwargs, x, data = scatflow_kwargs(path)
    S = TimeFrequencyScattering(**kwargs)
    meta = S.meta()
    keys = [tuple(k) for k in json.loads(str(data["paths"]))]
    assert meta["key"] == keys
    assert S.output_size() == len(keys) == len(meta["order"])
    kymatio_keys = [tuple(k) for k in json.loads(str(data["meta_key"]))]
    if kwargs.get("format") == "joint" and kwargs["out_type"] == "array":
        kymatio_keys = kymatio_keys[1:]
    rows = [kymatio_keys.index(key) for key in meta["key"]]
    for field in META_FIELDS:
        np.testing.assert_array_equal(meta[field], data["meta_" + field][rows], err_msg=field)


# -- the formats agree with each other ------------------------------------------------------------
SMALL = dict(J=5, J_fr=2, Q=4, shape=256)
X = np.random.default_rng(0).standard_normal((2, 256))


def assert_same(actual, expected):
    """Equal but for rounding: formats keep different rows, and BLAS may round a row of a
    product differently with the number of rows."""
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14 * np.abs(expected).max())


@pytest.mark.parametrize("params", [{}, dict(T="global"), dict(F="global"), dict(F=2),
                                    dict(Q=(4, 2), Q_fr=2)])
def test_time_format_channels_are_rows_of_the_joint_array(params):
    kwargs = dict(SMALL, **params)
    time, joint = (TimeFrequencyScattering(**kwargs, format=f) for f in ("time", "joint"))
    S_time, S_joint = time(X), joint(X)
    meta = time.meta()
    paths = {key: i for i, key in enumerate(joint.meta()["key"])}
    rows = joint.frequency_rows
    assert len(rows) == S_joint.shape[-2] == joint.core.array_shape[1]
    for c, key in enumerate(meta["key"][1:], start=1):
        if params.get("F") == "global" and key[-1] == 0:
            continue  # the joint array sums the spin-0 rows (test_joint_array_averages_spin_0)
        path = (key[-1],) if meta["order"][c] == 1 else key[1:]
        n1 = int(meta["n"][c, 0])
        row = 0 if rows == (-1,) else rows.index(n1)
        assert_same(S_time[:, c], S_joint[:, paths[path], row])
    assert all(r == -1 or r < len(time.core.j1) for r in rows)


@pytest.mark.parametrize("fmt", ["time", "joint"])
def test_list_dict_meta_and_array_agree(fmt):
    S = TimeFrequencyScattering(**SMALL, format=fmt)
    out = S(X)
    listed = TimeFrequencyScattering(**SMALL, format=fmt, out_type="list")(X)
    as_dict = TimeFrequencyScattering(**SMALL, format=fmt, out_type="dict")(X)
    meta = S.meta()
    assert out.shape[1] == S.output_size() == len(meta["order"]) == sum(S.output_size(True))
    listed_meta = TimeFrequencyScattering(**SMALL, format=fmt, out_type="list").meta()
    assert [item["order"] for item in listed] == list(listed_meta["order"])
    assert list(as_dict) == listed_meta["key"]
    if fmt == "joint":  # lists hold order 0 and cut each path's rows
        assert listed[0]["order"] == 0 and listed_meta["key"][0] == ()
        listed, keys = listed[1:], listed_meta["key"][1:]
    else:
        keys = listed_meta["key"]
    assert keys == meta["key"]
    for c, (item, key) in enumerate(zip(listed, keys)):
        rows = item["coef"].shape[-2] if fmt == "joint" else None
        expected = out[:, c, :rows] if fmt == "joint" else out[:, c]
        assert_same(item["coef"], expected)
        np.testing.assert_array_equal(as_dict[key], item["coef"])
        n_fr = np.nan if item["n_fr"] is None else item["n_fr"]
        np.testing.assert_array_equal([n_fr, item["order"]], [meta["n_fr"][c], meta["order"][c]])


def test_order_zero_and_batch_shapes():
    S = TimeFrequencyScattering(**SMALL)
    one = S(X[0])
    assert one.shape == S.core.array_shape
    np.testing.assert_array_equal(S(X.reshape(1, 2, 256))[0], S(X))
    np.testing.assert_allclose(one[0], Scattering1D(5, 256, 4)(X[0])[0], rtol=1e-12)
    assert S(np.zeros((0, 256))).shape == (0,) + S.core.array_shape


@pytest.mark.parametrize("params", [dict(format="time"), dict(format="joint"),
                                    dict(T="global", F="global")])
def test_a_signals_coefficients_do_not_depend_on_its_batch(params, monkeypatch):
    """Bit for bit (a dask chunk or a zarr store's batch must give what a whole array gives):
    with a small product budget, many slices of time and groups of signals, each signal's
    coefficients are those it has alone."""
    from scatflow import tuning

    monkeypatch.setattr(tuning, "TIME_FREQUENCY_STEP_BYTES", 2**20)
    S = TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=1024, **params)
    x = np.random.default_rng(7).standard_normal((tuning.TIME_FREQUENCY_STEP_SIGNALS + 3, 1024))
    for dtype in (np.float32, np.float64):
        whole = S(x.astype(dtype))
        np.testing.assert_array_equal(whole, np.concatenate([S(x[i:i + 1].astype(dtype))
                                                             for i in range(len(x))]))
        np.testing.assert_array_equal(whole[2:5], S(x[2:5].astype(dtype)))


def test_output_grid_and_float32():
    S = TimeFrequencyScattering(**SMALL)
    assert S.core.output_grid == Scattering1D(5, 256, 4).core.output_grid
    assert TimeFrequencyScattering(**SMALL, T="global").core.output_grid is None
    out32 = S(X.astype(np.float32))
    assert out32.dtype == np.float32
    assert worst_channel_error(out32, S(X), 1) <= TOL32


def test_cupy_backend_code_with_numpy_standing_in():
    import scipy.fft

    from scatflow.backends.cupy import CupyBackend

    reference = TimeFrequencyScattering(**SMALL, format="joint")(X)
    assert_same(TimeFrequencyScattering(**SMALL, format="joint",
                                        backend=CupyBackend(np, scipy.fft))(X), reference)


# -- where Kymatio main fails or mislabels ---------------------------------------------------------
def channel_errors(a, b, axis):
    """Per channel max|a - b| / max|b| (channels along `axis`)."""
    a, b = (np.moveaxis(v, axis, 0).reshape(v.shape[axis], -1) for v in (a, b))
    return np.abs(a - b).max(axis=1) / np.abs(b).max(axis=1)


# With 1D Kymatio main's rule a stride s < T decimates U1 (j1 > log2 s) and U2 (j2 > log2 s)
# by 2**log2(s) instead of 2**j: the moduli alias differently. On this input Scattering1D's
# own stride=T/8 output differs from its stride=T output by up to 4e-3 of a channel; a frame
# off by half a step differs by 0.3.
ALIASING = 1e-2
JTFS = dict(J=7, J_fr=2, Q=(8, 2), shape=2048)
CHIRP = chirp_vibrato("jtfs-stride", (2, 2048))


@pytest.mark.parametrize("stride", [64, 16, 4])
def test_stride_below_T_samples_the_stride_T_output(stride):
    """Kymatio fails here once a second-order j2 exceeds log2(stride) (T / 2 here)."""
    reference = TimeFrequencyScattering(**JTFS)(CHIRP)
    out = TimeFrequencyScattering(**JTFS, stride=stride)(CHIRP)
    step = 128 // stride
    assert out.shape[-1] == step * reference.shape[-1]
    assert channel_errors(out[..., ::step], reference, 1).max() <= ALIASING
    assert channel_errors(out[..., step // 2::step], reference, 1).max() >= 10 * ALIASING


def test_stride_without_a_decimation_change_is_exact_subsampling():
    x = chirp_vibrato("jtfs-stride", (2, 1024))
    reference = TimeFrequencyScattering(J=6, J_fr=3, Q=8, shape=1024)(x)
    out = TimeFrequencyScattering(J=6, J_fr=3, Q=8, shape=1024, stride=32)(x)  # no j > 5
    assert channel_errors(out[..., ::2], reference, 1).max() <= 1e-12


@pytest.mark.parametrize("stride_fr, F", [(1, 8), (2, 8), (1, 4)])
def test_stride_fr_below_F_samples_the_stride_fr_F_output(stride_fr, F):
    """Kymatio fails here once a frequential j_fr exceeds log2(stride_fr)."""
    kwargs = dict(J=8, J_fr=3, Q=12, shape=4096, F=F, format="joint")
    x = chirp_vibrato("jtfs-stride-fr", (1, 4096))
    reference = TimeFrequencyScattering(**kwargs)(x)
    out = TimeFrequencyScattering(**kwargs, stride_fr=stride_fr)(x)
    step = F // stride_fr
    assert out.shape[-2] == step * reference.shape[-2]
    assert channel_errors(out[:, :, ::step], reference, 1).max() <= ALIASING
    assert channel_errors(out[:, :, step // 2::step], reference, 1).max() >= 10 * ALIASING


def frequency_scattering_reference(S1, psi_f, k, phi_f=None, k_out=None):
    """Kymatio's frequency scattering of S1 `(B, n1, time)`, written with FFTs: zero-pad n1
    to N_fr, filter, decimate by 2**k, modulus, then the F low-pass (level k of phi_f, to
    2**k_out) or, with phi_f None, the sum over all rows."""
    B, n1, length = S1.shape
    N_fr = psi_f.shape[0]
    padded = np.zeros((B, N_fr, length))
    padded[:, :n1] = S1
    Y = np.fft.fft(padded, axis=1) * psi_f[:, None]
    U = np.abs(np.fft.ifft(Y.reshape(B, 2**k, N_fr // 2**k, length).mean(axis=1), axis=1))
    if phi_f is None:
        return U.sum(axis=1, keepdims=True)
    V = np.fft.fft(U, axis=1) * periodize(phi_f, k)[:, None]
    m = V.shape[1] // 2 ** (k_out - k)
    return np.fft.ifft(V.reshape(B, -1, m, length).mean(axis=1), axis=1).real


@pytest.mark.parametrize("F", [16, "global"])
def test_joint_array_averages_spin_0_like_the_others(F):
    """F > 2**J_fr or F='global' (Kymatio fails: spin-0 paths would keep more rows): in the
    joint array the spin-0 paths get the F low-pass (or the sum over rows) too."""
    kwargs = dict(J=6, J_fr=2, Q=8, shape=1024)
    x = chirp_vibrato("jtfs-spin0", (2, 1024))
    S = TimeFrequencyScattering(**kwargs, F=F, format="joint")
    out = S(x)
    S1 = Scattering1D(6, 1024, 8)(x)[:, 1:1 + len(S.core.j1)]
    phi_F, psis = S.filters_fr
    k_out = None if F == "global" else 4
    phi_f = None if F == "global" else phi_F["levels"][0]
    meta = S.meta()
    for c in np.flatnonzero(meta["order"] == 1):
        n_fr = int(meta["n_fr"][c])
        k = psis[n_fr]["j"] if F == "global" else min(psis[n_fr]["j"], 4)
        expected = frequency_scattering_reference(S1, psis[n_fr]["levels"][0], k, phi_f, k_out)
        assert out.shape[2] == expected.shape[1]
        assert worst_channel_error(out[:, c:c + 1], expected[:, None], 1) <= 1e-10


def test_spin_0_rows_where_F_is_below_2_to_J_fr():
    """F < 2**J_fr: the spin-0 rows are 2**log2(F) apart, and the time format keeps all of
    them, labelled so (Kymatio keeps n1_max / 2**J_fr of them, labelled 2**J_fr apart)."""
    kwargs = dict(J=6, J_fr=3, Q=8, shape=512, F=4)
    x = chirp_vibrato("jtfs-spin0-rows", (1, 512))
    time = TimeFrequencyScattering(**kwargs)
    joint = TimeFrequencyScattering(**kwargs, format="joint")
    S_time, S_joint = time(x), joint(x)
    meta = time.meta()
    spin0 = np.flatnonzero((meta["order"] == 1) & (meta["n_fr"] == 0))
    assert list(meta["n"][spin0, 0]) == list(range(0, len(time.core.j1), 4))
    for row, c in enumerate(spin0):
        assert_same(S_time[:, c], S_joint[:, 0, row])


def test_T_0_time_format_first_order_is_the_joint_lists_rows():
    """Kymatio's time format unpads these at the full rate and returns empty arrays; its
    joint list (a fixture) has the rows."""
    time = TimeFrequencyScattering(**SMALL, T=0, out_type="list")(X)
    joint = TimeFrequencyScattering(**SMALL, T=0, format="joint", out_type="list")(X)
    first = [item for item in time if item["order"] == 1]
    assert {item["coef"].shape for item in first} == {(2, 8)}
    by_path = {item["n_fr"]: item["coef"] for item in joint if item["order"] == 1}
    for item in first:  # F = 2**J_fr = 4: the rows of every path are 4 apart
        assert_same(item["coef"], by_path[item["n_fr"]][:, item["n"][0] // 4])
