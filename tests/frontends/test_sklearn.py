"""scatflow.sklearn: the three scattering transformers (parameters, output, feature names, dask
laziness, scikit-learn's estimator checks, dask-ml and GridSearchCV pipelines)."""

import math
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import scatflow.numpy  # noqa: E402
from scatflow.frontends.base import map_arrays  # noqa: E402
from scatflow.sklearn import (  # noqa: E402
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

# One small instance of each transformer, and the NumPy frontend it must agree with.
SMALL = [
    (Scattering1D, dict(J=3, shape=128, Q=2)),
    (Scattering2D, dict(J=2, shape=(12, 16), L=4)),
    (HarmonicScattering3D, dict(J=2, shape=(8, 8, 8), L=2)),
    (TimeFrequencyScattering, dict(J=3, J_fr=2, Q=4, shape=128)),
    (TimeFrequencyScattering, dict(J=3, J_fr=2, Q=(4, 2), shape=100, format="joint")),
]
SMALL_IDS = [cls.__name__ + ("-joint" if kwargs.get("format") == "joint" else "")
             for cls, kwargs in SMALL]


def _rows(kwargs, n=5, seed=0, dtype=np.float64):
    shape = kwargs["shape"] if isinstance(kwargs["shape"], tuple) else (kwargs["shape"],)
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, math.prod(shape))).astype(dtype), shape


def _never_compute(*args, **kwargs):
    raise AssertionError("something computed a dask array")


# -- parameters -------------------------------------------------------------------------------
def test_parameters_are_stored_untouched_and_clone_safe():
    Q, shape, powers = (2,), [128], np.array([1.0, 2.0])
    est = Scattering1D(3, shape, Q=Q)
    params = est.get_params()
    assert params["Q"] is Q and params["shape"] is shape and params["T"] is None
    assert params["out_type"] == "array"  # what a call gives; transform flattens the array
    est.fit(_rows(dict(shape=128))[0])
    params = est.get_params()  # not mutated (Kymatio 0.3.0 does)
    assert params["Q"] is Q and params["shape"] is shape and params["T"] is None
    assert est.shape is shape and (est.Q, est.T) == ((2, 1), 8)  # read as Kymatio normalises
    h = HarmonicScattering3D(J=1, shape=(4, 4, 4), L=1, integral_powers=powers)
    assert h.integral_powers is powers and h.get_params()["integral_powers"] is powers
    np.testing.assert_array_equal(clone(h).integral_powers, powers)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "scattering_")
    assert est.set_params(J=2) is est and est.J == 2


def test_entry_class_and_public_path():
    import scatflow
    import scatflow.frontends.sklearn as frontend

    est = scatflow.Scattering2D(J=1, shape=(8, 8), frontend="sklearn")
    assert type(est) is Scattering2D is frontend.Scattering2D
    assert est.get_params() == dict(J=1, shape=(8, 8), L=8, max_order=2, pre_pad=False,
                                    backend=None, out_type="array", filter_levels="kymatio",
                                    average=True, nan_policy="propagate", min_valid=0.5,
                                    padding_mode="reflect")
    local = scatflow.Scattering2D(J=2, shape=(8, 8), L=2, frontend="sklearn", filter_levels="local")
    X = np.random.default_rng(0).standard_normal((3, 64))
    np.testing.assert_allclose(local.fit_transform(X), scatflow.Scattering2D(
        J=2, shape=(8, 8), L=2, filter_levels="local")(X.reshape(3, 8, 8)).reshape(3, -1))


def test_stateless_set_params_takes_effect_at_once():
    """As Kymatio's, the transformers are stateless: transform computes with the parameters it
    has now, fitted or not."""
    X, _ = _rows(dict(shape=(8, 8)))
    est = Scattering2D(J=1, shape=(8, 8), L=4).fit(X)
    before = est.transform(X)
    est.set_params(L=2)
    after = est.transform(X)
    np.testing.assert_array_equal(after, Scattering2D(J=1, shape=(8, 8), L=2).transform(X))
    assert after.shape[1] < before.shape[1] and est.scattering_.core.L == 2
    assert len(est.get_feature_names_out()) == after.shape[1]


