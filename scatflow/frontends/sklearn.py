"""scikit-learn frontend: every transform of `scatflow.registry` as a transformer.

Each transformer takes the NumPy frontend's parameters (Kymatio's signature; `transform` always
gives the 'array' output flattened per sample, `out_type` is what a call gives) and stores them
untouched, so
`clone`, `get_params`, `set_params` and grid searches over them are safe; the attributes Kymatio
normalises read as there (1D `Q` as (Q1, Q2), `T`, `average`: the frontend base's
`kymatio_attributes`), `get_params()` gives them as given.

As Kymatio's, the transformers are stateless (scikit-learn's `requires_fit=False` tag):
`transform` needs no `fit` and always computes with the current parameters (`set_params` takes
effect at once); `fit` checks the parameters and the data and records `n_features_in_`;
`predict` is `transform`, and `scattering(x)` takes signals of shape `(*batch, *shape)` as the
NumPy frontend does. `transform` maps `X` of shape `(n_samples, k * prod(shape))`, each row k
signals of shape `shape` (C order, e.g. k colour channels), to `(n_samples, k *
n_coefficients)`, each row the k signals' 'array' outputs one after the other.
`shape=None` (the default here) takes a one-dimensional signal's length from the data: the
number of features. The parameters are checked in `fit` and `transform`, not in `__init__`
(scikit-learn's convention; Kymatio's entry class, `scatflow.Scattering1D(...,
frontend="sklearn")`, checks them at once). A dask array in gives a lazy dask array out, one
`map_blocks` layer over row chunks, with the filters built in the tasks (never put into the
graph).

Feature names come from the frontend's path list and output axes: `order1_n3_t5` (1D: filter
indices `n`, time index `t`), `order2_j0_theta3_j1_theta0_y1_x2` (2D: scale and angle per
order, position y, x), `order2_l1_j0_j2_p1` (3D: degree `l`, scales `j`, integral power index
`p`): the path's integer fields, scalars first, then the per-order ones interleaved order by
order, then the positions. The position part is left out where there is only one position per
path; with k > 1 signals per row each name starts with `channel<i>_`.
"""

import functools
import inspect
import math

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import registry
from ..dispatch import is_dask_array
from . import numpy as numpy_frontend

_FLOAT_DTYPES = (np.float64, np.float32)


def _scatter_rows(X, cls_name, frozen_params, dtype):
    """`(n, k * prod(input_shape))` rows -> `(n, k * n_coefficients)`, the 'array' output of
    each of a row's k signals flattened. Also the task run on each row chunk of a dask array."""
    frontend = numpy_frontend.cached_frontend(cls_name, frozen_params)
    n = X.shape[0]
    signals = X.astype(dtype, copy=False).reshape((-1,) + tuple(frontend.core.input_shape))
    return frontend(signals).reshape((n, -1))


