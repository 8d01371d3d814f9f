"""scikit-learn frontend: every transform of `scatflow.registry` as a transformer.

Each transformer takes the NumPy frontend's parameters (Kymatio's signature, without `out_type`:
the output is always the 'array' output flattened per sample) and stores them untouched, so
`clone`, `get_params`, `set_params` and grid searches over them are safe. `fit` builds the NumPy
frontend (the transform's own parameter checks run there; the filters come from a cache),
`transform` maps `X` of shape `(n_samples, prod(shape))` (each row a signal of shape `shape`)
to `(n_samples, n_features_out)`. `shape=None` (the default here) takes a one-dimensional
signal's length from `fit`'s data: the number of features. A dask array in gives a lazy dask
array out, one `map_blocks` layer over row chunks, with the filters built in the tasks (never
put into the graph).

Feature names come from the frontend's path list and output axes: `order1_n3_t5` (1D: filter
indices `n`, time index `t`), `order2_j0_theta3_j1_theta0_y1_x2` (2D: scale and angle per
order, position y, x), `order2_l1_j0_j2_p1` (3D: degree `l`, scales `j`, integral power index
`p`): the path's integer fields, scalars first, then the per-order ones interleaved order by
order, then the positions. The position part is left out where there is only one position per
path.
"""

import functools
import inspect
import math

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import registry
from . import numpy as numpy_frontend

_FLOAT_DTYPES = (np.float64, np.float32)


def _is_dask_array(X):
    return type(X).__module__.partition(".")[0] == "dask" and hasattr(X, "chunks")


def _scatter_rows(X, cls_name, frozen_params, dtype):
    """`(n, prod(input_shape))` rows -> `(n, n_features_out)`, the 'array' output flattened
    per row. Also the task run on each row chunk of a dask array."""
    frontend = numpy_frontend.cached_frontend(cls_name, frozen_params)
    n = X.shape[0]
    out = frontend(X.astype(dtype, copy=False).reshape((n,) + tuple(frontend.core.input_shape)))
    return out.reshape((n, -1))


class ScatteringTransformer(TransformerMixin, BaseEstimator):
    """What every transformer shares. A transformer is declared with its registry entry,
    `class Scattering1D(ScatteringTransformer, transform="scattering1d")`, which gives it an
    explicit `__init__` (scikit-learn reads the parameters from its signature): the NumPy
    frontend's parameters but `out_type`, `shape` defaulting to None. `transform` is defined
    here, on a TransformerMixin subclass, so that `set_output` wraps it (scikit-learn wraps only
    the methods a TransformerMixin subclass defines itself)."""

    _transform = None  # the registry entry

    def __init_subclass__(cls, transform=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if transform is not None:
            cls._transform = registry.get(transform)
            cls.__init__ = _transformer_init(cls, cls._transform)

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Build the scattering (parameter checks, filters from the cache) and check that `X`
        has `prod(shape)` features. A dask array is not computed."""
        lazy = _is_dask_array(X)
        if lazy and X.ndim != 2:
            raise ValueError(f"Expected a 2D array (n_samples, n_features); got a dask array "
                             f"of shape {X.shape}")
        X = validate_data(self, X, reset=True, skip_check_array=lazy, dtype=_FLOAT_DTYPES)
        params = self._scattering_params()
        try:
            scattering = getattr(numpy_frontend, self._transform.class_name)(**params,
                                                                             out_type="array")
        except (TypeError, ValueError) as error:
            if self.shape is not None:
                raise
            raise type(error)(f"X has n_features={self.n_features_in_}, which shape=None takes "
                              f"as the signal's length: {error}") from None
        input_shape = tuple(scattering.core.input_shape)
        n_signal = math.prod(input_shape)
        if self.n_features_in_ != n_signal:
            raise ValueError(
                f"X has n_features={self.n_features_in_}, but {type(self).__name__} with "
                f"shape={self.shape!r} expects n_features=prod({input_shape})={n_signal} "
                f"(each row is one signal, reshaped to {input_shape})")
        self.scattering_ = scattering
        # what transform computes with: these parameters, even if set_params changes them later
        self._frontend_key = (self._transform.class_name, tuple(
            (k, numpy_frontend.freeze(v)) for k, v in dict(params, out_type="array").items()))
        self._n_features_out = math.prod(scattering.core.array_shape)
        return self

    def _scattering_params(self):
        """The NumPy frontend's parameters (called in `fit`, after `n_features_in_` is set):
        `shape=None` becomes the number of features, the length of a one-dimensional signal
        (the frontend's own checks refuse it for signals of several dims)."""
        params = self.get_params(deep=False)
        if params["shape"] is None:
            params["shape"] = self.n_features_in_
        return params

    # -- transforming ----------------------------------------------------------------------
    def transform(self, X):
        """Scattering coefficients, `(n_samples, n_features_out)`; float32 stays float32,
        anything else becomes float64. A dask array gives a lazy dask array."""
        check_is_fitted(self)
        if _is_dask_array(X):
            return self._transform_dask(X)
        X = validate_data(self, X, reset=False, dtype=_FLOAT_DTYPES)
        return _scatter_rows(X, *self._frontend_key, X.dtype)

    def _transform_dask(self, X):
        import dask.array as da
        from dask.array.utils import meta_from_array

        if X.ndim != 2:
            raise ValueError(f"Expected a 2D array (n_samples, n_features); got a dask array "
                             f"of shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must have a real numeric dtype; got {X.dtype}")
        validate_data(self, X, reset=False, skip_check_array=True)
        dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
        X = X.rechunk({1: -1})
        cls_name, frozen_params = self._frontend_key
        # the parameters travel inside a partial, so that dask never reads them as graph keys
        task = functools.partial(_scatter_rows, cls_name=cls_name, frozen_params=frozen_params,
                                 dtype=dtype)
        return da.map_blocks(
            task, X, chunks=(X.chunks[0], (self._n_features_out,)), dtype=dtype,
            meta=meta_from_array(X, ndim=2, dtype=dtype), token=f"scatflow-{cls_name.lower()}")

    # -- feature names ---------------------------------------------------------------------
    def get_feature_names_out(self, input_features=None):
        """One readable, unique name per output feature, from the scattering path list."""
        check_is_fitted(self)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(f"input_features should have length equal to number of "
                                 f"features ({self.n_features_in_}), got "
                                 f"{len(input_features)}")
            names_in = getattr(self, "feature_names_in_", None)
            if names_in is not None and not np.array_equal(names_in, input_features):
                raise ValueError("input_features is not equal to feature_names_in_")
        core = self.scattering_.core
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
        return np.asarray([p + s for p in path_names for s in suffixes], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
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
    """`cls.__init__` with the NumPy frontend's parameters (`shape=None`, no `out_type`) as its
    signature, storing each argument untouched."""
    P = inspect.Parameter
    parameters = [p.replace(default=None) if p.name == "shape" else p
                  for p in transform.parameters() if p.name != "out_type"]
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
