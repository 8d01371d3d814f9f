"""scikit-learn frontend: Scattering1D, Scattering2D and HarmonicScattering3D as transformers.

Each transformer takes the NumPy frontend's parameters (Kymatio's signature, without `out_type`:
the output is always the 'array' output flattened per sample) and stores them untouched, so
`clone`, `get_params`, `set_params` and grid searches over them are safe. `fit` builds the NumPy
frontend (its parameter checks run there; the filters come from a cache), `transform` maps
`X` of shape `(n_samples, prod(shape))` (each row a signal of shape `shape`) to
`(n_samples, n_features_out)`. A dask array in gives a lazy dask array out, one `map_blocks`
layer over row chunks, with the filters built in the tasks (never put into the graph).

Feature names come from the frontend's path list: `order1_n3_t5` (1D: filter indices `n`, time
index `t`), `order2_j0_theta3_j1_theta0_y1_x2` (2D: scale and angle per order, position y, x),
`order2_l1_j0_j2_p1` (3D: degree `l`, scales `j`, integral power index `p`). The position part
is left out where there is only one position per path.
"""

import functools
import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

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


class _ScatteringTransformer(TransformerMixin, BaseEstimator):
    """What the three transformers share; each subclass has its own explicit `__init__`.
    `transform` is defined here, on a TransformerMixin subclass, so that `set_output` wraps it
    (scikit-learn wraps only the methods a TransformerMixin subclass defines itself)."""

    _position_names = ()

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
        scattering = getattr(numpy_frontend, type(self).__name__)(**params, out_type="array")
        input_shape = tuple(scattering.core.input_shape)
        n_signal = math.prod(input_shape)
        if self.n_features_in_ != n_signal:
            raise ValueError(
                f"X has n_features={self.n_features_in_}, but {type(self).__name__} with "
                f"shape={self.shape!r} expects n_features=prod({input_shape})={n_signal} "
                f"(each row is one signal, reshaped to {input_shape})")
        self.scattering_ = scattering
        # what transform computes with: these parameters, even if set_params changes them later
        self._frontend_key = (type(self).__name__, tuple(
            (k, numpy_frontend.freeze(v)) for k, v in dict(params, out_type="array").items()))
        self._n_features_out = math.prod(scattering.core.array_shape)
        return self

    def _scattering_params(self):
        """The NumPy frontend's parameters (called in `fit`, after `n_features_in_` is set)."""
        return self.get_params(deep=False)

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
    def _path_name(self, path):
        raise NotImplementedError

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
        path_names = [self._path_name(p) for p in core.paths]
        # the leading axes of `array_shape` index the paths (in path order), the trailing ones
        # (one per position name) the positions along each path
        positions = tuple(core.array_shape[-len(self._position_names):])
        if math.prod(positions) == 1:
            suffixes = [""]
        else:
            suffixes = ["".join(f"_{a}{i}" for a, i in zip(self._position_names, index))
                        for index in np.ndindex(*positions)]
        return np.asarray([p + s for p in path_names for s in suffixes], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class Scattering1D(_ScatteringTransformer):
    """1D Morlet scattering as a scikit-learn transformer (Kymatio's
    `kymatio.sklearn.Scattering1D`): rows of `N = shape` samples in, the `(C, N_out)`
    coefficients of each row flattened out. Parameters as `scatflow.numpy.Scattering1D`,
    except that `shape=None` (the default here) takes the signal length from `fit`'s data:
    the number of features. `T=0` (no averaging) is refused, the coefficients having
    different lengths."""

    _position_names = ("t",)

    def __init__(self, J, shape=None, Q=1, T=None, max_order=2, average=None, oversampling=0,
                 backend=None, *, stride=None, kymatio_compat=None):
        self.J = J
        self.shape = shape
        self.Q = Q
        self.T = T
        self.max_order = max_order
        self.average = average
        self.oversampling = oversampling
        self.backend = backend
        self.stride = stride
        self.kymatio_compat = kymatio_compat

    def fit(self, X, y=None):
        T = self.T
        if self.average is False or (isinstance(T, numbers.Integral)
                                     and not isinstance(T, bool) and T == 0):
            raise ValueError("T=0 (average=False: no averaging) gives coefficients of "
                             "different lengths, which a transformer cannot stack; use T=None, "
                             "an int >= 1 or T='global'")
        return super().fit(X, y)

    def _scattering_params(self):
        params = self.get_params(deep=False)
        if params["shape"] is None:
            if self.n_features_in_ < 2:
                raise ValueError(f"X has n_features={self.n_features_in_}; Scattering1D needs "
                                 f"signals of at least 2 samples (shape=None takes the signal "
                                 f"length from the number of features)")
            params["shape"] = self.n_features_in_
        return params

    def _path_name(self, path):
        return f"order{path.order}" + "".join(f"_n{n}" for n in path.fields["n"])


class Scattering2D(_ScatteringTransformer):
    """2D Morlet scattering as a scikit-learn transformer (Kymatio's
    `kymatio.sklearn.Scattering2D`): rows of `M * N` pixels (`shape=(M, N)`, C order) in, the
    `(C, M // 2**J, N // 2**J)` coefficients of each image flattened out. Parameters as
    `scatflow.numpy.Scattering2D`."""

    _position_names = ("y", "x")

    def __init__(self, J, shape, L=8, max_order=2, pre_pad=False, backend=None, *,
                 filter_levels="kymatio"):
        self.J = J
        self.shape = shape
        self.L = L
        self.max_order = max_order
        self.pre_pad = pre_pad
        self.backend = backend
        self.filter_levels = filter_levels

    def _path_name(self, path):
        f = path.fields
        return f"order{path.order}" + "".join(
            f"_j{j}_theta{t}" for j, t in zip(f["j"], f["theta"]))


class HarmonicScattering3D(_ScatteringTransformer):
    """3D solid-harmonic scattering as a scikit-learn transformer (Kymatio's
    `kymatio.sklearn.HarmonicScattering3D`): rows of `M * N * O` voxels in, the
    `(K, L + 1, len(integral_powers))` invariants of each volume flattened out. Parameters as
    `scatflow.numpy.HarmonicScattering3D`."""

    _position_names = ("p",)

    def __init__(self, J, shape, L=3, sigma_0=1, max_order=2, rotation_covariant=True,
                 method="integral", points=None, integral_powers=(0.5, 1.0, 2.0), backend=None):
        self.J = J
        self.shape = shape
        self.L = L
        self.sigma_0 = sigma_0
        self.max_order = max_order
        self.rotation_covariant = rotation_covariant
        self.method = method
        self.points = points
        self.integral_powers = integral_powers
        self.backend = backend

    def _path_name(self, path):
        f = path.fields
        return f"order{path.order}_l{f['l']}" + "".join(f"_j{j}" for j in f["j"])


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D"]