@pytest.mark.parametrize("cls, kwargs, error, match", [
    (Scattering1D, dict(J=-1, shape=64), ValueError, "J must be"),
    (Scattering1D, dict(J=2, shape=64, Q=0), ValueError, "Q must be"),
    (Scattering1D, dict(J=2, shape=64, T=0), ValueError, "T=0"),
    (Scattering1D, dict(J=2, shape=64, average=False), ValueError, "T=0"),
    (Scattering1D, dict(J=2.5, shape=64), TypeError, "J must be an integer"),
    (Scattering2D, dict(J=4, shape=(8, 8)), ValueError, "J must satisfy"),
    (Scattering2D, dict(J=1, shape=(8, 8), L=0), ValueError, "L must be"),
    (Scattering2D, dict(J=1, shape=(8, 8), backend="matlab"), ValueError, "backend must be"),
    (HarmonicScattering3D, dict(J=1, shape=(8, 8), L=1), ValueError, "shape must be"),
    (HarmonicScattering3D, dict(J=1, shape=(4, 4, 4), method="x"), ValueError, "method must be"),
])
def test_fit_runs_the_numpy_frontend_checks(cls, kwargs, error, match):
    est = cls(**kwargs)  # __init__ checks nothing
    with pytest.raises(error, match=match):
        est.fit(np.zeros((2, 64)))
    assert not hasattr(est, "scattering_")


def test_fit_and_transform_check_the_feature_count():
    est = Scattering2D(J=1, shape=(8, 8), L=2)
    with pytest.raises(ValueError, match=r"n_features=63, .*shape=\(8, 8\) expects n_features="):
        est.fit(np.zeros((3, 63)))
    est.fit(np.zeros((3, 64)))
    with pytest.raises(ValueError, match="X has 63 features, but Scattering2D is expecting 64"):
        est.transform(np.zeros((3, 63)))
    with pytest.raises(ValueError, match=r"n_features=63, .*expects n_features="):
        Scattering2D(J=1, shape=(8, 8)).transform(np.zeros((3, 63)))  # no fit needed
    with pytest.raises(NotFittedError):
        Scattering2D(J=1, shape=(8, 8)).get_feature_names_out()


# -- output -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", SMALL, ids=SMALL_IDS)
def test_transform_is_the_numpy_frontend_flattened(cls, kwargs):
    X, shape = _rows(kwargs)
    reference = getattr(scatflow.numpy, cls.__name__)(**kwargs)(X.reshape((-1,) + shape))
    est = cls(**kwargs).fit(X)
    out = est.transform(X)
    assert out.dtype == np.float64
    assert out.shape == (5, reference[0].size) == (5, est._n_features_out)
    np.testing.assert_array_equal(out, reference.reshape(5, -1))
    out32 = est.transform(X.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out, rtol=1e-3, atol=1e-4 * np.abs(out).max())
    assert est.fit_transform(X.astype(np.int64)).dtype == np.float64
    assert est.n_features_in_ == X.shape[1]


# -- Kymatio's transformers: stateless estimators, k signals per row ---------------------------
@pytest.mark.parametrize("cls, kwargs", SMALL, ids=SMALL_IDS)
def test_transform_needs_no_fit_and_predict_is_transform(cls, kwargs):
    X, shape = _rows(kwargs)
    est = cls(**kwargs)
    reference = getattr(scatflow.numpy, cls.__name__)(**kwargs)(X.reshape((-1,) + shape))
    np.testing.assert_array_equal(est.transform(X), reference.reshape(5, -1))
    np.testing.assert_array_equal(est.predict(X), reference.reshape(5, -1))
    assert not hasattr(est, "n_features_in_")  # transform recorded nothing
    assert est.__sklearn_tags__().requires_fit is False
    np.testing.assert_array_equal(est.scattering(X.reshape((-1,) + shape)), reference)


@pytest.mark.parametrize("cls, kwargs", SMALL, ids=SMALL_IDS)
def test_rows_of_k_signals_give_each_signals_coefficients(cls, kwargs):
    """Kymatio reshapes a row of k * prod(shape) values into k signals (e.g. colour channels)."""
    X, shape = _rows(dict(kwargs, shape=(3,) + tuple(np.atleast_1d(kwargs["shape"]))))
    est = cls(**kwargs).fit(X)
    reference = getattr(scatflow.numpy, cls.__name__)(**kwargs)(X.reshape((5,) + shape))
    out = est.transform(X)
    np.testing.assert_array_equal(out, reference.reshape(5, -1))
    names = est.get_feature_names_out()
    assert len(names) == out.shape[1] == est._n_features_out and len(set(names)) == len(names)
    assert names[0].startswith("channel0_") and names[-1].startswith("channel2_")
    lazy = est.transform(da.from_array(X, chunks=(2, -1)))
    np.testing.assert_array_equal(lazy.compute(), out)


