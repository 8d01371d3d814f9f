"""What every frontend shares: parameter checks, the backend choice, input checks, batch
reshaping, filter conversion and the three output formats, all read from the core's paths."""

import inspect
import math
import numbers

import numpy as np

from ..core.batches import map_batches, map_batches_into
from ..core.masking import masked_scattering
from ..core.padding import PADDING_MODES
from ..core.paths import count_by_order, meta_from_paths
from ..dispatch import type_name
from ..errors import BackendError, ParameterTypeError, ShapeError

OUT_TYPES = ("array", "list", "dict")
NAN_POLICIES = ("propagate", "mask")
CANNOT_STACK = ("Cannot convert to out_type='array' with T=0 (no averaging: coefficients of "
                "different lengths, which one array cannot stack). Please set out_type to "
                "'dict' or 'list', or T to None, an int >= 1 or 'global'")
UNAVERAGED_ARRAY = ("out_type='array' cannot hold average=False's unaveraged maps (the "
                    "moduli U1, U2, one map per path, each at its own resolution): pass "
                    "out_type='list' or 'dict' with average=False. The Keras layers, "
                    "scikit-learn's transform, scatflow.dask, the xarray accessor and workflows "
                    "return one array, so they take only average=True: for the maps use a "
                    "frontend (scatflow.numpy, torch, tensorflow, jax) with out_type='list' or "
                    "'dict'")
_NUMBER_WORDS = {2: "two", 3: "three"}


