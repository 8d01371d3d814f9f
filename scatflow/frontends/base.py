"""What every frontend shares: parameter checks, the backend choice, input checks, batch
reshaping, filter conversion and the three output formats, all read from the core's paths."""

import inspect
import math
import numbers

import numpy as np

from ..core.paths import count_by_order, meta_from_paths

OUT_TYPES = ("array", "list", "dict")


# -- parameter checks (used by the per-transform bases before anything is built) --------------
def check_int(name, value, minimum=None, maximum=None):
    """Return `value` as an int, or raise naming `name` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bounds}; got {value}")
    return value


def check_real(name, value, positive=False):
    """Return `value` as a finite float, or raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        kind = "a finite number > 0" if positive else "a finite number"
        raise ValueError(f"{name} must be {kind}; got {value}")
    return value


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return value


def check_shape(value, ndim, name="shape"):
    """Return the signal shape as a tuple of `ndim` positive ints (an int is accepted in 1D)."""
    if ndim == 1 and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) != ndim:
        expected = "an int or a 1-tuple" if ndim == 1 else f"a tuple of {ndim} ints"
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return tuple(check_int(f"{name}[{i}]", n, minimum=1) for i, n in enumerate(value))


# -- the frontend -----------------------------------------------------------------------------
class ScatteringBase:
    """Framework-independent frontend. A per-transform base has Kymatio's constructor
    signature, a classmethod `check_parameters(*, shape=None, out_type="array", **params)` (every
    check of its parameters, before anything is built; those that need the signal's shape only
    where `shape` is given, as a Keras layer or scikit-learn transformer calls it before it
    knows the shape; returns the core's keyword arguments, or None without a shape) and its
    `core_class`; its `__init__` calls `_setup`. A framework frontend names its backends and
    may override the hooks (`_build_filters`, `_filters_for`, `_backend_for`)."""

    default_backend = "numpy"
    frontend_name = "numpy"
    core_class = None

    def _setup(self, **params):
        """Store the constructor arguments as given (scikit-learn style), check them all, then
        pick the backend and build the core and its filters."""
        for name, value in params.items():
            setattr(self, name, value)
        core_kwargs = self.check_parameters(**params)
        self._init_output(params["out_type"], params["backend"])
        self.core = self.core_class(**core_kwargs)
        self._build_filters()

    @classmethod
    def shape_for_input(cls, signal_shape, **params):
        """The `shape` parameter for inputs whose trailing dims are `signal_shape` (they differ
        where the input comes padded already: 2D `pre_pad=True`)."""
        return tuple(signal_shape)

    def _init_output(self, out_type, backend):
        self.out_type = check_choice("out_type", out_type, OUT_TYPES)
        self.backend = backend
        self._backend = self._resolve_backend(backend)
        self._converted_filters = {}

    def _resolve_backend(self, backend):
        """The backend object for `backend`. "auto" or None: the frontend's only backend, or
        None where there are several and each input picks one (`backend_name_for`)."""
        from ..backends import get_backend

        allowed = self.allowed_backends()
        if backend is None or backend == "auto":
            return get_backend(allowed[0]) if len(allowed) == 1 else None
        if isinstance(backend, str):
            if backend not in allowed:
                raise ValueError(f"backend must be one of {allowed + ['auto', None]} for the "
                                 f"{self.frontend_name} frontend; got {backend!r}")
            return get_backend(backend)
        if getattr(backend, "name", None) in allowed:
            return backend
        raise ValueError(f"backend must be one of {allowed + ['auto', None]} or a backend "
                         f"object of one of them for the {self.frontend_name} frontend; got "
                         f"{backend!r}")

    @classmethod
    def allowed_backends(cls):
        return [cls.default_backend]

    def _backend_for(self, x):
        """The backend that runs on `x`: the one chosen at construction, else the one for x's
        array type (`backend_name_for`)."""
        if self._backend is not None:
            return self._backend
        from ..backends import get_backend

        return get_backend(self.backend_name_for(x))

    @classmethod
    def backend_name_for(cls, x):
        return cls.default_backend

    def _build_filters(self):
        """Build (or fetch from the cache) the NumPy filter bank at construction, and hold it
        until its first conversion (`_filters_for`): some banks are cached only while held
        (3D), and once converted to another precision the bank itself is not needed."""
        self._held_filters = self.core.filters()

    @classmethod
    def _parameter_names(cls):
        """The constructor's parameter names, from the first __init__ in the MRO that lists them
        (framework mixins forward *args/**kwargs)."""
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            parameters = inspect.signature(init).parameters.values()
            if not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
                return [p.name for p in parameters if p.name != "self"]
        return []

    def __repr__(self):
        names = self._parameter_names()
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

    # -- metadata --------------------------------------------------------------------------
    def meta(self):
        """Per-coefficient metadata (Kymatio's 1D `meta()`, here for every transform)."""
        return meta_from_paths(self.core.paths, self.max_order)

    def output_size(self, detail=False):
        """Number of scattering paths; with `detail=True`, the count of each order present."""
        if detail:
            orders = sorted({p.order for p in self.core.paths})
            return count_by_order(self.core.paths, orders)
        return len(self.core.paths)

    # -- running ---------------------------------------------------------------------------
    def scattering(self, x):
        """Scattering coefficients of `x` with shape `(*batch, *shape)`."""
        backend = self._backend_for(x)
        x = self._check_input(x, backend)
        batch_shape = tuple(x.shape[: x.ndim - len(self.core.input_shape)])
        flat = backend.reshape(x, (-1,) + tuple(self.core.input_shape))
        filters = self._filters_for(backend, flat)
        if flat.shape[0] == 0:  # an empty batch: shapes from one zero signal, no values
            one = backend.asarray(np.zeros((1,) + tuple(self.core.input_shape)),
                                  dtype=compute_dtype(backend.input_dtype(flat)),
                                  device=backend.device(flat))
            return self._format([c[:0] for c in self.core(one, backend, filters)], batch_shape, backend)

        def run(worker_backend, chunk):
            return self.core(chunk, worker_backend, filters)

        if self.out_type == "array" and backend.writes_in_place(flat, flat):
            return backend.reshape(self._array_in_place(run, flat, backend),
                                   batch_shape + tuple(self.core.array_shape))
        padded_size = math.prod(self.core.padded_shape)
        return self._format(backend.map_batches(run, flat, padded_size), batch_shape, backend)

    __call__ = scattering

    def _check_input(self, x, backend):
        """Validate rank, trailing shape and dtype; return the array in the dtype to compute in.
        `out_type` is public and may have been changed since construction: checked again here."""
        check_choice("out_type", self.out_type, OUT_TYPES)
        if self.out_type == "array" and self.core.array_shape is None:
            raise ValueError("out_type='array' needs coefficients of one length; with T=0 "
                             "use out_type='list' or 'dict'")
        if not backend.is_array(x) and isinstance(x, (list, tuple)):
            x = backend.asarray(np.asarray(x))
        if not backend.is_array(x):
            kind = f"{type(x).__module__}.{type(x).__qualname__}"
            raise TypeError(f"x must be a {backend.name} array for backend {backend.name!r}; "
                            f"got {kind}")
        expected = tuple(self.core.input_shape)
        if x.ndim < len(expected) or tuple(x.shape[x.ndim - len(expected):]) != expected:
            raise ValueError(f"x must have shape (..., {', '.join(map(str, expected))}); "
                             f"got {tuple(x.shape)}")
        return backend.asarray(x, dtype=compute_dtype(backend.input_dtype(x)))

    def _filters_for(self, backend, x):
        """The filter bank as `backend` arrays on x's device in x's precision (float32 /
        complex64 for float32 input, float64 / complex128 otherwise), converted once per
        (backend, dtype, device)."""
        device = backend.device(x)
        key = (backend.name, str(x.dtype), str(device))
        if key not in self._converted_filters:
            single = "float32" in str(x.dtype)
            self._converted_filters[key] = map_arrays(
                self.core.filters(), lambda a: backend.filter_array(a, single, device))
            self._held_filters = None
        return self._converted_filters[key]

    def __getstate__(self):
        """Pickles and deep copies leave out the bank held since construction (it is rebuilt,
        or fetched from the cache, by the first call)."""
        state = self.__dict__.copy()
        state.pop("_held_filters", None)
        return state

    def _array_in_place(self, run, flat, backend):
        """The array output as (batch, paths, size): allocated once and filled slice by slice
        (`map_batches_into`), so that the per-path coefficients, their concatenation over the
        slices and their stack are not all held at once (2D J=3: the output is 3.4x the input).
        Slices are sized by the signals as the core works on them (`core.padded_shape`)."""
        paths = len(self.core.paths)
        size = math.prod(self.core.array_shape) // paths
        out = backend.empty((flat.shape[0], paths, size), like=flat)
        return backend.map_batches_into(run, flat, out, math.prod(self.core.padded_shape))

    def _format(self, coefficients, batch_shape, backend):
        paths = self.core.paths
        shaped = [backend.reshape(c, batch_shape + tuple(c.shape[1:])) for c in coefficients]
        if self.out_type == "dict":
            return {p.key: c for p, c in zip(paths, shaped)}
        if self.out_type == "list":
            return [dict(coef=c, order=p.order, **p.fields) for p, c in zip(paths, shaped)]
        stacked = backend.stack(coefficients, axis=1)
        return backend.reshape(stacked, batch_shape + tuple(self.core.array_shape))


def compute_dtype(dtype):
    """float32 stays float32, float64 stays float64; integers, bools and non-native byte orders
    become float64; float16 and bfloat16 compute in float32; complex input is refused (not
    supported yet). `dtype` is a NumPy dtype or a dtype name ("float32", "bfloat16", ...)."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        return np.dtype(np.float32)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"x must have a real numeric dtype; got {dtype}") from None
    if dtype.kind == "c":
        raise TypeError(f"x must be real; complex input ({dtype}) is not supported")
    if dtype.kind not in "biuf":
        raise TypeError(f"x must have a real numeric dtype; got {dtype}")
    if dtype.kind == "f" and dtype.isnative and dtype.itemsize in (4, 8):
        return dtype
    if dtype.kind == "f" and dtype.itemsize < 4 and dtype.isnative:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def map_arrays(tree, fn):
    """Apply `fn` to every NumPy array in a nested dict/list/tuple, keeping the structure."""
    if isinstance(tree, dict):
        return {k: map_arrays(v, fn) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(map_arrays(v, fn) for v in tree)
    if isinstance(tree, np.ndarray):
        return fn(tree)
    return tree