@pytest.mark.parametrize("cls, kwargs", SMALL, ids=SMALL_IDS)
def test_meta_and_output_size_are_the_numpy_frontends(cls, kwargs):
    """Kymatio's transformers are NumPy frontends: `meta()` and `output_size()` are theirs, for
    the current parameters (out_type included)."""
    for out_type in ("array", "list"):
        est = cls(**kwargs, out_type=out_type)
        frontend = getattr(scatflow.numpy, cls.__name__)(**kwargs, out_type=out_type)
        assert est.output_size() == frontend.output_size()
        expected = frontend.meta()
        meta = est.meta()
        assert meta.keys() == expected.keys()
        for name in meta:
            np.testing.assert_equal(meta[name], expected[name])
    with pytest.raises(ValueError, match="meta\\(\\) needs shape"):
        cls(**dict(kwargs, shape=None)).meta()


def test_kymatio_attributes_read_normalised_and_parameters_stay_as_given():
    est = Scattering1D(np.array(3), 128, Q=(8,))
    assert (est.Q, est.T, est.average) == ((8, 1), 8, "local")
    assert est.get_params()["Q"] == (8,) and est.get_params()["T"] is None
    assert clone(est).get_params()["Q"] == (8,)
    est.set_params(Q=4)
    assert est.Q == (4, 1) and est.get_params()["Q"] == 4
    X, _ = _rows(dict(shape=128))
    np.testing.assert_array_equal(
        est.transform(X), scatflow.numpy.Scattering1D(3, 128, Q=4)(X).reshape(5, -1))


def test_entry_class_checks_at_once_and_the_class_in_fit():
    import scatflow

    with pytest.raises(ValueError, match="Q should always be >= 1"):
        scatflow.Scattering1D(3, 1024, Q=0.9, frontend="sklearn")
    with pytest.raises(ValueError, match="Q must be an integer or a tuple"):
        scatflow.Scattering1D(3, 1024, Q=[8], frontend="sklearn")
    with pytest.raises(RuntimeError, match="smallest dimension"):
        scatflow.Scattering2D(4, (8, 8), frontend="sklearn")
    est = Scattering1D(3, 1024, Q=0.9)  # scikit-learn's convention: nothing checked in __init__
    with pytest.raises(ValueError, match="Q should always be >= 1"):
        est.fit(np.zeros((2, 1024)))


def test_preserves_dtype_tag():
    tags = Scattering2D(J=1, shape=(8, 8)).__sklearn_tags__()
    assert tags.transformer_tags.preserves_dtype == ["float64", "float32"]
    assert not tags.input_tags.allow_nan and not tags.input_tags.sparse


# -- feature names ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", SMALL, ids=SMALL_IDS)
def test_feature_names_are_unique_and_one_per_output(cls, kwargs):
    X, _ = _rows(kwargs)
    est = cls(**kwargs).fit(X)
    names = est.get_feature_names_out()
    assert names.dtype == object and len(names) == est.transform(X).shape[1]
    assert len(set(names)) == len(names)
    np.testing.assert_array_equal(est.get_feature_names_out([f"x{i}" for i in range(X.shape[1])]),
                                  names)
    with pytest.raises(ValueError, match="input_features should have length"):
        est.get_feature_names_out(["a"])


