"""torch frontend: the per-transform bases as `torch.nn.Module`s (Kymatio's `kymatio.torch`).

The filter bank is held in non-persistent buffers, always real-valued (complex filters, the 3D
angular factors, as `torch.view_as_real`), so `.to(device)`, `.cuda()`, `.double()`, `.half()`
and `DataParallel` act on them while `state_dict()` stays empty. A buffer cast to another
floating dtype is re-made from the exact float64 NumPy bank, so `.double()` gives float64 filters,
not float32 ones widened. The module does not hold the NumPy bank: the 3D bank (400 MB at 128^3)
is freed once the buffers exist, and `.double()` builds it again.

Precision follows the input: float32 in, float32 math; float64 in, float64 math (without calling
`.double()`: where the buffers do not have the input's dtype, the NumPy bank is converted once per
dtype and device and cached); float16/bfloat16 in, float32 math. The input must be on the
module's device (`.to(x.device)`), as for any torch layer.

Pickles (and `copy.deepcopy`) hold the parameters only; the filters are rebuilt on load from
the NumPy bank (cached, or built again), in the dtype and on the device they had.
"""

import warnings
from collections import namedtuple

import numpy as np
import torch

from ..dispatch import type_name
from .base import ScatteringBase
from .harmonic3d import HarmonicScattering3DBase
from .scattering1d import Scattering1DBase
from .scattering2d import Scattering2DBase
from .time_frequency import TimeFrequencyScatteringBase

BUFFER_PREFIX = "filter"
# Kymatio's skcuda backends, for GPU speed: scatflow's torch backend runs instead (on CUDA
# tensors it is scatflow's fastest path for torch input, and differentiable); GPU-only, as there.
GPU_ONLY_BACKENDS = ("torch_skcuda", "torch17_skcuda")


# A leaf of the filter layout: the buffer holding one array, and whether it is complex (stored
# as `view_as_real`).
_FilterSlot = namedtuple("_FilterSlot", "name is_complex")


def _layout(tree, path=()):
    """`tree` with each NumPy array replaced by a `_FilterSlot` named after its position, and
    the list of (name, array) pairs; non-array leaves are kept."""
    if isinstance(tree, dict):
        pairs, out = [], {}
        for key, value in tree.items():
            out[key], sub = _layout(value, path + (key,))
            pairs += sub
        return out, pairs
    if isinstance(tree, (list, tuple)):
        pairs, out = [], []
        for i, value in enumerate(tree):
            item, sub = _layout(value, path + (i,))
            out.append(item)
            pairs += sub
        return type(tree)(out), pairs
    if isinstance(tree, np.ndarray):
        name = "_".join((BUFFER_PREFIX,) + tuple(str(p) for p in path))
        return _FilterSlot(name, tree.dtype.kind == "c"), [(name, tree)]
    return tree, []


def _fill(layout, fn):
    """`layout` with each `_FilterSlot` replaced by `fn(slot)`."""
    if isinstance(layout, _FilterSlot):
        return fn(layout)
    if isinstance(layout, dict):
        return {key: _fill(value, fn) for key, value in layout.items()}
    if isinstance(layout, (list, tuple)):
        return type(layout)(_fill(value, fn) for value in layout)
    return layout


def _exact_buffer(array, dtype, device):
    """A float64/complex128 NumPy filter as a real tensor of `dtype` on `device`, rounded once
    (complex arrays as their `view_as_real` pairs)."""
    if array.dtype.kind == "c":
        array = np.stack([array.real, array.imag], axis=-1)
    return torch.tensor(array, dtype=dtype, device=device)


