"""Keras 3 frontend: `keras.layers.Layer`s for 1D, 2D and 3D scattering.

A layer takes the arguments of the matching scatflow frontend except `shape` (read in `build`
from the input's trailing dims: 1 in 1D, 2 in 2D, 3 in 3D; leading dims are batch dims),
`backend` and `out_type` (always one array, so 1D `T=0` is refused). Arguments that do not
depend on the shape are checked in `__init__`, the rest in `build`.

There is no second implementation on Keras ops: `build` makes the per-transform frontend object
for the input's shape (the one core and path list), and `call` runs that core on the scatflow
backend of the active Keras backend — "tensorflow" or "torch"; other Keras backends (jax,
numpy, openvino) are refused when a layer is made. This module imports only `keras`; the
array library is the one Keras already imported.

The filters are constants made in `build` from the cached NumPy bank (TensorFlow: complex
constants; torch: tensors on the input's device), in the layer's compute dtype (float32 by
default; float64 with `dtype="float64"`; float16/bfloat16 policies compute in float32). They are
not weights: nothing is trained or saved; a `.keras` file holds the configuration only and the
filters are rebuilt on load. `compute_output_shape` is read from the core (`core.array_shape`).
"""

import numbers

import keras
import numpy as np

from .base import check_int, compute_dtype
from .harmonic3d import HarmonicScattering3DBase, check_parameters
from .scattering1d import COMPAT, Scattering1DBase, _check_Q
from .scattering2d import Scattering2DBase, check_filter_levels

SUPPORTED_BACKENDS = ("tensorflow", "torch")


def active_backend():
    """The active Keras backend's name, if scatflow runs on it; else a RuntimeError naming the
    supported ones."""
    name = keras.backend.backend()
    if name not in SUPPORTED_BACKENDS:
        raise RuntimeError(f"scatflow.keras layers run on the Keras backends "
                           f"{' and '.join(map(repr, SUPPORTED_BACKENDS))}; the active Keras "
                           f"backend is {name!r}. Set KERAS_BACKEND=tensorflow or "
                           f"KERAS_BACKEND=torch before keras is first imported.")
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


class _Scattering1DTransform(KerasFrontend, Scattering1DBase):
    pass


class _Scattering2DTransform(KerasFrontend, Scattering2DBase):
    pass


class _HarmonicScattering3DTransform(KerasFrontend, HarmonicScattering3DBase):
    pass


def _plain(value):
    """A config value as plain Python (lists for tuples and tracked lists)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class ScatteringLayer(keras.layers.Layer):
    """What the three layers share: shape inference, the frontend object, the filters, the
    output shape and the config. Subclasses set `transform` (the frontend class), `signal_ndim`
    and `parameter_names`, store their arguments and check the shape-independent ones."""

    transform = None
    signal_ndim = None
    parameter_names = ()

    def __init__(self, **kwargs):
        backend = active_backend()
        super().__init__(**kwargs)
        self._backend_name = backend
        self._scattering = None

    # -- the frontend object -------------------------------------------------------------------
    def parameters(self):
        """The constructor arguments, as given."""
        return {name: getattr(self, name) for name in self.parameter_names}

    def _signal_shape(self, input_shape):
        input_shape = tuple(input_shape)
        n = self.signal_ndim
        if len(input_shape) < n:
            raise ValueError(f"{self.name} needs inputs of shape (*batch, {', '.join('n' * n)}) "
                             f"(the last {n} dims are the signal); got input shape {input_shape}")
        shape = input_shape[len(input_shape) - n:]
        if any(d is None for d in shape):
            raise ValueError(f"{self.name} needs the last {n} input dims known (they set the "
                             f"filters); got input shape {input_shape}")
        return tuple(int(d) for d in shape)

    def _transform_for(self, input_shape):
        """The frontend object for inputs of `input_shape` (the built one where it matches)."""
        shape = self._signal_shape(input_shape)
        if self._scattering is not None and tuple(self._scattering.core.input_shape) == shape:
            return self._scattering
        try:
            return self.transform(shape=self._shape_argument(shape), backend=self._backend_name,
                                  out_type="array", **self.parameters())
        except (TypeError, ValueError) as error:
            raise type(error)(f"{self.name} on inputs of shape {tuple(input_shape)} (signal "
                              f"shape {shape}): {error}") from None

    def _shape_argument(self, signal_shape):
        """The frontend's `shape` for inputs whose last dims are `signal_shape`."""
        return signal_shape

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

    def call(self, inputs):
        S = self.scattering
        n = self.signal_ndim
        signal_shape = tuple(S.core.input_shape)
        if tuple(inputs.shape[len(inputs.shape) - n:]) != signal_shape:
            raise ValueError(f"{self.name} was built for inputs of shape (..., "
                             f"{', '.join(map(str, signal_shape))}); got {tuple(inputs.shape)}")
        batch_shape = tuple(keras.ops.shape(inputs)[: len(inputs.shape) - n])
        flat = keras.ops.reshape(inputs, (-1,) + signal_shape)
        out = S.scattering(flat)
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