class _KymatioView:
    """A parameter Kymatio normalises (1D `Q` reads (Q1, Q2)): stored untouched (so
    `get_params`, `set_params` and `clone` see it as given), read as Kymatio's value."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, estimator, owner=None):
        if estimator is None:
            return self
        base = estimator._transform.load("base")
        return base.kymatio_attributes(**estimator.get_params())[self.name]

    def __set__(self, estimator, value):
        estimator.__dict__[self.name] = value


class ScatteringTransformer(TransformerMixin, BaseEstimator):
    """What every transformer shares. A transformer is declared with its registry entry,
    `class Scattering1D(ScatteringTransformer, transform="scattering1d")`, which gives it an
    explicit `__init__` (scikit-learn reads the parameters from its signature): the NumPy
    frontend's parameters, `shape` defaulting to None (`out_type` is what a call gives,
    Kymatio's; `transform` gives the array output, flattened per row). `transform` is defined
    here, on a TransformerMixin subclass, so that `set_output` wraps it (scikit-learn wraps only
    the methods a TransformerMixin subclass defines itself)."""

    _transform = None  # the registry entry

    def __init_subclass__(cls, transform=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if transform is not None:
            cls._transform = registry.get(transform)
            cls.__init__ = _transformer_init(cls, cls._transform)
            for name in cls._transform.load("base").normalised_attributes:
                view = _KymatioView()
                view.__set_name__(cls, name)
                setattr(cls, name, view)

    def get_params(self, deep=True):
        """The parameters as given (some attributes read as Kymatio normalises them)."""
        return {name: self.__dict__[name] for name in self._get_param_names()}

    # -- the NumPy frontend ------------------------------------------------------------------
    def _frontend_key(self, signal_length=None, out_type="array"):
        """(class name, frozen parameters) of the NumPy frontend for the current parameters,
        checked as given (the frozen ones, the cache's key, have lists and arrays as tuples);
        `shape=None` becomes `signal_length` (a one-dimensional signal's length: the frontend's
        own checks refuse it for signals of several dims). `transform` runs the array output
        whatever `out_type` says (its rows are flattened arrays); the call honours it."""
        params = dict(self.get_params(), out_type=out_type)
        if params["shape"] is None:
            params["shape"] = signal_length
        self._transform.load("base").check_parameters(**params)
        return self._transform.class_name, tuple(
            (k, numpy_frontend.freeze(v)) for k, v in params.items())

    def _frontend(self, n_features):
        """The NumPy frontend for rows of `n_features` values (cached per parameters; the
        parameter checks run here) and k, the signals per row; a ValueError naming
        n_features unless it is a positive multiple of prod(shape)."""
        try:
            key = self._frontend_key(n_features)
            frontend = numpy_frontend.cached_frontend(*key)
        except (TypeError, ValueError) as error:
            if self.shape is not None:
                raise
            raise type(error)(f"X has n_features={n_features}, which shape=None takes as the "
                              f"signal's length: {error}") from None
        input_shape = tuple(frontend.core.input_shape)
        n_signal = math.prod(input_shape)
        if n_features < n_signal or n_features % n_signal:
            raise ValueError(
                f"X has n_features={n_features}, but {type(self).__name__} with "
                f"shape={self.shape!r} expects n_features=prod({input_shape})={n_signal}, or a "
                f"multiple k of it (each row is k signals of shape {input_shape}, C order)")
        return frontend, key, n_features // n_signal

    def validate(self):
        """Check the parameters now and return self. `fit` and `transform` check them too;
        Kymatio's entry class calls this, as Kymatio's transformers check theirs when made
        (scikit-learn's convention keeps `__init__` free of checks)."""
        key = self._frontend_key(out_type=self.out_type)
        if self.shape is not None:
            numpy_frontend.cached_frontend(*key)
        return self

    @property
    def scattering_(self):
        """After `fit`: the NumPy frontend for the current parameters (what `transform` runs):
        `meta()`, `output_size()`, `core.paths`, ... This estimator's own object (the one
        `transform` uses is shared through a cache, and a frontend's attributes may be set)."""
        if not hasattr(self, "n_features_in_"):
            raise AttributeError(f"{type(self).__name__}.scattering_ exists after fit")
        _, key, _ = self._frontend(self.n_features_in_)
        if self.__dict__.get("_scattering_key") != key:
            self._scattering = getattr(numpy_frontend, key[0])(**dict(key[1]))
            self._scattering_key = key
        return self._scattering

    @property
    def _n_features_out(self):
        """Output features per row (after `fit`: k signals per row)."""
        frontend, _, k = self._frontend(self.n_features_in_)
        return k * math.prod(frontend.core.array_shape)

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Nothing to learn: check the parameters and that each row of `X` is k signals
        (n_features a multiple of prod(shape)); record `n_features_in_`. A dask array is not
        computed."""
        lazy = is_dask_array(X)
        if lazy and X.ndim != 2:
            raise ValueError(f"Expected a 2D array (n_samples, n_features); got a dask array "
                             f"of shape {X.shape}")
        X = validate_data(self, X, reset=True, skip_check_array=lazy, dtype=_FLOAT_DTYPES,
                          ensure_all_finite=self._finite_check())
        try:
            self._frontend(self.n_features_in_)
        except (TypeError, ValueError):
            del self.n_features_in_
            self.__dict__.pop("feature_names_in_", None)
            raise
        return self

    # -- transforming ----------------------------------------------------------------------
    def transform(self, X):
        """Scattering coefficients, `(n_samples, k * n_coefficients)`; no `fit` needed. float32
        stays float32, anything else becomes float64. A dask array gives a lazy dask array."""
        if is_dask_array(X):
            return self._transform_dask(X)
        X = validate_data(self, X, reset=False, dtype=_FLOAT_DTYPES,
                          ensure_all_finite=self._finite_check())
        _, key, _ = self._frontend(X.shape[1])
        return _scatter_rows(X, *key, X.dtype)

    def _finite_check(self):
        """scikit-learn's `ensure_all_finite`: NaN is missing data with nan_policy="mask"
        (infinities are still refused), any non-finite value is refused otherwise."""
        return "allow-nan" if self.nan_policy == "mask" else True

    def predict(self, X):
        """`transform` (Kymatio's transformers are also estimators: `predict` is `transform`)."""
        return self.transform(X)

    def scattering(self, x):
        """Kymatio's `scattering` (also the call, as Kymatio's transformers are NumPy
        frontends): the coefficients of `x`, of shape `(*batch, *shape)`, as the NumPy frontend
        gives them (in `out_type`)."""
        key = self._frontend_key(np.shape(x)[-1], self.out_type)
        return numpy_frontend.cached_frontend(*key)(x)

    __call__ = scattering

    def meta(self):
        """Kymatio's `meta()`: the NumPy frontend's for the current parameters (as Kymatio's
        transformers, which are NumPy frontends, have it); needs `shape`."""
        return self._shaped_frontend("meta").meta()

    def output_size(self, *args, **kwargs):
        """Kymatio's `output_size()`: the NumPy frontend's for the current parameters; needs
        `shape`."""
        return self._shaped_frontend("output_size").output_size(*args, **kwargs)

    def _shaped_frontend(self, method):
        """The NumPy frontend of the current parameters (`out_type` included), for `method`;
        a ValueError naming `shape` while it is None (the data gives it at `fit`), an
        AttributeError where the transform has no such method (as in Kymatio)."""
        if self.shape is None:
            raise ValueError(f"{type(self).__name__}.{method}() needs shape (shape=None takes "
                             f"the signal's length from the data only in fit and transform)")
        frontend = numpy_frontend.cached_frontend(*self._frontend_key(out_type=self.out_type))
        if not hasattr(frontend, method):
            raise AttributeError(f"{type(self).__name__} has no {method}() (nor has Kymatio's)")
        return frontend

    def _transform_dask(self, X):
        import dask.array as da
        from dask.array.utils import meta_from_array

        if X.ndim != 2:
            raise ValueError(f"Expected a 2D array (n_samples, n_features); got a dask array "
                             f"of shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must have a real numeric dtype; got {X.dtype}")
        validate_data(self, X, reset=False, skip_check_array=True)
        frontend, (cls_name, frozen_params), k = self._frontend(X.shape[1])
        dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
        X = X.rechunk({1: -1})
        # the parameters travel inside a partial, so that dask never reads them as graph keys
        task = functools.partial(_scatter_rows, cls_name=cls_name, frozen_params=frozen_params,
                                 dtype=dtype)
        width = k * math.prod(frontend.core.array_shape)
        return da.map_blocks(
            task, X, chunks=(X.chunks[0], (width,)), dtype=dtype,
            meta=meta_from_array(X, ndim=2, dtype=dtype), token=f"scatflow-{cls_name.lower()}")

    # -- feature names ---------------------------------------------------------------------
    def get_feature_names_out(self, input_features=None):
        """One readable, unique name per output feature, from the scattering path list."""
        check_is_fitted(self, "n_features_in_")
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(f"input_features should have length equal to number of "
                                 f"features ({self.n_features_in_}), got "
                                 f"{len(input_features)}")
            names_in = getattr(self, "feature_names_in_", None)
            if names_in is not None and not np.array_equal(names_in, input_features):
                raise ValueError("input_features is not equal to feature_names_in_")
        frontend, _, k = self._frontend(self.n_features_in_)
        core = frontend.core
        path_names = [_path_name(p, core.key_fields) for p in core.paths]
        # path axes index the paths (in path order), the others the positions along each path
        letters, positions = [], []
        for axis, size in zip(core.output_axes, core.array_shape):
            if axis.kind != "path":
                letters.append(axis.letter)
                positions.append(size)
        if math.prod(positions) == 1:
            suffixes = [""]
        else:
            suffixes = ["".join(f"_{a}{i}" for a, i in zip(letters, index) if a)
                        for index in np.ndindex(*positions)]
        names = [p + s for p in path_names for s in suffixes]
        if k > 1:
            names = [f"channel{c}_{name}" for c in range(k) for name in names]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = self.nan_policy == "mask"
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _path_name(path, key_fields):
    """`order<o>` and the path's key fields (`core.key_fields`): scalars first, then per-order
    tuples interleaved order by order (`order2_j0_theta3_j1_theta0`, `order2_l1_j0_j2`)."""
    values = [(k, path.fields[k]) for k in key_fields]
    parts = [f"_{k}{v}" for k, v in values if not isinstance(v, tuple) and _labels(v)]
    tuples = [(k, v) for k, v in values if isinstance(v, tuple)]
    for order in range(max((len(v) for _, v in tuples), default=0)):
        parts += [f"_{k}{v[order]}" for k, v in tuples if order < len(v) and _labels(v[order])]
    return f"order{path.order}" + "".join(parts)


def _labels(value):
    """Whether a key field's value names something (not None, nor NaN: a field another axis
    labels, e.g. n1 in a joint time-frequency array)."""
    return value is not None and value == value


def _transformer_init(cls, transform):
    """`cls.__init__` with the NumPy frontend's parameters (`shape=None`) as its signature,
    storing each argument untouched."""
    P = inspect.Parameter
    parameters = [p.replace(default=None) if p.name == "shape" else p
                  for p in transform.parameters()]
    signature = inspect.Signature([P("self", P.POSITIONAL_OR_KEYWORD)] + parameters)

    def __init__(self, *args, **kwargs):
        arguments = signature.bind(self, *args, **kwargs)
        arguments.apply_defaults()
        for name, value in arguments.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


class Scattering1D(ScatteringTransformer, transform="scattering1d"):
    """1D Morlet scattering as a scikit-learn transformer (Kymatio's
    `kymatio.sklearn.Scattering1D`): rows of `N = shape` samples in, the `(C, N_out)`
    coefficients of each row flattened out (`T=0` is refused: one array out)."""


class Scattering2D(ScatteringTransformer, transform="scattering2d"):
    """2D Morlet scattering as a scikit-learn transformer (Kymatio's
    `kymatio.sklearn.Scattering2D`): rows of `M * N` pixels (`shape=(M, N)`, C order) in, the
    `(C, M // 2**J, N // 2**J)` coefficients of each image flattened out."""


class HarmonicScattering3D(ScatteringTransformer, transform="harmonic_scattering3d"):
    """3D solid-harmonic scattering as a scikit-learn transformer (Kymatio's
    `kymatio.sklearn.HarmonicScattering3D`): rows of `M * N * O` voxels in, the
    `(K, L + 1, len(integral_powers))` invariants of each volume flattened out."""


class TimeFrequencyScattering(ScatteringTransformer, transform="time_frequency_scattering"):
    """Joint time-frequency scattering as a scikit-learn transformer (Kymatio main's
    `kymatio.sklearn.TimeFrequencyScattering`): rows of `N = shape` samples in, the `(C,
    N_out)` (or joint `(C, rows, N_out)`) coefficients of each row flattened out."""


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