class TorchFrontend:
    """Mixin placed first in the bases: `class Scattering2D(TorchFrontend, Scattering2DBase,
    torch.nn.Module)`."""

    frontend_name = "torch"
    default_backend = "torch"
    array_name = "Tensor"
    array_noun = "tensor"

    def __init__(self, *args, **kwargs):
        torch.nn.Module.__init__(self)
        super().__init__(*args, **kwargs)

    @classmethod
    def allowed_backends(cls):
        return ["torch"]

    @classmethod
    def backend_aliases(cls):
        """`backend='torch_skcuda'` (or 'torch17_skcuda'), which Kymatio's user guide advises for
        GPU speed: scatflow's torch backend, on CUDA tensors only (`_check_input`)."""
        return {name: "torch" for name in GPU_ONLY_BACKENDS}

    forward = ScatteringBase.scattering
    __call__ = torch.nn.Module.__call__

    # -- filters as buffers -----------------------------------------------------------------
    def _build_filters(self):
        """Register every array of the NumPy bank as a non-persistent real buffer: float32 on
        the CPU at construction; when a parameter assigned since re-derives the transform, in
        the dtype and on the device of the buffers they replace."""
        dtype, device = torch.float32, None
        for name in getattr(self, "_filter_names", ()):
            replaced = self._buffers.pop(name)
            dtype, device = replaced.dtype, replaced.device
        self._filter_layout, pairs = _layout(self.core.filters())
        self._filter_names = tuple(name for name, _ in pairs)
        for name, array in pairs:
            self.register_buffer(name, _exact_buffer(array, dtype, device), persistent=False)

    def _filter_buffers(self):
        """The bank rebuilt from the buffers (complex ones seen through `view_as_complex`)."""
        buffers = self._buffers
        return _fill(self._filter_layout, lambda slot: torch.view_as_complex(buffers[slot.name])
                     if slot.is_complex else buffers[slot.name])

    def _filters_for(self, backend, x):
        reference = self._buffers[self._filter_names[0]]
        if reference.device != x.device:
            raise ValueError(f"x is on {x.device} but the scattering filters are on "
                             f"{reference.device}: move the module with .to(x.device) (or the "
                             f"input to {reference.device})")
        if reference.dtype == x.dtype:
            return self._filter_buffers()
        if torch.compiler.is_compiling():
            # a graph break: torch.compile cannot trace the NumPy filter construction (with
            # fullgraph=True, give the module the input's dtype first, e.g. `.double()`).
            # Made here, not as a decorator, because torch.compiler.disable imports
            # torch._dynamo (and sympy): +70 MB and a slower import for every user.
            return torch.compiler.disable(self._converted_bank)(backend, x)
        return self._converted_bank(backend, x)

    def _converted_bank(self, backend, x):
        """The exact NumPy bank converted to x's dtype and device, once (cached)."""
        return ScatteringBase._filters_for(self, backend, x)

    def _apply(self, fn, *args, **kwargs):
        """`.to()`, `.double()`, `.cuda()`, ...: drop the cached conversions, and re-make the
        filter buffers whose floating dtype changed from the exact NumPy bank."""
        self._converted_filters = {}
        before = {name: self._buffers[name].dtype for name in self._filter_names}
        result = super()._apply(fn, *args, **kwargs)
        changed = [name for name in self._filter_names
                   if self._buffers[name].dtype != before[name]
                   and self._buffers[name].dtype.is_floating_point]
        if changed:
            arrays = dict(_layout(self.core.filters())[1])
            for name in changed:
                buffer = self._buffers[name]
                self._buffers[name] = _exact_buffer(arrays[name], buffer.dtype, buffer.device)
        return result

    def _check_input(self, x, backend):
        if not isinstance(x, (torch.Tensor, list, tuple)):
            raise TypeError(f"x must be a torch.Tensor for the torch frontend; got {type_name(x)} "
                            f"(the input should be a tensor: convert it with torch.as_tensor(x))")
        if self.backend in GPU_ONLY_BACKENDS and (not isinstance(x, torch.Tensor)
                                                  or x.device.type != "cuda"):
            where = x.device if isinstance(x, torch.Tensor) else "the CPU (a list)"
            raise TypeError(f"backend={self.backend!r} runs on CUDA tensors only (as Kymatio's "
                            f"skcuda backend); got an input on {where}: move it to the GPU, or "
                            f"use backend='torch' for CPU tensors")
        return super()._check_input(x, backend)

    # -- pickling: parameters only --------------------------------------------------------
    def __getstate__(self):
        state = torch.nn.Module.__getstate__(self)
        reference = self._buffers[self._filter_names[0]]
        state["_buffers"] = {k: v for k, v in self._buffers.items()
                             if k not in self._filter_names}
        state["_converted_filters"] = {}
        state["_filter_dtype_device"] = (reference.dtype, str(reference.device))
        return state

    def __setstate__(self, state):
        state = dict(state)
        dtype, device = state.pop("_filter_dtype_device")
        torch.nn.Module.__setstate__(self, state)
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            warnings.warn(f"the scattering module was pickled on {device}, which is not "
                          f"available here: its filters are rebuilt on the CPU", stacklevel=2)
            device = torch.device("cpu")
        for name, array in _layout(self.core.filters())[1]:
            self._buffers[name] = _exact_buffer(array, dtype, device)


class Scattering1D(TorchFrontend, Scattering1DBase, torch.nn.Module):
    """1D Morlet scattering as a `torch.nn.Module` (Kymatio's `kymatio.torch.Scattering1D`)."""


class Scattering2D(TorchFrontend, Scattering2DBase, torch.nn.Module):
    """2D Morlet scattering as a `torch.nn.Module` (Kymatio's `kymatio.torch.Scattering2D`)."""


class HarmonicScattering3D(TorchFrontend, HarmonicScattering3DBase, torch.nn.Module):
    """3D solid-harmonic scattering as a `torch.nn.Module` (Kymatio's
    `kymatio.torch.HarmonicScattering3D`)."""


class TimeFrequencyScattering(TorchFrontend, TimeFrequencyScatteringBase, torch.nn.Module):
    """Joint time-frequency scattering as a `torch.nn.Module` (Kymatio main's
    `kymatio.torch.TimeFrequencyScattering`)."""


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
