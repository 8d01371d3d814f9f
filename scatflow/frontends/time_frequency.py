"""TimeFrequencyScattering parameters (Kymatio main's signature), checked before anything is
built."""

import numbers

from ..core.time_frequency import TimeFrequencyScatteringCore
from ..filters.morlet1d import periodize
from ..filters.morlet1d_design import SIGMA0
from ..filters.time_frequency import frequency_bank
from .base import (OUT_TYPES, ScatteringBase, check_choice, check_int, check_nan_policy,
                   check_padding_mode, check_shape)
from .scattering1d import MAX_J, Scattering1DBase, _check_Q, _check_T

FORMATS = ("time", "joint")


class TimeFrequencyScatteringBase(ScatteringBase):
    """Joint time-frequency scattering of `(*batch, N)` inputs (Kymatio main's
    `TimeFrequencyScattering`): first-order scalograms |x * psi1| (Q1 wavelets per octave up to
    2**J), scattered again along time (second-order wavelets psi2, Q2 per octave) and along
    log-frequency n1 (Morlets of both spins and the low-pass of width 2**J_fr, Q_fr per
    octave up to 2**J_fr), then averaged over T in time and F in log-frequency.

    Output, `out_type='array'`:

    * ``format='time'``: `(*batch, C, N_out)`, order 0 included; a channel is one row n1 of a
      path (n1 [, n2], n_fr): key `(n1, n_fr)` at order 1, `(n1, n2, n_fr)` at order 2.
    * ``format='joint'``: `(*batch, C, rows, N_out)`, order 0 left out; a channel is a path
      `(n_fr,)` or `(n2, n_fr)` and its frequency axis keeps Kymatio's padded rows (rows beyond
      the last first-order filter): `frequency_rows` gives each row's n1 (-1 for those, and
      for the one row of F='global'). A second-order path (n2) has input only at the n1 with
      j1 < j2; its rows beyond them hold what its filters spread into the zero padding.

    `out_type='list'` / `'dict'` give each channel as its own array (joint format: order 0
    included, rows cut to `1 + n1_max // stride` as Kymatio does). `T`: None (2**J), an int in
    [1, N], 0 (no time averaging: list/dict only) or 'global' (a sum over time). `F`: None
    (2**J_fr), an int in [1, (J+1) Q1], 0 (no frequency averaging; not with a joint array) or
    'global' (a sum over the frequency rows). `stride` / `stride_fr`: powers of two up to T / F.

    Numbers: Kymatio main's, where it computes them. Where it fails or mislabels, scatflow
    computes (and tests) the following:

    * `stride` below T, or T below 2**J (Kymatio fails once a second-order scale j2 exceeds
      log2(stride)): U2 is decimated by 2**min(j2, log2 stride) (1D Kymatio main's rule, as
      Kymatio's first order does with U1). Every (T / stride)-th frame is the stride=T output
      up to the aliasing of the moduli U1, U2 sampled at another rate (~1e-3 of a channel on
      a chirp, as for Scattering1D's stride).
    * `stride_fr` below F (Kymatio fails once a frequential scale exceeds log2(stride_fr)): the
      F low-pass runs from the decimation each path reached; likewise along frequency.
    * `F` above 2**J_fr: N_fr is rounded to a multiple of 2**floor(log2 F) rather than of
      2**J_fr (Kymatio fails where that differs; equal where it does not).
    * Joint array with F > 2**J_fr or F='global' (Kymatio fails: its spin-0 paths, averaged
      by their own low-pass of width 2**J_fr only, keep more rows than the others): the spin-0
      paths are averaged like the others, with the F low-pass from their decimation, or summed
      over their rows, so that every channel has one set of rows. The time format and the
      list/dict outputs keep Kymatio's spin-0 values.
    * Spin-0 rows where F < 2**J_fr or stride_fr < F: their stride is 2**log2_stride_fr, and
      the time format and the joint lists keep and label them so (Kymatio labels them as if
      2**J_fr apart and keeps too few).
    * T=0 in time format: the first-order channels are the rows of the joint format's (S1,
      averaged over 2**J, then scattered in frequency); Kymatio unpads them at the full rate,
      which leaves them empty (or wrong for J < 3).
    * `meta()` row i describes output channel i (Kymatio sorts its meta by key, not in the
      array's order, and its joint-array keys count order 0); `output_size()` is the channel
      count; list items carry the correct `order` (Kymatio's time-format items say one less).

    `padding_mode` (keyword only): the boundary condition of the time axis, as Scattering1D's
    ("reflect", "symmetric", "zero" or "periodic"); the n1 axis is zero-padded as in Kymatio.

    `meta()` keys: `order`, `key`, `n`, `j`, `xi`, `sigma` (C, 2): the first-order filter n1
    and the second-order one n2 (n1 is NaN in joint format, where it is the frequency axis;
    0 for an F='global' sum, as Kymatio labels it), and `n_fr`, `xi_fr`, `sigma_fr`, `j_fr`,
    `spin` (C,): the frequential filter (NaN at order 0).

    Constructor arguments read back as Kymatio normalises them (`Q`, `Q_fr` as tuples, `T`
    and `F` as lengths) and `parameters()` returns them as given; assigning one re-derives
    the transform. Derived values are properties: `pad_left`, `pad_right`, `N_padded`, `ind_start`, `ind_end`, `log2_T`,
    `log2_stride`, `average` ('local', 'global' or False), `log2_F`, `log2_stride_fr`,
    `average_fr`, `N_padded_fr`, `frequency_rows`, and the filters `phi_f`, `psi1_f`, `psi2_f`
    (as Scattering1D's) and `filters_fr` (Kymatio's, read-only).

    `nan_policy` (scatflow's, keyword only): "propagate" (default) or "mask", as Scattering1D's:
    every coefficient (time averaging, then the frequential steps, which act sample by sample)
    divided by the low-passed valid fraction W of its time sample, NaN where W < `min_valid`.
    T=0 refuses "mask" (no low-pass to divide by).
    """

    max_order = 2
    core_class = TimeFrequencyScatteringCore
    normalised_attributes = ("Q", "Q_fr", "T", "F")

    def __init__(self, J, J_fr, Q, shape, T=None, stride=None, Q_fr=1, F=None, stride_fr=None,
                 out_type="array", format="time", backend=None, *, nan_policy="propagate",
                 min_valid=0.5, padding_mode="reflect"):
        self._setup(J=J, J_fr=J_fr, Q=Q, shape=shape, T=T, stride=stride, Q_fr=Q_fr, F=F,
                    stride_fr=stride_fr, out_type=out_type, format=format, backend=backend,
                    nan_policy=nan_policy, min_valid=min_valid, padding_mode=padding_mode)

    @classmethod
    def check_parameters(cls, *, J, J_fr, Q, shape=None, T=None, stride=None, Q_fr=1, F=None,
                         stride_fr=None, out_type="array", format="time", backend=None,
                         nan_policy="propagate", min_valid=0.5, padding_mode="reflect"):
        """Check every parameter, raising ValueError/TypeError that names it. Without `shape`,
        only what does not depend on the signal length (returns None); with it, returns the
        keyword arguments of `TimeFrequencyScatteringCore`."""
        J = check_int("J", J, minimum=0, maximum=MAX_J)
        J_fr = check_int("J_fr", J_fr, minimum=0)
        Q1, Q2 = _check_Q(Q)
        Q_fr = _check_Q_fr(Q_fr)
        out_type = check_choice("out_type", out_type, OUT_TYPES)
        format = check_choice("format", format, FORMATS)
        (padding_mode,) = check_padding_mode(padding_mode)
        average, T_value = _check_T_without_length(T)
        T_value = 2**J if T_value is None else T_value
        log2_stride = Scattering1DBase._check_stride(stride, average, T_value.bit_length() - 1,
                                                     0, None)
        average_fr, F_value = _check_F(F, J, Q1)
        F_value = 2**J_fr if F_value is None else F_value
        log2_stride_fr = _check_stride_fr(stride_fr, average_fr, F_value.bit_length() - 1)
        check_nan_policy(nan_policy, min_valid, refusal=None if average is not False else (
            "T=0 leaves the coefficients unaveraged in time, with no low-pass to divide by"))
        if average is False and out_type == "array":
            raise ValueError("out_type='array' needs coefficients of one length; with T=0 use "
                             "out_type='list' or 'dict'")
        if average_fr is False and format == "joint" and out_type == "array":
            raise ValueError("format='joint' with out_type='array' needs frequency averaging; "
                             "with F=0 use format='time', or out_type='list' or 'dict'")
        if shape is None:
            return None
        (N,) = check_shape(shape, 1)
        if N < 2:
            raise ValueError(f"shape must be at least (2,) (a signal of 2 samples); got {shape!r}")
        _check_T(T, N)
        return dict(J=J, J_fr=J_fr, shape=(N,), Q=(Q1, Q2), T=T_value, average=average,
                    log2_stride=log2_stride, Q_fr=Q_fr, F=F_value, average_fr=average_fr,
                    log2_stride_fr=log2_stride_fr, format=format,
                    stacked=format == "time" or out_type == "array", padding_mode=padding_mode)

    @classmethod
    def kymatio_attributes(cls, *, J, J_fr, Q, T=None, F=None, Q_fr=1, **params):
        """Kymatio main's values of `Q` ((Q1, Q2)), `Q_fr` ((Q_fr,)), `T` and `F` (the low-pass
        widths: 2**J and 2**J_fr for None, 0 and 'global')."""
        Q1, Q2 = _check_Q(Q)
        _, T_value = _check_T_without_length(T)
        _, F_value = _check_F(F, J, Q1)
        return {"Q": (Q1, Q2), "Q_fr": (_check_Q_fr(Q_fr),),
                "T": 2**J if T_value is None else T_value,
                "F": 2**J_fr if F_value is None else F_value}

    def _check_input(self, x, backend):
        """The core is planned, in joint format, for either one array or per-path outputs (whose
        rows Kymatio cuts): an `out_type` assigned since across that line (checked, like every
        `out_type`, at the call) re-derives the transform here."""
        check_choice("out_type", self.out_type, OUT_TYPES)
        if self.core.stacked != (self.core.format == "time" or self.out_type == "array"):
            self._setup(**self._arguments)
        return super()._check_input(x, backend)

    # -- derived values (Kymatio's attribute names) ---------------------------------------------
    pad_left = property(lambda self: self.core.pad_left, doc="Padding before the signal.")
    pad_right = property(lambda self: self.core.pad_right, doc="Padding after it.")
    N_padded = property(lambda self: self.core.N_padded, doc="Padded length (a power of two).")
    ind_start = property(lambda self: dict(enumerate(self.core.ind_start)))
    ind_end = property(lambda self: dict(enumerate(self.core.ind_end)))
    log2_T = property(lambda self: self.core.log2_T, doc="floor(log2(T)).")
    average = property(lambda self: self.core.average, doc="'local', 'global' or False (T=0).")
    average_fr = property(lambda self: self.core.average_fr,
                          doc="'local', 'global' or False (F=0).")
    log2_F = property(lambda self: self.core.log2_F, doc="floor(log2(F)).")
    N_padded_fr = property(lambda self: self.core.N_fr,
                           doc="Length of the zero-padded n1 axis (Kymatio's _N_padded_fr).")
    frequency_rows = property(lambda self: self.core.frequency_rows,
                              doc="Joint array: the n1 of each frequency row, -1 for padding.")
    phi_f, psi1_f, psi2_f = Scattering1DBase.phi_f, Scattering1DBase.psi1_f, Scattering1DBase.psi2_f

    @property
    def log2_stride(self):
        """log2 of the output stride (local averaging; None otherwise)."""
        return self.core.log2_stride if self.core.average == "local" else None

    @property
    def log2_stride_fr(self):
        """log2 of the frequency stride (local frequency averaging; None otherwise)."""
        return self.core.log2_stride_fr if self.core.average_fr == "local" else None

    @property
    def filters_fr(self):
        """Kymatio's `(phi_F, psis)`: the low-pass of width F (`levels` 0..log2_F, summed
        periodizations) and, per n_fr, the frequential filter (`levels` [Fourier], xi, sigma,
        j): n_fr = 0 the low-pass of width 2**J_fr, then spin +1, then spin -1."""
        c = self.core
        psi, phi_F = frequency_bank(c.N_fr, c.J_fr, c.Q_fr, c.F)
        phi = {"levels": [periodize(phi_F, k) for k in range(c.log2_F + 1)], "xi": 0,
               "sigma": SIGMA0 / c.F, "j": c.log2_F, "N": c.N_fr}
        return phi, [{"levels": [row], "xi": xi, "sigma": sigma, "j": j}
                     for row, xi, sigma, j in zip(psi, c.xi_fr, c.sigma_fr, c.j_fr)]