def _check_T_for_array(T, average):
    """1D `T` checks that need no signal length: the array output excludes T=0."""
    if average is not None and not isinstance(average, bool):
        raise TypeError(f"average must be None, True or False; got {average!r}")
    if average is False or (isinstance(T, numbers.Integral) and not isinstance(T, bool) and T == 0):
        raise ValueError("T=0 (average=False: no averaging) gives coefficients of different "
                         "lengths, which a Keras layer cannot return as one array; use T=None, "
                         "an int >= 1 or 'global' (or scatflow.tensorflow / scatflow.torch with "
                         "out_type='list')")
    if T is None or T == "global":
        return
    if isinstance(T, (str, bool)) or not isinstance(T, numbers.Integral):
        raise TypeError(f"T must be None, 'global' or an int >= 1 for a Keras layer; got {T!r}")
    check_int("T", T, minimum=1)


@keras.saving.register_keras_serializable(package="scatflow")
class Scattering1D(ScatteringLayer):
    """1D Morlet scattering layer: inputs `(*batch, N)`, outputs `(*batch, C, N_out)` (Kymatio's
    `kymatio.keras.Scattering1D`, with every argument of `scatflow.numpy.Scattering1D` except
    `shape`, `backend` and `out_type`)."""

    transform = _Scattering1DTransform
    signal_ndim = 1
    parameter_names = ("J", "Q", "T", "max_order", "oversampling", "average", "stride",
                       "kymatio_compat")

    def __init__(self, J, Q=1, T=None, max_order=2, oversampling=0, *, average=None, stride=None,
                 kymatio_compat=None, **kwargs):
        check_int("J", J, minimum=0)
        _check_Q(Q)
        _check_T_for_array(T, average)
        check_int("max_order", max_order, minimum=1, maximum=2)
        check_int("oversampling", oversampling, minimum=0)
        if stride is not None:
            check_int("stride", stride, minimum=1)
        if kymatio_compat is not None and (not isinstance(kymatio_compat, str)
                                           or kymatio_compat not in COMPAT):
            raise ValueError(f"kymatio_compat must be one of {list(COMPAT)}; got {kymatio_compat!r}")
        super().__init__(**kwargs)
        self.J, self.Q, self.T, self.max_order = J, Q, T, max_order
        self.oversampling, self.average, self.stride = oversampling, average, stride
        self.kymatio_compat = kymatio_compat


@keras.saving.register_keras_serializable(package="scatflow")
class Scattering2D(ScatteringLayer):
    """2D Morlet scattering layer: inputs `(*batch, M, N)`, outputs `(*batch, C, M // 2**J,
    N // 2**J)` (Kymatio's `kymatio.keras.Scattering2D`). With `pre_pad=True` the inputs are
    already padded (see `_shape_argument`)."""

    transform = _Scattering2DTransform
    signal_ndim = 2
    parameter_names = ("J", "L", "max_order", "pre_pad", "filter_levels")

    def __init__(self, J, L=8, max_order=2, pre_pad=False, filter_levels="kymatio", **kwargs):
        check_int("J", J, minimum=0)
        check_int("L", L, minimum=1)
        check_int("max_order", max_order, minimum=1, maximum=2)
        if not isinstance(pre_pad, bool):
            raise TypeError(f"pre_pad must be True or False; got {pre_pad!r}")
        check_filter_levels(filter_levels)
        super().__init__(**kwargs)
        self.J, self.L, self.max_order, self.pre_pad = J, L, max_order, pre_pad
        self.filter_levels = filter_levels

    def _shape_argument(self, signal_shape):
        """With `pre_pad=True` the inputs are already padded (Kymatio's `(M_padded, N_padded)`,
        each the next multiple of 2**J above the signal's size, plus 2**J): every size M with
        the same padding gives the same filters and output, so M = M_padded - 2 * 2**J."""
        if not self.pre_pad:
            return signal_shape
        step = 2**self.J
        if any(n % step or n < 3 * step for n in signal_shape):
            raise ValueError(f"pre_pad=True takes inputs already padded, whose last 2 dims are "
                             f"multiples of 2**J = {step} and at least 3 * 2**J = {3 * step}; "
                             f"got {signal_shape}")
        return tuple(n - 2 * step for n in signal_shape)


@keras.saving.register_keras_serializable(package="scatflow")
class HarmonicScattering3D(ScatteringLayer):
    """3D solid-harmonic scattering layer: inputs `(*batch, M, N, O)`, outputs `(*batch, K, L+1,
    P)` (Kymatio has no Keras version; the arguments of `scatflow.numpy.HarmonicScattering3D`)."""

    transform = _HarmonicScattering3DTransform
    signal_ndim = 3
    parameter_names = ("J", "L", "sigma_0", "max_order", "rotation_covariant", "method",
                       "points", "integral_powers")

    def __init__(self, J, L=3, sigma_0=1, max_order=2, rotation_covariant=True,
                 method="integral", points=None, integral_powers=(0.5, 1.0, 2.0), **kwargs):
        check_parameters(J, L, sigma_0, max_order, rotation_covariant, method, points,
                         integral_powers)
        super().__init__(**kwargs)
        self.J, self.L, self.sigma_0, self.max_order = J, L, sigma_0, max_order
        self.rotation_covariant, self.method, self.points = rotation_covariant, method, points
        self.integral_powers = integral_powers


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D"]
