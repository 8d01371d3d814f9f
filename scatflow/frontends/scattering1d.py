"""Scattering1D parameters (Kymatio's signature, 0.3.0 and main), checked before anything is built."""

import numbers

import numpy as np

from ..core.scattering1d import Scattering1DCore
from ..errors import OrderNotImplementedError, ParameterTypeError
from .base import (CANNOT_STACK, OUT_TYPES, ScatteringBase, check_bool, check_choice, check_int,
                   check_nan_policy, check_padding_mode, check_shape, scalar)

COMPAT = (None, "0.3")
MAX_J = 1023  # 2**J, the default low-pass width, must be a finite float


def _check_Q(Q):
    """(Q1, Q2) from an int or a tuple of 1 or 2 ints >= 1 (Q2 defaults to 1), as Kymatio takes
    it: NumPy integers and 0-d arrays too, a list not."""
    if isinstance(Q, tuple):
        if len(Q) > 2:
            raise OrderNotImplementedError(
                f"Q must be an integer, 1-tuple or 2-tuple. Scattering transforms beyond order 2 "
                f"are not implemented; got {Q!r}")
        if not Q:
            raise ValueError("Q must be an integer or a tuple (Q1,) or (Q1, Q2) of integers "
                             ">= 1; got ()")
        values = tuple(_check_Q_value(f"Q[{i}]", q) for i, q in enumerate(Q))
        return values + (1,) * (2 - len(values))
    if isinstance(scalar(Q), numbers.Real):
        return _check_Q_value("Q", Q), 1
    hint = " (a list is not taken: pass tuple(Q))" if isinstance(Q, list) else ""
    raise ParameterTypeError(f"Q must be an integer or a tuple (Q1,) or (Q1, Q2) of integers "
                             f">= 1{hint}; got {Q!r}")


def _check_Q_value(name, q):
    """One order's wavelets per octave: an integer >= 1 (Kymatio's message for values < 1)."""
    q = scalar(q)
    if isinstance(q, numbers.Real) and not isinstance(q, (bool, np.bool_)) and q < 1:
        raise ValueError(f"Q must always be >= 1 (Q must be an integer or a tuple of integers, "
                         f"and each Q should always be >= 1); got {name}={q!r}")
    return check_int(name, q, minimum=1)


def _check_T(T, N):
    """'local' / 'global' / False averaging and the low-pass width (None for 2**J); the upper
    bound N is checked where the signal length is known (N not None)."""
    allowed = f"None, 0, 'global' or an int in [1, N={N}]" if N else "None, 0, 'global' or an int >= 1"
    if T is None:
        return "local", None
    if isinstance(T, str):
        if T != "global":
            raise ValueError(f"T must be {allowed}; got {T!r}")
        return "global", None
    T = scalar(T)
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, numbers.Integral):
        raise ParameterTypeError(f"T must be {allowed}; got {T!r}")
    T = int(T)
    if T == 0:
        return False, None
    if T < 0 or (N is not None and T > N):
        raise ValueError(f"T must be {allowed} (the low-pass cannot be wider than the signal; "
                         f"use T='global'); got {T}")
    return "local", T


def _core_attribute(name, doc):
    """A read-only attribute forwarded from the core (Kymatio's name for a derived value)."""
    return property(lambda self: getattr(self.core, name), doc=doc)