def test_feature_names_point_at_their_coefficients():
    # 1D: (C, N_out) per row; name = path + time index
    X, _ = _rows(dict(shape=128))
    s1 = Scattering1D(J=3, shape=128, Q=2).fit(X)
    names1 = list(s1.get_feature_names_out())
    assert names1[:2] == ["order0_t0", "order0_t1"]
    ref1 = scatflow.numpy.Scattering1D(J=3, shape=128, Q=2)(X)  # (5, C, N_out)
    keys = [p.key for p in s1.scattering_.core.paths]
    column = names1.index("order1_n3_t5")
    np.testing.assert_array_equal(s1.transform(X)[:, column], ref1[:, keys.index((3,)), 5])
    column = names1.index("order2_n0_n3_t2")
    np.testing.assert_array_equal(s1.transform(X)[:, column], ref1[:, keys.index((0, 3)), 2])
    # 1D with T='global': one position, no time suffix
    g = Scattering1D(J=3, shape=128, T="global").fit(X)
    assert list(g.get_feature_names_out()[:2]) == ["order0", "order1_n0"]
    # 2D: (C, H, W) per image; name = path (j, theta per order) + y, x
    X2, _ = _rows(dict(shape=(16, 16)))
    s2 = Scattering2D(J=2, shape=(16, 16), L=4).fit(X2)
    names2 = list(s2.get_feature_names_out())
    ref2 = scatflow.numpy.Scattering2D(J=2, shape=(16, 16), L=4)(X2.reshape(-1, 16, 16))
    keys2 = [p.key for p in s2.scattering_.core.paths]
    column = names2.index("order2_j0_theta3_j1_theta0_y1_x2")
    np.testing.assert_array_equal(s2.transform(X2)[:, column],
                                  ref2[:, keys2.index((0, 3, 1, 0)), 1, 2])
    # 3D: (K, L+1, P) per volume; name = path (l, j per order) + integral power index p
    X3, _ = _rows(dict(shape=(8, 8, 8)))
    s3 = HarmonicScattering3D(J=2, shape=(8, 8, 8), L=2).fit(X3)
    names3 = list(s3.get_feature_names_out())
    ref3 = scatflow.numpy.HarmonicScattering3D(J=2, shape=(8, 8, 8), L=2)(X3.reshape(-1, 8, 8, 8))
    column = names3.index("order2_l1_j0_j2_p1")
    paths3 = s3.scattering_.core.paths
    path = next(i for i, p in enumerate(paths3) if p.order == 2 and p.fields["l"] == 1
                and p.fields["j"] == (0, 2))
    k, l = divmod(path, 3)
    np.testing.assert_array_equal(s3.transform(X3)[:, column], ref3[:, k, l, 1])
    # JTFS, time format: (C, N_out) per row; name = path (n_fr, then n1 [, n2]) + time index
    kwargs = dict(J=3, J_fr=2, Q=4, shape=128)
    s4 = TimeFrequencyScattering(**kwargs).fit(X)
    names4 = list(s4.get_feature_names_out())
    ref4 = scatflow.numpy.TimeFrequencyScattering(**kwargs)(X)
    keys4 = [p.key for p in s4.scattering_.core.paths]
    n1, n2, n_fr = keys4[-1]  # the last second-order channel
    column = names4.index(f"order2_n_fr{n_fr}_n{n1}_n{n2}_t3")
    np.testing.assert_array_equal(s4.transform(X)[:, column], ref4[:, len(keys4) - 1, 3])
    # JTFS, joint format: (C, rows, N_out) per row; name = path (n_fr [, n2]) + row f + time t
    s5 = TimeFrequencyScattering(**kwargs, format="joint").fit(X)
    names5 = list(s5.get_feature_names_out())
    ref5 = scatflow.numpy.TimeFrequencyScattering(**kwargs, format="joint")(X)
    keys5 = [p.key for p in s5.scattering_.core.paths]
    n2, n_fr = keys5[-1]
    column = names5.index(f"order2_n_fr{n_fr}_n{n2}_f1_t3")
    np.testing.assert_array_equal(s5.transform(X)[:, column], ref5[:, len(keys5) - 1, 1, 3])


def test_set_output_pandas_uses_the_feature_names():
    pd = pytest.importorskip("pandas")
    X, _ = _rows(dict(shape=(8, 8)))
    est = Scattering2D(J=1, shape=(8, 8), L=2).set_output(transform="pandas")
    pixels = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    frame = est.fit_transform(pixels)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(est.get_feature_names_out())
    assert "order1_j0_theta1_y3_x0" in frame.columns
    plain = clone(est).set_output(transform="default").fit(X).transform(X)
    np.testing.assert_array_equal(frame.to_numpy(), plain)
    again = est.transform(pixels)
    assert isinstance(again, pd.DataFrame) and list(again.columns) == list(frame.columns)


