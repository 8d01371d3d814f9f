"""Scattering2D parameters (Kymatio 0.3.0's signature), checked before anything is built."""

from ..core.scattering2d import Scattering2DCore
from ..filters.morlet2d import FILTER_LEVELS
from ..errors import ShapeError
from .base import (OUT_TYPES, UNAVERAGED_ARRAY, ScatteringBase, check_average, check_bool,
                   check_choice, check_int, check_nan_policy, check_padding_mode, check_shape)


class Scattering2DBase(ScatteringBase):
    """2D Morlet scattering of `(*batch, M, N)` inputs: output `(*batch, C, M // 2^J, N // 2^J)`
    with C = 1 + J L + L^2 J (J - 1) / 2 paths (first 1 + J L with `max_order=1`).

    With `pre_pad=True` the input is already padded to `core.padded_shape` (Kymatio's
    `_M_padded, _N_padded`) and is used as it is.

    `filter_levels` (scatflow's, keyword only): how the filters are brought to the coarser
    resolutions. "kymatio" (default) cuts them to the band of each resolution, as Kymatio and
    ScatNet do, which gives them sinc tails across the whole image: a chunk computed on its own
    differs from the whole-image result by ~1e-4 of a channel's maximum. "local" sums the aliases
    instead (the filter sampled in space, as Kymatio's 1D does): coefficients differ from
    Kymatio's by ~4e-3 of a channel's maximum, and chunk-wise results (`scatflow.dask`,
    `chunking="halo"`) equal whole-image ones.

    `average` (scatflow's, keyword only; Kymatio's 2D has none): False gives the unaveraged maps,
    as 1D's `average=False` does, with `out_type='list'` or `'dict'` only: order 0 the input,
    U1 of (j1, theta1) at resolution 2^-j1 and U2 of (j1, theta1, j2, theta2) at 2^-j2, each
    cut to the samples inside the image; each path's `decimation` (2^j) is in its list entry
    and `meta()`, and `core.map_grid(j)` says where a map's samples lie.

    `nan_policy` (scatflow's, keyword only): "propagate" (default, Kymatio's: a NaN spreads
    through the FFTs to its whole signal) or "mask": NaN samples are missing data, every
    coefficient is the low-pass of the zero-filled signal's moduli divided by the low-passed
    valid fraction W, and NaN where W < `min_valid` (default 0.5; `scatflow.core.masking`);
    averaged outputs only.

    `padding_mode` (keyword only): the boundary condition, one for both axes or a pair (rows,
    columns): "reflect" (Kymatio's, default), "symmetric" (the edge sample repeated), "zero", or
    "periodic" (no padding: circular convolutions, e.g. along the longitudes of a global grid,
    `("reflect", "periodic")`). A periodic axis's size must be a multiple of 2**J; its output
    samples are input samples 0, 2**J, 2 * 2**J, ..., and it is exactly shift-equivariant:
    rolling the input by k * 2**J along it rolls the output by k."""

    core_class = Scattering2DCore
    cannot_stack = UNAVERAGED_ARRAY

    def __init__(self, J, shape, L=8, max_order=2, pre_pad=False, backend=None, out_type="array",
                 *, filter_levels="kymatio", average=True, nan_policy="propagate",
                 min_valid=0.5, padding_mode="reflect"):
        self._setup(J=J, shape=shape, L=L, max_order=max_order, pre_pad=pre_pad, backend=backend,
                    out_type=out_type, filter_levels=filter_levels, average=average,
                    nan_policy=nan_policy, min_valid=min_valid, padding_mode=padding_mode)

    @classmethod
    def check_parameters(cls, *, J, shape=None, L=8, max_order=2, pre_pad=False, backend=None,
                         out_type="array", filter_levels="kymatio", average=True,
                         nan_policy="propagate", min_valid=0.5, padding_mode="reflect"):
        """Check every parameter (2**J against the image only where `shape` is given); return
        the core's keyword arguments, or None without a shape."""
        J = check_int("J", J, minimum=0)
        L = check_int("L", L, minimum=1)
        max_order = check_int("max_order", max_order, minimum=1, maximum=2)
        pre_pad = check_bool("pre_pad", pre_pad)
        if not isinstance(filter_levels, str) or filter_levels not in FILTER_LEVELS:
            raise ValueError(f"filter_levels must be one of {list(FILTER_LEVELS)}; got "
                             f"{filter_levels!r}")
        check_choice("out_type", out_type, OUT_TYPES)
        average = check_average(average, out_type)
        check_nan_policy(nan_policy, min_valid, refusal=None if average else (
            "the unaveraged maps (average=False) have no low-pass to divide by"))
        padding_modes = check_padding_mode(padding_mode, 2)
        if pre_pad and padding_modes != ("reflect", "reflect"):
            raise ValueError(f"pre_pad=True takes an input padded already: padding_mode must be "
                             f"'reflect' (the default) with it; got {padding_mode!r}")
        if shape is None:
            return None
        M, N = check_shape(shape, 2)
        if 2**J > min(M, N):
            raise ShapeError(f"J must satisfy 2**J <= min(shape) = {min(M, N)} (the smallest "
                             f"dimension should be larger than 2^J); got J={J}")
        return dict(J=J, shape=(M, N), L=L, max_order=max_order, pre_pad=pre_pad,
                    filter_levels=filter_levels, average=average, padding_modes=padding_modes)

    @classmethod
    def shape_for_input(cls, signal_shape, *, J, pre_pad=False, **params):
        """With `pre_pad=True` the inputs are already padded (Kymatio's `(M_padded,
        N_padded)`, each the next multiple of 2**J above the signal's size, plus 2**J): every
        size M with the same padding gives the same filters and output, so M = M_padded -
        2 * 2**J."""
        if not pre_pad:
            return tuple(signal_shape)
        step = 2**J
        if any(n % step or n < 3 * step for n in signal_shape):
            raise ValueError(f"pre_pad=True takes inputs already padded, whose last 2 dims are "
                             f"multiples of 2**J = {step} and at least 3 * 2**J = {3 * step}; "
                             f"got {tuple(signal_shape)}")
        return tuple(n - 2 * step for n in signal_shape)

    @property
    def M_padded(self):
        """Height of the padded image (Kymatio's documented `M_padded`)."""
        return self.core.padded_shape[0]

    @property
    def N_padded(self):
        """Width of the padded image (Kymatio's documented `N_padded`)."""
        return self.core.padded_shape[1]

    @property
    def phi(self):
        """Kymatio's low-pass dict: `levels` (the Fourier filter at resolutions 2^-r, r = 0..J-1,
        on the padded grid) and `j`."""
        return {"levels": list(self.core.fourier_filters()[0]), "j": self.core.J}

    @property
    def psi(self):
        """Kymatio's wavelet list, one dict per (j, theta) in path order: `levels` (the
        resolutions the algorithm uses: 2^0 and 2^-r for r < j), `j`, `theta`."""
        _, psi = self.core.fourier_filters()
        return [{"levels": [levels[r][theta] for r in sorted(levels)], "j": j, "theta": theta}
                for j, levels in enumerate(psi) for theta in range(self.core.L)]