class Scattering1DBase(ScatteringBase):
    """1D Morlet scattering of `(*batch, N)` inputs (Kymatio's `Scattering1D`).

    Output (`out_type='array'`): `(*batch, C, N_out)`, the paths in Kymatio's order (S0, S1 by n1,
    S2 by (n1, n2) with j2 > j1). `T` is the averaging scale: None (2**J), an int in [1, N], 0
    (no averaging: `out_type='list'` or `'dict'` only, coefficients of different lengths) or
    'global' (a sum over time, N_out = 1). `stride` (a power of two <= T, default
    2**floor(log2 T)) sets the output sampling; `oversampling` (deprecated by Kymatio) divides the
    stride by 2**oversampling (with T=0 it keeps 2**oversampling more samples per path, as in
    Kymatio 0.3.0). `average` is Kymatio 0.3.0's deprecated switch: False means T=0.

    `padding_mode` (keyword only): the boundary condition, "reflect" (Kymatio's, default),
    "symmetric" (the edge sample repeated), "zero", or "periodic" (no padding: circular
    convolutions on the input grid, whose length must then be a multiple of the coarsest
    decimation, e.g. of the output step `T` / `stride`).

    Numbers: Kymatio's main branch. `kymatio_compat="0.3"` reproduces Kymatio 0.3.0 (its
    mean-reduced filter levels and `oversampling` formulas; no `stride`, no T='global').

    Attributes: the constructor arguments, as given except three that read as Kymatio
    normalises them: `Q` as (Q1, Q2), `T` as the low-pass width (2**J for None, 0 and 'global')
    and `average` as 'local', 'global' or False (Kymatio main's; truthy as 0.3.0's True).
    `parameters()` gives the arguments as given. Derived values are `pad_left`, `pad_right`,
    `ind_start`, `ind_end`, `N_padded`, `log2_T`, `log2_stride`, `average_mode`, and the filters
    `phi_f`, `psi1_f`, `psi2_f` (Kymatio's dicts, read-only).

    `nan_policy` (scatflow's, keyword only): "propagate" (default, Kymatio's: a NaN spreads
    through the FFTs to its whole signal) or "mask": NaN samples are missing data, every
    coefficient is the low-pass of the zero-filled signal's moduli divided by the low-passed
    valid fraction W, and NaN where W < `min_valid` (default 0.5; `scatflow.core.masking`). T=0
    refuses "mask" (no low-pass to divide by).
    """

    core_class = Scattering1DCore
    normalised_attributes = ("Q", "T", "average")

    def __init__(self, J, shape, Q=1, T=None, max_order=2, average=None, oversampling=0,
                 out_type="array", backend=None, *, stride=None, kymatio_compat=None,
                 nan_policy="propagate", min_valid=0.5, padding_mode="reflect"):
        self._setup(J=J, shape=shape, Q=Q, T=T, max_order=max_order, average=average,
                    oversampling=oversampling, out_type=out_type, backend=backend, stride=stride,
                    kymatio_compat=kymatio_compat, nan_policy=nan_policy, min_valid=min_valid,
                    padding_mode=padding_mode)

    @classmethod
    def check_parameters(cls, *, J, shape=None, Q=1, T=None, max_order=2, average=None,
                         oversampling=0, out_type="array", backend=None, stride=None,
                         kymatio_compat=None, nan_policy="propagate", min_valid=0.5,
                         padding_mode="reflect"):
        """Check every parameter (those that need the signal length only where `shape` is
        given); return the core's keyword arguments, or None without a shape."""
        J = check_int("J", J, minimum=0, maximum=MAX_J)
        N = None
        if shape is not None:
            (N,) = check_shape(shape, 1)
            if N < 2:
                raise ValueError(f"shape must be at least (2,) (a signal of 2 samples); got "
                                 f"{shape!r}")
        Q1, Q2 = _check_Q(Q)
        mode, T_value = _check_T(T, N)
        if average is not None:
            average = check_bool("average", average)
        if average is False:
            if T is not None and T != 0:
                raise ValueError(f"average=False means no averaging (T=0) and contradicts T={T!r}; "
                                 f"pass T=0 (average is deprecated)")
            mode = False
        elif average is True and mode is False:
            raise ValueError("average=True contradicts T=0 (no averaging); pass T=None or an int")
        max_order = check_int("max_order", max_order, minimum=1, maximum=2)
        oversampling = check_int("oversampling", oversampling, minimum=0)
        if kymatio_compat is not None and (not isinstance(kymatio_compat, str)
                                           or kymatio_compat not in COMPAT):
            raise ValueError(f"kymatio_compat must be one of {list(COMPAT)}; got {kymatio_compat!r}")
        T_value = 2**J if T_value is None else T_value
        log2_T = T_value.bit_length() - 1
        log2_stride = cls._check_stride(stride, mode, log2_T, oversampling, kymatio_compat)
        if mode == "global" and oversampling:
            raise ValueError(f"oversampling must be 0 with T='global' (a sum over time); "
                             f"got {oversampling}")
        if mode == "global" and kymatio_compat is not None:
            raise ValueError("T='global' does not exist in Kymatio 0.3.0: use kymatio_compat=None "
                             "with T='global'")
        check_choice("out_type", out_type, OUT_TYPES)
        check_nan_policy(nan_policy, min_valid, refusal=None if mode is not False else (
            "T=0 (average=False) leaves the coefficients unaveraged, with no low-pass to divide "
            "by"))
        (padding_mode,) = check_padding_mode(padding_mode)
        if mode is False and out_type == "array":
            raise ValueError(f"{CANNOT_STACK} (T=0 and average=False mean no averaging; the "
                             f"Keras layers and scikit-learn transformers return one array)")
        if N is None:
            return None
        return dict(J=J, shape=(N,), Q=(Q1, Q2), T=T_value, average=mode,
                    log2_stride=log2_stride, oversampling=oversampling, max_order=max_order,
                    kymatio_compat=kymatio_compat, padding_mode=padding_mode)

    @classmethod
    def kymatio_attributes(cls, *, J, Q=1, T=None, average=None, **params):
        """Kymatio's values of `Q` ((Q1, Q2)), `T` (the low-pass width: 2**J for None, 0 and
        'global') and `average` ('local', 'global' or False)."""
        mode, width = _check_T(T, None)
        if average is not None and not check_bool("average", average):
            mode = False
        width = 2 ** check_int("J", J, minimum=0) if width is None else width
        return {"Q": _check_Q(Q), "T": width, "average": mode}

    @staticmethod
    def _check_stride(stride, mode, log2_T, oversampling, kymatio_compat):
        """log2 of the output stride (Kymatio main semantics) for local averaging, else None."""
        if stride is None:
            return max(log2_T - oversampling, 0) if mode == "local" else None
        stride = scalar(stride)
        if isinstance(stride, (bool, np.bool_)) or not isinstance(stride, numbers.Integral):
            raise ParameterTypeError(f"stride must be None or an integer power of two; got "
                                     f"{stride!r}")
        stride = int(stride)
        if stride < 1 or stride & (stride - 1):
            raise ValueError(f"stride must be a power of two >= 1; got {stride}")
        if mode != "local":
            which = "T='global'" if mode == "global" else "T=0 (no averaging)"
            raise ValueError(f"stride={stride} is incompatible with {which}: stride must be None "
                             f"there")
        if oversampling:
            raise ValueError(f"stride={stride} and oversampling={oversampling} are incompatible; "
                             f"pass stride only (oversampling is deprecated)")
        if kymatio_compat is not None:
            raise ValueError("stride does not exist in Kymatio 0.3.0: use oversampling with "
                             "kymatio_compat='0.3'")
        if stride > 2**log2_T:
            raise ValueError(f"stride must be a power of two <= 2**floor(log2(T)) = {2**log2_T}; "
                             f"got {stride}")
        return stride.bit_length() - 1

    # -- derived values (Kymatio's attribute names) ---------------------------------------------
    pad_left = _core_attribute("pad_left", "Samples of padding before the signal.")
    pad_right = _core_attribute("pad_right", "Samples of padding after the signal.")
    N_padded = _core_attribute("N_padded", "Length of the padded signal (a power of two; the "
                                            "signal's length with padding_mode='periodic').")
    log2_T = _core_attribute("log2_T", "floor(log2(T)), the low-pass's decimation exponent.")
    average_mode = _core_attribute("average", "Kymatio main's `average`: 'local', 'global' or "
                                              "False.")

    @property
    def ind_start(self):
        return dict(enumerate(self.core.ind_start))

    @property
    def ind_end(self):
        return dict(enumerate(self.core.ind_end))

    @property
    def log2_stride(self):
        """log2 of the output stride (local averaging; None otherwise)."""
        if self.core.average != "local":
            return None
        return self.core.output_resolution

    @property
    def phi_f(self):
        """Kymatio's low-pass dict: `levels` (level k is the filter for a signal decimated by
        2^k, summed over blocks as on Kymatio main), `xi`, `sigma`, `j`, `N`."""
        levels = self.core.filters()["phi"]
        return {"levels": list(levels), "xi": 0, "sigma": 0.1 / self.core.T,
                "j": self.core.log2_T, "N": self.core.N_padded}

    @property
    def psi1_f(self):
        """Kymatio's first-order wavelets: a list of dicts `levels`, `xi`, `sigma`, `j`."""
        bank = self.core.filters()["psi1"]
        c = self.core
        return [{"levels": [bank[n]], "xi": xi, "sigma": s, "j": j}
                for n, (xi, s, j) in enumerate(zip(c.xi1, c.sigma1, c.j1))]

    @property
    def psi2_f(self):
        """Kymatio's second-order wavelets; [] with max_order=1. `levels` holds level 0 and the
        levels k < j that the scattering applies the wavelet at (as Kymatio main builds them)."""
        levels = self.core.filters().get("psi2", ())
        c = self.core
        return [{"levels": [lv[n] for lv in levels[: max(1, j)]], "xi": xi, "sigma": s, "j": j}
                for n, (xi, s, j) in enumerate(zip(c.xi2, c.sigma2, c.j2))]