# -- dask -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", SMALL, ids=SMALL_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dask_transform_is_lazy_and_shaped(cls, kwargs, dtype):
    X, _ = _rows(kwargs, n=10, dtype=dtype)
    Xd = da.from_array(X, chunks=(4, max(1, X.shape[1] // 3)))  # feature axis split too
    with dask.config.set(scheduler=_never_compute):
        est = cls(**kwargs).fit(Xd)
        Y = est.transform(Xd)
        Y2 = est.fit_transform(Xd)
    n_out = est._n_features_out
    assert isinstance(Y, da.Array) and isinstance(Y2, da.Array)
    assert Y.shape == (10, n_out) and Y.chunks == ((4, 4, 2), (n_out,))
    assert Y.dtype == dtype and type(Y._meta) is np.ndarray and Y._meta.dtype == dtype
    assert est.n_features_in_ == X.shape[1]
    computed = Y.compute(scheduler="sync")
    assert computed.dtype == dtype
    np.testing.assert_array_equal(computed, est.transform(X))


def test_dask_graph_holds_no_filter_bank_and_unknown_row_chunks_work():
    X, _ = _rows(dict(shape=(32, 32)), n=12)
    Xd = da.from_array(X, chunks=(3, 1024))
    est = Scattering2D(J=2, shape=(32, 32)).fit(X)
    est.transform(X)  # the numpy path has converted filters: they must not reach the graph
    Y = est.transform(Xd)
    filter_bytes = []
    map_arrays(est.scattering_.core.filters(), lambda a: filter_bytes.append(a.nbytes))
    assert sum(filter_bytes) > 200_000  # the bank: 220 kB
    assert len(pickle.dumps(dict(Y.__dask_graph__()))) < X.nbytes + 10_000  # the data + tasks
    assert len(pickle.dumps(est)) < 20_000  # the fitted estimator holds no converted filters
    other = est.transform(Xd[::-1])  # a second transform in the same graph: distinct keys
    assert other.name != Y.name and other.name.startswith("scatflow-scattering2d")
    both = da.concatenate([Y, other]).compute(scheduler="sync")
    np.testing.assert_array_equal(both, np.concatenate([est.transform(X), est.transform(X[::-1])]))
    masked = Xd[Xd[:, 0] > -np.inf]  # row chunks of unknown size
    with dask.config.set(scheduler=_never_compute):
        Ym = est.transform(masked)
    assert math.isnan(Ym.shape[0]) and Ym.shape[1] == est._n_features_out
    np.testing.assert_array_equal(Ym.compute(scheduler="sync"), est.transform(X))


def test_dask_input_must_be_two_dimensional_and_real():
    est = Scattering1D(J=2, shape=64).fit(np.zeros((2, 64)))
    with pytest.raises(ValueError, match="2D array"):
        est.transform(da.zeros((2, 8, 8)))
    with pytest.raises(TypeError, match="real numeric dtype"):
        est.transform(da.zeros((2, 64), dtype=complex))
    with pytest.raises(ValueError, match="X has 8 features"):
        est.transform(da.zeros((2, 8)))


def test_dask_ml_incremental_pipeline_on_digits():
    pytest.importorskip("dask_ml")
    from dask_ml.preprocessing import StandardScaler
    from dask_ml.wrappers import Incremental
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    train, test = slice(0, 1200), slice(1200, None)
    pipe = Pipeline([
        ("scat", Scattering2D(J=1, shape=(8, 8), L=4)),
        ("scale", StandardScaler()),
        ("clf", Incremental(SGDClassifier(random_state=0))),
    ])
    pipe.fit(da.from_array(X[train], chunks=300), da.from_array(y[train], chunks=300),
             clf__classes=np.arange(10))
    with dask.config.set(scheduler=_never_compute):
        predicted = pipe.predict(da.from_array(X[test], chunks=300))
    assert isinstance(predicted, da.Array)
    accuracy = (predicted.compute() == y[test]).mean()
    assert accuracy > 0.9, accuracy  # measured 0.965; chance is 0.1


def test_grid_search_over_a_scattering_parameter():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    pipe = Pipeline([("scat", Scattering2D(J=1, shape=(8, 8), L=2, max_order=1)),
                     ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))])
    search = GridSearchCV(pipe, {"scat__L": [1, 4]}, cv=3).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"scat__L": 4} and scores[1] > scores[0] > 0.8
    assert pipe.named_steps["scat"].L == 2 and not hasattr(pipe.named_steps["scat"], "scattering_")
    best = search.best_estimator_.named_steps["scat"]
    assert best.L == 4 and best.scattering_.core.L == 4


