"""HarmonicScattering3D parameters (Kymatio 0.3.0's signature), checked before anything is built."""

import math
import numbers

from ..core.harmonic3d import HarmonicScattering3DCore
from ..errors import ParameterTypeError
from ..filters.harmonic3d import solid_harmonic_filter_bank
from .base import (OUT_TYPES, UNAVERAGED_ARRAY, ScatteringBase, check_average, check_bool,
                   check_choice, check_int, check_nan_policy, check_real, check_shape)


class HarmonicScattering3DBase(ScatteringBase):
    """3D solid-harmonic scattering of `(*batch, M, N, O)` inputs: output `(*batch, K, L+1, P)`
    with K = J+1 + J(J+1)/2 scale paths (J+1 with `max_order=1`), degrees l = 0..L and
    P = len(integral_powers) integrals sum(U^p) over the volume. Order 0 is not included.

    Parameters are Kymatio's: `method` accepts only 'integral' and `points` only None (both
    vestigial there too). `out_type` adds 'list' (dicts with coef, order, l, j) and 'dict'
    (keyed by (l, j1) and (l, j1, j2)). float32 input gives float32 output, anything else
    float64 (Kymatio's NumPy frontend always returns float32).

    `average` (scatflow's, keyword only; Kymatio's 3D has none): False gives, in place of the
    integrals, the unaveraged moduli U1 of (l, j1) and U2 of (l, j1, j2), each (*batch, M, N, O)
    (the rotation-covariant modulus sqrt(sum_m |.|^2) with `rotation_covariant=True`), with
    `out_type='list'` or `'dict'` only (`integral_powers` is then unused).

    `nan_policy` (scatflow's, keyword only) is "propagate" (a NaN spreads through the FFTs to
    its whole volume) only: the invariants are integrals over the whole volume, with no
    low-pass whose mask could renormalize them, so "mask" is refused."""

    core_class = HarmonicScattering3DCore
    cannot_stack = UNAVERAGED_ARRAY

    def __init__(self, J, shape, L=3, sigma_0=1, max_order=2, rotation_covariant=True,
                 method="integral", points=None, integral_powers=(0.5, 1.0, 2.0), backend=None,
                 out_type="array", *, average=True, nan_policy="propagate"):
        self._setup(J=J, shape=shape, L=L, sigma_0=sigma_0, max_order=max_order,
                    rotation_covariant=rotation_covariant, method=method, points=points,
                    integral_powers=integral_powers, backend=backend, out_type=out_type,
                    average=average, nan_policy=nan_policy)

    @classmethod
    def check_parameters(cls, *, J, shape=None, L=3, sigma_0=1, max_order=2,
                         rotation_covariant=True, method="integral", points=None,
                         integral_powers=(0.5, 1.0, 2.0), backend=None, out_type="array",
                         average=True, nan_policy="propagate"):
        """Check every parameter; return the core's keyword arguments, or None without a
        shape."""
        J = check_int("J", J, minimum=0)
        L = check_int("L", L, minimum=0)
        sigma_0 = check_real("sigma_0", sigma_0, positive=True)
        try:
            widest = math.ldexp(sigma_0, J)
        except OverflowError:
            widest = math.inf
        if not math.isfinite(widest * widest):
            raise ValueError(f"J and sigma_0 must keep the widest wavelet width sigma_0 * 2**J "
                             f"(squared) finite; got J={J}, sigma_0={sigma_0}")
        max_order = check_int("max_order", max_order, minimum=1, maximum=2)
        rotation_covariant = check_bool("rotation_covariant", rotation_covariant)
        check_choice("method", method, ("integral",))
        if points is not None:
            raise ValueError(f"points must be None (only method='integral' exists); got "
                             f"{points!r}")
        integral_powers = check_integral_powers(integral_powers)
        check_choice("out_type", out_type, OUT_TYPES)
        average = check_average(average, out_type)
        check_nan_policy(nan_policy, refusal=(
            "HarmonicScattering3D's invariants are integrals over the whole volume, with no "
            "low-pass mask to divide by"))
        if shape is None:
            return None
        return dict(J=J, shape=check_shape(shape, 3), L=L, sigma_0=sigma_0, max_order=max_order,
                    rotation_covariant=rotation_covariant, integral_powers=integral_powers,
                    average=average)

    @property
    def filters(self):
        """Kymatio's `filters` attribute: per degree l = 0..L, the (J+1, 2l+1, M, N, O) complex
        Fourier-domain wavelets psi_{l,j,m} (read-only, multiplied out of the factored bank)."""
        core = self.core
        return list(solid_harmonic_filter_bank(core.shape, core.J, core.L, core.sigma_0))


def check_integral_powers(value):
    """Return `integral_powers` as a tuple of floats: a non-empty sequence of finite reals > 0."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParameterTypeError(f"integral_powers must be a sequence of positive numbers; got "
                                 f"{value!r}")
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    if not isinstance(items, list):  # a 0-d array
        raise ParameterTypeError(f"integral_powers must be a sequence of positive numbers; got "
                                 f"{value!r}")
    if not items or any(isinstance(p, (list, tuple)) for p in items):
        raise ValueError(f"integral_powers must be a non-empty flat sequence of positive numbers; "
                         f"got {value!r}")
    powers = []
    for p in items:
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise ParameterTypeError(f"integral_powers must hold real numbers; got {p!r} in "
                                     f"{value!r}")
        if not math.isfinite(p) or p <= 0:
            raise ValueError(f"integral_powers must hold finite numbers > 0; got {p!r} in "
                             f"{value!r}")
        powers.append(float(p))
    return tuple(powers)