def _check_Q_fr(Q_fr):
    """Q_fr as an int >= 1 (an int or a 1-tuple, as Kymatio takes it)."""
    if isinstance(Q_fr, (tuple, list)):
        if len(Q_fr) != 1:
            raise ValueError(f"Q_fr must be an int >= 1 or a 1-tuple (frequency scattering "
                             f"beyond order 2 is not implemented); got {Q_fr!r}")
        return check_int("Q_fr[0]", Q_fr[0], minimum=1)
    if isinstance(Q_fr, bool) or not isinstance(Q_fr, numbers.Integral):
        raise TypeError(f"Q_fr must be an int >= 1 or a 1-tuple; got {Q_fr!r}")
    return check_int("Q_fr", Q_fr, minimum=1)


def _check_T_without_length(T):
    """(average, T or None) as `_check_T` gives them, checking what needs no signal length
    (`_check_T` checks T <= N once the shape is known)."""
    if isinstance(T, numbers.Integral) and not isinstance(T, bool):
        if T < 0:
            raise ValueError(f"T must be None, 0, 'global' or an int in [1, N]; got {T}")
        return ("local", int(T)) if T else (False, None)
    return _check_T(T, 1)


def _check_F(F, J, Q1):
    """('local' / 'global' / False, F or None): F is like T, along the (J+1) Q1 rows that
    Kymatio budgets for the first-order filters."""
    n_input = (J + 1) * Q1
    allowed = f"None, 0, 'global' or an int in [1, (J+1)*Q1={n_input}]"
    if F is None:
        return "local", None
    if isinstance(F, str):
        if F != "global":
            raise ValueError(f"F must be {allowed}; got {F!r}")
        return "global", None
    if isinstance(F, bool) or not isinstance(F, numbers.Integral):
        raise TypeError(f"F must be {allowed}; got {F!r}")
    F = int(F)
    if F == 0:
        return False, None
    if F < 0 or F > n_input:
        raise ValueError(f"F must be {allowed} (the low-pass cannot be wider than the "
                         f"frequency axis; use F='global'); got {F}")
    return "local", F


def _check_stride_fr(stride_fr, average_fr, log2_F):
    """log2 of the frequency stride for local frequency averaging, else None."""
    if stride_fr is None:
        return log2_F if average_fr == "local" else None
    if isinstance(stride_fr, bool) or not isinstance(stride_fr, numbers.Integral):
        raise TypeError(f"stride_fr must be None or a power of two int; got {stride_fr!r}")
    stride_fr = int(stride_fr)
    if stride_fr < 1 or stride_fr & (stride_fr - 1):
        raise ValueError(f"stride_fr must be a power of two >= 1; got {stride_fr}")
    if average_fr != "local":
        which = "F='global'" if average_fr == "global" else "F=0 (no frequency averaging)"
        raise ValueError(f"stride_fr must be None with {which}; got stride_fr={stride_fr}")
    if stride_fr > 2**log2_F:
        raise ValueError(f"stride_fr must be a power of two <= 2**floor(log2(F)) = {2**log2_F}; "
                         f"got {stride_fr}")
    return stride_fr.bit_length() - 1
