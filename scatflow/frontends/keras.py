"""Keras 3 frontend: `keras.layers.Layer`s for 1D, 2D and 3D scattering.

A layer takes the arguments of the matching scatflow frontend except `shape` (read in `build`
from the input's trailing dims: 1 in 1D, 2 in 2D, 3 in 3D; leading dims are batch dims),
`backend` and `out_type` (always one array, so 1D `T=0` is refused). Arguments that do not
depend on the shape are checked in `__init__`, the rest in `build`.

There is no second implementation on Keras ops: `build` makes the per-transform frontend object
for the input's shape (the one core and path list), and `call` runs that core on the scatflow
backend of the active Keras backend — "tensorflow", "torch" or "jax"; other Keras backends
(numpy, openvino) are refused when a layer is made. This module imports only `keras`; the
array library is the one Keras already imported.

The filters are constants made in `build` from the cached NumPy bank (TensorFlow: complex
constants; torch: tensors on the input's device; JAX: concrete arrays that Keras's jitted steps
capture), in the layer's compute dtype (float32 by default; float64 with `dtype="float64"`, on
JAX only with `jax_enable_x64`; float16/bfloat16 policies compute in float32). They are
not weights: nothing is trained or saved; a `.keras` file holds the configuration only and the
filters are rebuilt on load. `compute_output_shape` is read from the core (`core.array_shape`).
"""

import inspect

import keras
import numpy as np

from .. import registry
from ..errors import ShapeError
from .base import compute_dtype

SUPPORTED_BACKENDS = ("tensorflow", "torch", "jax")


def active_backend():
    """The active Keras backend's name, if scatflow runs on it; else a RuntimeError naming the
    supported ones."""
    name = keras.backend.backend()
    if name not in SUPPORTED_BACKENDS:
        raise RuntimeError(f"scatflow.keras layers run on the Keras backends "
                           f"{', '.join(map(repr, SUPPORTED_BACKENDS))}; the active Keras "
                           f"backend is {name!r}. Set KERAS_BACKEND to one of "
                           f"{', '.join(SUPPORTED_BACKENDS)} before keras is first imported.")
    return name


class KerasFrontend:
    """Mixin for the frontend object a layer runs (placed first): its backend is the active
    Keras backend's, and the filters are converted by the layer's `build`, not at construction
    (the object is also made for shape queries only)."""

    frontend_name = "keras"
    default_backend = "tensorflow"

    @classmethod
    def allowed_backends(cls):
        return list(SUPPORTED_BACKENDS)

    def _build_filters(self):
        pass