# -- scikit-learn's estimator checks ----------------------------------------------------------
# sklearn 1.9's checks feed fixed data. A transformer bound to `shape` accepts only rows of
# prod(shape) features, so each check passes exactly when its data has that many features.
# Most checks feed 3 features (make_blobs with 3-d centers); these feed other counts:
OTHER_FEATURE_COUNTS = {
    "check_estimators_overwrite_params": 2,
    "check_estimators_fit_returns_self": 2,
    "check_readonly_memmap_input": 2,
    "check_fit_idempotent": 2,
    "check_fit_check_is_fitted": 2,
    "check_n_features_in": 2,
    "check_n_features_in_after_fitting": 4,
    "check_positive_only_tag_during_fit": 4,  # iris
    "check_estimators_dtypes": 5,
    "check_dtype_object": 10,
    "check_fit2d_1sample": 10,
    "check_transformers_unfitted_stateless": 5,  # run for requires_fit=False transformers
}
THREE_FEATURE_CHECKS = [
    "check_fit_score_takes_y", "check_dont_overwrite_parameters", "check_pipeline_consistency",
    "check_estimators_nan_inf", "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_dict_unchanged", "check_fit2d_predict1d",
]
FEATURE_COUNTS = {**OTHER_FEATURE_COUNTS, **{name: 3 for name in THREE_FEATURE_CHECKS}}


def _instance(cls, n_features):
    """A small instance of `cls` taking rows of `n_features` values."""
    if cls is Scattering1D:
        return Scattering1D(J=1, shape=n_features)
    if cls is HarmonicScattering3D:
        return HarmonicScattering3D(J=1, shape=(1, 1, n_features), L=1)
    if cls is TimeFrequencyScattering:
        return TimeFrequencyScattering(J=1, J_fr=1, Q=1, shape=n_features)
    return Scattering2D(J=0, shape=(1, n_features), L=2)  # 2**J <= min(shape) needs J=0


def _expected_failures(estimator):
    """The checks whose data has another feature count than `estimator.shape` takes (none
    for a transformer with shape=None, which takes the signal length from the data)."""
    if estimator.shape is None:
        return {}
    n = math.prod(estimator.shape if isinstance(estimator.shape, tuple) else (estimator.shape,))
    return {name: f"feeds X with {k} features; this {type(estimator).__name__} takes "
                  f"prod(shape) = {n}"
            for name, k in FEATURE_COUNTS.items() if k != n}


@pytest.mark.parametrize("estimator", [
    Scattering1D(J=1),
    TimeFrequencyScattering(J=1, J_fr=1, Q=1),
    _instance(TimeFrequencyScattering, 3),
    _instance(Scattering1D, 3),
    _instance(HarmonicScattering3D, 3),
    _instance(Scattering2D, 3),
], ids=lambda e: f"{type(e).__name__}-shape={e.shape}")
def test_check_estimator(estimator):
    expected = _expected_failures(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    failed = {r["check_name"]: r["exception"] for r in results if r["status"] == "failed"}
    assert not failed, failed
    # every check listed really fails, and only for its feature count
    for r in results:
        if r["check_name"] in expected:
            assert r["status"] == "xfail", r["check_name"]
            error = r["exception"]
            assert "n_features=" in f"{error} {error.__cause__}", (r["check_name"], error)
    assert len([r for r in results if r["status"] == "passed"]) >= 20


@pytest.mark.parametrize("check_name", sorted(FEATURE_COUNTS))
@pytest.mark.parametrize("cls", [Scattering1D, Scattering2D, HarmonicScattering3D,
                                 TimeFrequencyScattering], ids=lambda c: c.__name__)
def test_shape_bound_checks_pass_when_the_shape_matches(cls, check_name):
    n = FEATURE_COUNTS[check_name]
    estimator = _instance(cls, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(estimator_checks, check_name)(cls.__name__, estimator)


# Checks that check_estimator does not run (sklearn runs them on its own transformers), with
# the feature count of their data.
@pytest.mark.parametrize("check_name, n_features", [
    ("check_transformer_get_feature_names_out", 3),
    ("check_transformer_get_feature_names_out_pandas", 3),
    ("check_set_output_transform", 5),
    ("check_set_output_transform_pandas", 5),
    ("check_global_output_transform_pandas", 5),
])
@pytest.mark.parametrize("cls", [Scattering1D, Scattering2D, HarmonicScattering3D,
                                 TimeFrequencyScattering], ids=lambda c: c.__name__)
def test_feature_name_and_set_output_checks(cls, check_name, n_features):
    pytest.importorskip("pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(estimator_checks, check_name)(cls.__name__, _instance(cls, n_features))