# -- parameter checks (used by the per-transform bases before anything is built) --------------
# Kymatio's code passes NumPy scalars and 0-d arrays (`J = np.load(...)["J"]`), and raises
# ValueError where scatflow raises TypeError: a wrong type is a ParameterTypeError, both.
def scalar(value):
    """A 0-d NumPy array as its NumPy scalar; anything else as it is."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def check_int(name, value, minimum=None, maximum=None):
    """Return `value` (an int, NumPy integer or 0-d integer array) as an int, or raise naming
    `name` and the allowed range."""
    value = scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ParameterTypeError(f"{name} must be an integer; got {value!r} "
                                 f"({type(value).__name__})")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is not None:
            bounds = f"an integer in [{minimum}, {maximum}]"
        else:
            bounds = "a nonnegative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {bounds}; got {value}")
    return value


def check_bool(name, value):
    """Return `value` (a bool, NumPy bool or 0-d bool array) as a bool, or raise naming `name`."""
    value = scalar(value)
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_real(name, value, positive=False):
    """Return `value` (a real number, NumPy real or 0-d real array) as a finite float, or raise
    naming `name`."""
    value = scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(f"{name} must be a real number; got {value!r} "
                                 f"({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        kind = "a finite number > 0" if positive else "a finite number"
        raise ValueError(f"{name} must be {kind}; got {value}")
    return value


def check_average(average, out_type):
    """`average` (2D, 3D) as a bool; False (the unaveraged maps) only with out_type 'list' or
    'dict'."""
    average = check_bool("average", average)
    if not average and out_type == "array":
        raise ValueError(UNAVERAGED_ARRAY)
    return average


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return value


def check_nan_policy(nan_policy, min_valid=0.5, refusal=None):
    """Check `nan_policy` ("propagate": a NaN spreads through the FFTs to its whole signal, as
    in Kymatio; "mask": NaN samples are missing data, `scatflow.core.masking`) and `min_valid`
    (the least valid weight W, in (0, 1], under which a masked coefficient is NaN). `refusal`:
    why this transform cannot mask, where it cannot."""
    check_choice("nan_policy", nan_policy, NAN_POLICIES)
    min_valid = check_real("min_valid", min_valid)
    if not 0 < min_valid <= 1:
        raise ValueError(f"min_valid must be in (0, 1] (the least fraction of valid low-pass "
                         f"weight a masked coefficient needs); got {min_valid}")
    if nan_policy == "mask" and refusal:
        raise ValueError(f"nan_policy='mask' is not available here: {refusal}; use "
                         f"nan_policy='propagate'")


def check_padding_mode(value, axes=1):
    """The boundary condition of each of `axes` signal axes (`scatflow.core.padding`), as a
    tuple: one of PADDING_MODES, or (with `axes` > 1) a tuple or list of one per axis."""
    allowed = f"one of {list(PADDING_MODES)}"
    if axes > 1:
        allowed += f", or a tuple of {axes} of them (one per axis)"
        if isinstance(value, (tuple, list)):
            if len(value) != axes or not all(isinstance(v, str) and v in PADDING_MODES
                                              for v in value):
                raise ValueError(f"padding_mode must be {allowed}; got {value!r}")
            return tuple(value)
    if not isinstance(value, str) or value not in PADDING_MODES:
        error = ValueError if isinstance(value, (str, tuple, list)) else ParameterTypeError
        raise error(f"padding_mode must be {allowed}; got {value!r}")
    return (value,) * axes


def check_shape(value, ndim, name="shape"):
    """Return the signal shape as a tuple of `ndim` positive ints (an int is accepted in 1D)."""
    if ndim == 1 and isinstance(scalar(value), numbers.Integral) and not isinstance(
            scalar(value), (bool, np.bool_)):
        value = (scalar(value),)
    if not isinstance(value, (tuple, list)) or len(value) != ndim:
        expected = ("an integer or a 1-tuple (a tuple with exactly one element)" if ndim == 1
                    else f"a tuple of {ndim} integers")
        error = ValueError if isinstance(value, (tuple, list)) else ParameterTypeError
        raise error(f"{name} must be {expected}; got {value!r}")
    return tuple(check_int(f"{name}[{i}]", n, minimum=1) for i, n in enumerate(value))


# -- the frontend -----------------------------------------------------------------------------
class ScatteringBase:
    """Framework-independent frontend. A per-transform base has Kymatio's constructor
    signature, a classmethod `check_parameters(*, shape=None, out_type="array", **params)` (every
    check of its parameters, before anything is built; those that need the signal's shape only
    where `shape` is given, as a Keras layer or scikit-learn transformer calls it before it
    knows the shape; returns the core's keyword arguments, or None without a shape) and its
    `core_class`; its `__init__` calls `_setup`. A framework frontend names its backends and
    may override the hooks (`_build_filters`, `_filters_for`, `_backend_for`).

    Kymatio's contract: each constructor argument is an attribute (as given, or normalised as
    Kymatio normalises it: `kymatio_attributes`); assigning one re-derives the transform
    (`__setattr__`); errors are of Kymatio's types too (`scatflow.errors`)."""

    default_backend = "numpy"
    frontend_name = "numpy"
    core_class = None
    normalised_attributes = ()  # the names kymatio_attributes gives
    array_name = "Array"  # the input, in messages ("NumPy array", "Tensor"), and ...
    array_noun = "array"  # ... after "Padded" (2D pre_pad=True)
    cannot_stack = CANNOT_STACK  # why out_type='array' is refused where paths differ in shape

    def _setup(self, **params):
        """Check the constructor arguments, pick the backend, build the core and its filters;
        then store the arguments (`parameters()`) and set an attribute for each: the value as
        given, or Kymatio's normalised value where it has one (`kymatio_attributes`: 1D `Q`
        is `(Q1, Q2)`). Where a check fails nothing is stored. Also run when a parameter is
        assigned after construction (`__setattr__`)."""
        core_kwargs = self.check_parameters(**params)
        backend = self._resolve_backend(params["backend"])
        core = self.core_class(**core_kwargs)
        attributes = dict(params, **self.kymatio_attributes(**params))
        for name, value in attributes.items():
            super().__setattr__(name, value)
        super().__setattr__("_arguments", dict(params))
        self.core = core
        self._backend = backend
        self._converted_filters = {}
        self._build_filters()

    def __setattr__(self, name, value):
        """A constructor parameter assigned after construction (`S.max_order = 1`, as
        Kymatio's users do) is honoured: the transform is re-derived as if made with the new
        value, which is checked first (a bad value raises and leaves the object as it was).
        `out_type` changes only the output format: it is checked at the next call, as in
        Kymatio."""
        arguments = self.__dict__.get("_arguments")
        if arguments is None or name not in arguments:
            super().__setattr__(name, value)
        elif name == "out_type":
            arguments["out_type"] = value
            super().__setattr__(name, value)
        elif not _same(value, arguments[name]):
            self._setup(**dict(arguments, **{name: value}))

    def parameters(self):
        """The constructor arguments as given (or as assigned since): `type(S)(**S.parameters())`
        makes the same transform."""
        if "_arguments" in self.__dict__:
            return dict(self._arguments)
        return {name: getattr(self, name) for name in self._parameter_names()}

    @classmethod
    def kymatio_attributes(cls, **params):
        """The attributes whose value Kymatio normalises (`normalised_attributes`), for these
        parameters, e.g. {"Q": (8, 1), ...} for 1D `Q=8`; all other parameters read as given."""
        return {}

    @classmethod
    def shape_for_input(cls, signal_shape, **params):
        """The `shape` parameter for inputs whose trailing dims are `signal_shape` (they differ
        where the input comes padded already: 2D `pre_pad=True`)."""
        return tuple(signal_shape)

    def _resolve_backend(self, backend):
        """The backend object for `backend`. "auto" or None: the frontend's only backend, or
        None where there are several and each input picks one (`backend_name_for`). Names
        Kymatio accepts for this frontend (`backend_aliases`) stand for scatflow's backends."""
        from ..backends import get_backend

        allowed = self.allowed_backends()
        listed = f"{allowed + ['auto', None]}"
        aliases = self.backend_aliases()
        if aliases:
            listed += f" (or Kymatio's {', '.join(map(repr, aliases))})"
        if backend is None or backend == "auto":
            return get_backend(allowed[0]) if len(allowed) == 1 else None
        if isinstance(backend, str):
            if backend in aliases:
                return get_backend(aliases[backend])
            if backend not in allowed:
                raise BackendError(f"The backend {backend!r} can not be called from the "
                                   f"{self.frontend_name} frontend: backend must be one of "
                                   f"{listed}; got {backend!r}")
            return get_backend(backend)
        name = getattr(backend, "name", None)
        if name in allowed:
            return backend
        raise BackendError(f"The backend {name!r} is not supported by the {self.frontend_name} "
                           f"frontend: backend must be one of {listed} or a backend object of "
                           f"one of them; got {backend!r}")

    @classmethod
    def backend_aliases(cls):
        """Kymatio's backend names this frontend accepts, each mapped to scatflow's backend."""
        return {}

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
        arguments = self.parameters()
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in arguments.items())})"

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
        if self.out_type == "array" and flat.shape[0] and backend.writes_in_place(flat, flat):
            filters = self._filters_for(backend, flat)
            return backend.reshape(
                self._array_in_place(lambda b, chunk: self._run_core(chunk, b, filters), flat,
                                     backend),
                batch_shape + tuple(self.core.array_shape))
        return self._format(self._coefficients(flat, backend), batch_shape, backend)

    def _coefficients(self, flat, backend):
        """The per-path coefficients of a `(batch, *input_shape)` array, batch first."""
        filters = self._filters_for(backend, flat)
        if flat.shape[0] == 0:  # an empty batch: shapes from one zero signal, no values
            one = backend.asarray(np.zeros((1,) + tuple(self.core.input_shape)),
                                  dtype=compute_dtype(backend.input_dtype(flat)),
                                  device=backend.device(flat))
            return [c[:0] for c in self._run_core(one, backend, filters)]

        def run(worker_backend, chunk):
            return self._run_core(chunk, worker_backend, filters)

        return map_batches(backend, run, flat, math.prod(self.core.padded_shape))

    __call__ = scattering

    def _run_core(self, x, backend, filters):
        """The core's per-path coefficients of `x` (B, *input_shape), its NaN samples taken as
        missing with `nan_policy="mask"`."""
        if self.nan_policy == "mask":
            return masked_scattering(self.core, x, backend, filters, self.min_valid)
        return self.core(x, backend, filters)

    def _check_input(self, x, backend):
        """Validate rank, trailing shape and dtype; return the array in the dtype to compute in.
        `out_type` is public and may have been changed since construction: checked again here."""
        check_choice("out_type", self.out_type, OUT_TYPES)
        if self.out_type == "array" and self.core.array_shape is None:
            raise ValueError(self.cannot_stack)
        if not backend.is_array(x) and isinstance(x, (list, tuple)):
            x = backend.asarray(np.asarray(x))
        if not backend.is_array(x):
            raise TypeError(f"x must be a {backend.name} array for backend {backend.name!r}; "
                            f"got {type_name(x)} (the input should be a {backend.name} array)")
        self._check_shape(x.shape)
        return backend.asarray(x, dtype=compute_dtype(backend.input_dtype(x)))

    def _check_shape(self, shape):
        """A ShapeError unless `shape` is `(*batch, *core.input_shape)`; the messages say what
        Kymatio's say (at least one axis / two dimensions, ... must be of spatial size)."""
        expected = tuple(self.core.input_shape)
        n = len(expected)
        wanted = f"x must have shape (..., {', '.join(map(str, expected))})"
        if len(shape) < n:
            dims = "one axis" if n == 1 else f"{_NUMBER_WORDS.get(n, n)} dimensions"
            raise ShapeError(f"{wanted}: the input should have at least {dims}; got shape "
                             f"{tuple(shape)}")
        if tuple(shape[len(shape) - n:]) != expected:
            padded = tuple(self.core.input_shape) != tuple(self.core.shape)
            what = f"Padded {self.array_noun}" if padded else self.array_name
            size = f"of length {expected[0]}" if n == 1 else f"of spatial size {expected}"
            raise ShapeError(f"{wanted}: {what} must be {size}; got {tuple(shape)}")

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
        return map_batches_into(backend, run, flat, out, math.prod(self.core.padded_shape))

    def _format(self, coefficients, batch_shape, backend):
        paths = self.core.paths
        shaped = [backend.reshape(c, batch_shape + tuple(c.shape[1:])) for c in coefficients]
        if self.out_type == "dict":
            return {p.key: c for p, c in zip(paths, shaped)}
        if self.out_type == "list":
            return [dict(coef=c, order=p.order, **p.fields) for p, c in zip(paths, shaped)]
        stacked = backend.stack(coefficients, axis=1)
        return backend.reshape(stacked, batch_shape + tuple(self.core.array_shape))


def _same(a, b):
    """Whether two parameter values are the same (so that assigning it again rebuilds nothing)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.all(a == b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


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