def _plain(value):
    """A config value as plain Python (lists for tuples, tracked lists and arrays; Python
    scalars for NumPy scalars and 0-d arrays)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class ScatteringLayer(keras.layers.Layer):
    """What every layer shares: its constructor, shape inference, the frontend object, the
    filters, the output shape and the config. A layer is declared with its registry entry,
    `class Scattering1D(ScatteringLayer, transform="scattering1d")`: its arguments are those of
    the transform's frontend base except `shape`, `backend` and `out_type` (plus Keras's own
    keywords), stored as given and checked by the base's `check_parameters` before anything is
    built."""

    transform = None  # the class the layer runs: KerasFrontend + the transform's base
    signal_ndim = None
    parameter_names = ()

    def __init_subclass__(cls, transform=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if transform is None:
            return
        entry = registry.get(transform)
        base = entry.load("base")
        cls.transform = type(f"_{entry.class_name}Transform", (KerasFrontend, base),
                             {"__module__": __name__})
        cls.signal_ndim = entry.ndim
        parameters = [p for p in entry.parameters() if p.name not in ("shape", "backend",
                                                                      "out_type")]
        cls.parameter_names = tuple(p.name for p in parameters)
        cls.__init__ = _layer_init(cls, parameters)
        keras.saving.register_keras_serializable(package="scatflow")(cls)

    def _init_layer(self, params, layer_kwargs):
        self.transform.check_parameters(shape=None, out_type="array", **params)
        backend = active_backend()
        keras.layers.Layer.__init__(self, **layer_kwargs)
        self._backend_name = backend
        for name, value in params.items():
            setattr(self, name, value)
        self._scattering = None  # set last: parameters assigned from now on are checked

    def __setattr__(self, name, value):
        """A parameter assigned after construction is checked at once, and refused once the
        layer is built: the models made with it hold its output shape."""
        if name in self.parameter_names and "_scattering" in self.__dict__:
            if self.built:
                raise AttributeError(
                    f"{self.name}: {name} cannot change once the layer is built (the models made "
                    f"with it hold its output shape); make a new layer: "
                    f"{type(self).__name__}(**dict(layer.parameters(), {name}=...))")
            self.transform.check_parameters(shape=None, out_type="array",
                                            **dict(self.parameters(), **{name: value}))
        super().__setattr__(name, value)

    @classmethod
    def from_config(cls, config):
        """The layer `get_config()` describes, also after a JSON round trip (JSON has no
        tuples: a list given for a parameter is the tuple it was, e.g. 1D `Q`)."""
        config = {name: tuple(value) if name in cls.parameter_names and isinstance(value, list)
                  else value for name, value in config.items()}
        return super().from_config(config)

    # -- the frontend object -------------------------------------------------------------------
    def parameters(self):
        """The constructor arguments, as given."""
        return {name: getattr(self, name) for name in self.parameter_names}

    def _signal_shape(self, input_shape):
        input_shape = tuple(input_shape)
        n = self.signal_ndim
        if len(input_shape) < n:
            raise ShapeError(f"{self.name} needs inputs of shape (*batch, {', '.join('n' * n)}) "
                             f"(the last {n} dims are the signal); got input shape {input_shape}")
        shape = input_shape[len(input_shape) - n:]
        if any(d is None for d in shape):
            raise ShapeError(f"{self.name} needs the last {n} input dims known (they set the "
                             f"filters); got input shape {input_shape}")
        return tuple(int(d) for d in shape)

    def _transform_for(self, input_shape):
        """The frontend object for inputs of `input_shape` (the built one where it matches)."""
        shape = self._signal_shape(input_shape)
        if self._scattering is not None and tuple(self._scattering.core.input_shape) == shape:
            return self._scattering
        try:
            params = self.parameters()
            return self.transform(shape=self.transform.shape_for_input(shape, **params),
                                  backend=self._backend_name, out_type="array", **params)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{self.name} on inputs of shape {tuple(input_shape)} (signal "
                              f"shape {shape}): {error}") from None

    @property
    def scattering(self):
        """The frontend object the layer runs (after `build`): `meta()`, `output_size()`,
        `core.paths`, ..."""
        if self._scattering is None:
            raise ValueError(f"{self.name} is not built yet: call it on an input or build it")
        return self._scattering

    def build(self, input_shape):
        self._scattering = self._transform_for(input_shape)
        # the filters, converted once as constants on Keras's device in the compute dtype
        dtype = compute_dtype(keras.backend.standardize_dtype(self.compute_dtype)).name
        probe = keras.ops.zeros((1,) + tuple(self._scattering.core.input_shape), dtype=dtype)
        self._scattering._filters_for(self._scattering._backend, probe)
        self._run = _compiled_on_jax(self._scattering)

    def call(self, inputs):
        S = self.scattering
        n = self.signal_ndim
        signal_shape = tuple(S.core.input_shape)
        if tuple(inputs.shape[len(inputs.shape) - n:]) != signal_shape:
            raise ShapeError(f"{self.name} was built for inputs of shape (..., "
                             f"{', '.join(map(str, signal_shape))}); got {tuple(inputs.shape)}")
        batch_shape = tuple(keras.ops.shape(inputs)[: len(inputs.shape) - n])
        flat = keras.ops.reshape(inputs, (-1,) + signal_shape)
        out = self._run(flat)
        return keras.ops.reshape(out, batch_shape + tuple(S.core.array_shape))

    # -- shapes and config ---------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        transform = self._transform_for(input_shape)
        return input_shape[: len(input_shape) - self.signal_ndim] + tuple(transform.core.array_shape)

    def compute_output_spec(self, inputs):
        dtype = compute_dtype(keras.backend.standardize_dtype(self.compute_dtype)).name
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.update({name: _plain(value) for name, value in self.parameters().items()})
        return config

    def meta(self):
        """Per-coefficient metadata of the built layer (see `scatflow.numpy`'s `meta()`)."""
        return self.scattering.meta()

    def output_size(self, detail=False):
        """Number of scattering paths of the built layer (the output's path axis)."""
        return self.scattering.output_size(detail)


def _compiled_on_jax(scattering):
    """`scattering.scattering`, on the JAX backend compiled once per input shape (`jax.jit`:
    eager JAX compiles and dispatches each of its many small operations; inside Keras's own
    jitted steps the inner jit is inlined). On the other backends as it is."""
    if keras.backend.backend() != "jax":
        return scattering.scattering
    import jax

    return jax.jit(scattering.scattering)


def _layer_init(cls, parameters):
    """`cls.__init__` with the transform's parameters and Keras's keywords as its signature."""
    P = inspect.Parameter
    signature = inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)] + parameters + [P("kwargs", P.VAR_KEYWORD)])

    def __init__(self, *args, **kwargs):
        arguments = signature.bind(self, *args, **kwargs)
        arguments.apply_defaults()
        params = dict(arguments.arguments)
        del params["self"]
        layer_kwargs = params.pop("kwargs")
        self._init_layer(params, layer_kwargs)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


class Scattering1D(ScatteringLayer, transform="scattering1d"):
    """1D Morlet scattering layer: inputs `(*batch, N)`, outputs `(*batch, C, N_out)` (Kymatio's
    `kymatio.keras.Scattering1D`, with every argument of `scatflow.numpy.Scattering1D` except
    `shape`, `backend` and `out_type`; `T=0` is refused: one array out)."""


class Scattering2D(ScatteringLayer, transform="scattering2d"):
    """2D Morlet scattering layer: inputs `(*batch, M, N)` (already padded with
    `pre_pad=True`), outputs `(*batch, C, M // 2**J, N // 2**J)` (Kymatio's
    `kymatio.keras.Scattering2D`)."""


class HarmonicScattering3D(ScatteringLayer, transform="harmonic_scattering3d"):
    """3D solid-harmonic scattering layer: inputs `(*batch, M, N, O)`, outputs `(*batch, K,
    L+1, P)` (Kymatio has no Keras version; the arguments of
    `scatflow.numpy.HarmonicScattering3D`)."""


class TimeFrequencyScattering(ScatteringLayer, transform="time_frequency_scattering"):
    """Joint time-frequency scattering layer: inputs `(*batch, N)`, outputs `(*batch, C,
    N_out)` (`format="time"`) or `(*batch, C, rows, N_out)` (`format="joint"`) (Kymatio has no
    Keras version, its #1053; the arguments of `scatflow.numpy.TimeFrequencyScattering`)."""


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
