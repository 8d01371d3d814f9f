"""TensorFlow frontend: the per-transform bases as `tf.Module`s (Kymatio's `kymatio.tensorflow`).

`S(x)` runs eagerly or inside `tf.function`, also traced with an unknown batch size
(`tf.TensorSpec([None, *shape])`): the trailing signal shape must be known, the batch dims may
not be. Gradients flow through `tf.GradientTape` and stay finite where the input has exact
zeros (see `scatflow.backends.tensorflow`).

Input: a `tf.Tensor` or `tf.Variable`; NumPy arrays (and nested lists) are accepted too and
converted with `tf.convert_to_tensor`, as Kymatio's TensorFlow frontend does. The output is
always a `tf.Tensor` (or a list / dict of them). Other array types (torch, CuPy) are a
`TypeError`: convert them first.

Precision follows the input: float32 in, float32 out; float64 in, float64 out; integers and
bools become float64; float16/bfloat16 compute in float32. The filters are complex constants
(TensorFlow cannot multiply complex by real), made from the NumPy bank once per dtype and
outside any `tf.function` graph, so every trace reuses them. They are not variables:
`S.variables == ()`.
"""

import numpy as np
import tensorflow as tf

from ..dispatch import type_name
from .harmonic3d import HarmonicScattering3DBase
from .scattering1d import Scattering1DBase
from .scattering2d import Scattering2DBase
from .time_frequency import TimeFrequencyScatteringBase


class TensorFlowFrontend:
    """Mixin placed first in the bases: `class Scattering2D(TensorFlowFrontend,
    Scattering2DBase, tf.Module)`. Adds Kymatio's `name=` keyword (the module's name scope)."""

    frontend_name = "tensorflow"
    default_backend = "tensorflow"
    array_name = "Tensor"
    array_noun = "tensor"

    def __init__(self, *args, name=None, **kwargs):
        tf.Module.__init__(self, name=type(self).__name__ if name is None else name)
        # tf.Module would wrap list/dict attributes (Q=[4, 2], the filter cache) in tracking
        # proxies; nothing here is a variable or a submodule, so keep attributes as given.
        self._self_setattr_tracking = False
        super().__init__(*args, **kwargs)

    @classmethod
    def allowed_backends(cls):
        return ["tensorflow"]

    # The scattering code has no tensor-dependent control flow: AutoGraph has nothing to
    # convert, so tf.function traces it as plain Python.
    @tf.autograph.experimental.do_not_convert
    def scattering(self, x):
        """Scattering coefficients of `x` with shape `(*batch, *shape)` as tf.Tensors."""
        x = _as_tensor(x)
        with self.name_scope:
            if x.shape.rank is None:
                raise ValueError("x must have a known rank (a tensor of shape (*batch, *shape)); "
                                 "got a tensor of unknown rank")
            n_batch = x.shape.rank - len(self.core.input_shape)
            if n_batch >= 2 and sum(n is None for n in x.shape[:n_batch]) >= 2:
                # several unknown batch dims: run on one flat (unknown) batch, restore them after
                batch = tf.shape(x)[:n_batch]
                flat = tf.reshape(x, [-1] + x.shape.as_list()[n_batch:])
                return _restore_batch(super().scattering(flat), batch)
            return super().scattering(x)

    __call__ = scattering


def _as_tensor(x):
    """tf tensors as they are; NumPy arrays, NumPy scalars, lists and other arrays that NumPy
    reads (`__array__`: a CPU torch tensor, as Kymatio's tests pass) through
    tf.convert_to_tensor (native byte order first); anything else is a TypeError."""
    if isinstance(x, (tf.Tensor, tf.Variable)):
        return tf.convert_to_tensor(x) if isinstance(x, tf.Variable) else x
    if isinstance(x, (np.ndarray, np.generic, list, tuple)) or hasattr(x, "__array__"):
        a = np.asarray(x)
        if a.dtype.kind in "biuf" and not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        if a.dtype.kind not in "biufc":
            raise TypeError(f"x must be a real numeric array; got a NumPy array of dtype {a.dtype}")
        return tf.convert_to_tensor(a)
    raise TypeError(f"x must be a tf.Tensor, tf.Variable or NumPy array for the tensorflow "
                    f"frontend; got {type_name(x)} (the input should be a tensor or an array)")


def _restore_batch(out, batch):
    """Reshape each coefficient `(B, *rest)` of an array / list / dict output to
    `(*batch, *rest)` (`batch` a 1-D int tensor)."""
    def fix(c):
        return tf.reshape(c, tf.concat([batch, tf.shape(c)[1:]], axis=0))

    if isinstance(out, dict):
        return {k: fix(v) for k, v in out.items()}
    if isinstance(out, list):
        return [dict(item, coef=fix(item["coef"])) for item in out]
    return fix(out)


class Scattering1D(TensorFlowFrontend, Scattering1DBase, tf.Module):
    """1D Morlet scattering on TensorFlow tensors (Kymatio's `kymatio.tensorflow.Scattering1D`);
    the arguments of `scatflow.numpy.Scattering1D` plus `name=`."""


class Scattering2D(TensorFlowFrontend, Scattering2DBase, tf.Module):
    """2D Morlet scattering on TensorFlow tensors (Kymatio's `kymatio.tensorflow.Scattering2D`);
    the arguments of `scatflow.numpy.Scattering2D` plus `name=`."""


class HarmonicScattering3D(TensorFlowFrontend, HarmonicScattering3DBase, tf.Module):
    """3D solid-harmonic scattering on TensorFlow tensors (Kymatio's
    `kymatio.tensorflow.HarmonicScattering3D`); the arguments of
    `scatflow.numpy.HarmonicScattering3D` plus `name=`."""


class TimeFrequencyScattering(TensorFlowFrontend, TimeFrequencyScatteringBase, tf.Module):
    """Joint time-frequency scattering on TensorFlow tensors (Kymatio main's
    `kymatio.tensorflow.TimeFrequencyScattering`); the arguments of
    `scatflow.numpy.TimeFrequencyScattering` plus `name=`."""


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
