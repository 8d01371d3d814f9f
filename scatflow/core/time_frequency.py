"""Joint time-frequency scattering (Kymatio main's `TimeFrequencyScattering`), written once
against a backend.

Time scattering runs width-first, as in Kymatio: the first-order wavelets of one decimation
together (`filter_fold`, shared with the 1D core), S1 = |x * psi1| * phi stacked over n1, the
spectra of U1 = |x * psi1| kept, then for each block of second-order wavelets of one scale j2
the complex Y2 = U1 * psi2 of every n1 with j1 < j2, stacked over n1. Frequency scattering
then runs along the n1 axis of S1 and of each Y2 as small matrix products
(`filters.time_frequency.frequency_operator`: zero padding to N_fr, convolution, decimation),
a modulus, the F low-pass (again a matrix), and, at second order, the T low-pass in time,
applied after the F low-pass, which has fewer rows (both are linear). The products are applied
to slices of time, so that the complex rows exist for a few thousand samples at a time.

Numbers: Kymatio main's. Where Kymatio main fails or mislabels (see `TimeFrequencyScatteringBase`
for the list), the decimations follow the 1D core's rules: U2 at 2**min(j2, log2_stride), the F
low-pass applied at the decimation reached, rows labelled with the stride they have.
"""

import math
from bisect import bisect_left
from dataclasses import dataclass

from ..filters.morlet1d import compute_border_indices, compute_padding, filter_bank_1d
from ..filters.morlet1d_design import SIGMA0, filter_params
from ..filters.time_frequency import (PRUNE_EPS, frequency_filter_params, frequency_operator,
                                      frequency_padding)
from . import planning_batch
from .padding import check_periodic_size
from .paths import OutputAxis, Path
from .scattering1d import (filter_fold, filters_per_step, pad_signal, support_span,
                           total_over_time)
from .time_frequency_steps import FrequencyScatteringSteps

NAN = float("nan")


@dataclass(frozen=True)
class _Spin:
    """One frequential filter as a path uses it: decimated by 2**k_fr, then averaged
    (`averaging`: None, ('local', log2_stride_fr) or 'global'); output rows are `stride` n1
    apart (None: one row, the global average)."""

    n_fr: int
    k_fr: int
    averaging: object
    stride: object


@dataclass
class _Input:
    """A frequency scattering input: n1 in [0, n1_max), real (S1) or complex (Y2); `rows` per
    spin; `operator`: its index in `filters()['frequency']`."""

    n1_max: int
    spins: tuple
    rows: tuple
    operator: int = 0


class TimeFrequencyScatteringCore:
    """Kymatio main's joint time-frequency scattering.

    Parameters (validated by the frontend): `J`, `J_fr`, `shape` (1-tuple), `Q` (Q1, Q2), `T`
    (the low-pass width; 2**J for T=None, 0 and 'global'), `average` ('local', 'global' or
    False), `log2_stride`, `Q_fr`, `F` (2**J_fr for F=None, 0 and 'global'), `average_fr`,
    `log2_stride_fr`, `format` ('time' or 'joint') and `stacked` (joint format: one array, so
    every path keeps its padded frequency rows and order 0 is left out, as Kymatio's
    out_type='array'; False for list/dict outputs), `padding_mode` (of the time axis,
    `scatflow.core.padding`; the n1 axis is always zero-padded, as Kymatio pads it).

    Attributes beyond the core contract: `N_fr` (the padded n1 length), `frequency_rows` (joint
    array only, else None: per frequency row the first-order filter n1 it stands for, -1 for a
    row beyond the last filter or the F='global' sum), `frequency_stride` (n1 per joint row).
    """

    ndim = 1
    key_fields = ("n", "n_fr")  # the path fields that identify a path (with its order)
    halo_inexact = None  # chunk-wise (halo) results equal whole-signal ones

    def __init__(self, J, J_fr, shape, Q=(1, 1), T=None, average="local", log2_stride=None,
                 Q_fr=1, F=None, average_fr="local", log2_stride_fr=None, format="time",
                 stacked=True, padding_mode="reflect"):
        self.padding_mode, self.padding_modes = padding_mode, (padding_mode,)
        self.J, self.J_fr, self.Q, self.Q_fr = J, J_fr, tuple(Q), Q_fr
        self.shape = tuple(shape)
        (N,) = self.shape
        self.T = 2**J if T is None else T
        self.F = 2**J_fr if F is None else F
        self.log2_T, self.log2_F = self.T.bit_length() - 1, self.F.bit_length() - 1
        self.average, self.average_fr = average, average_fr
        self.log2_stride = self.log2_T if log2_stride is None else log2_stride
        self.log2_stride_fr = self.log2_F if log2_stride_fr is None else log2_stride_fr
        self.format, self.stacked = format, stacked
        self.N_padded, self.pad_left, self.pad_right = (
            (N, 0, 0) if padding_mode == "periodic" else compute_padding(N, self.T))
        self.input_shape, self.padded_shape = self.shape, (self.N_padded,)
        self.xi1, self.sigma1, self.j1 = filter_params(J, self.Q[0])
        self.xi2, self.sigma2, self.j2 = filter_params(J, self.Q[1])
        self.xi_fr, self.sigma_fr, self.j_fr = frequency_filter_params(J_fr, Q_fr)
        self.N_fr = frequency_padding(J, self.Q[0], J_fr, self.F)
        if self.N_fr < len(self.j1):
            raise ValueError(f"J_fr={J_fr} with F={self.F} pads the {len(self.j1)} first-order "
                             f"filters to only {self.N_fr} frequency rows; use a larger J_fr or F")
        self._plan_time()
        self._plan_frequency()
        self.paths = tuple(self._enumerate_paths())
        self._set_output_shape()

    # -- planning ----------------------------------------------------------------------------
    def _plan_time(self):
        """First-order groups (n1 range, k1) and second-order blocks (n2 range of one j2)."""
        s, local = self.log2_stride, self.average == "local"
        self.groups = []  # [start, stop, k1]
        for n1, j1 in enumerate(self.j1):
            k1 = min(j1, s) if local else j1
            if self.groups and self.groups[-1][2] == k1:
                self.groups[-1][1] = n1 + 1
            else:
                self.groups.append([n1, n1 + 1, k1])
        self.blocks = []  # [start, stop, n1_max, r2]: U2 at resolution r2
        for n2, j2 in enumerate(self.j2):
            n1_max = bisect_left(self.j1, j2)
            if n1_max == 0:
                continue
            if self.blocks and self.blocks[-1][2] == n1_max and self.blocks[-1][1] == n2:
                self.blocks[-1][1] = n2 + 1
            else:
                self.blocks.append([n2, n2 + 1, n1_max, min(j2, s) if local else j2])
        k1s = [g[2] for g in self.groups]
        r2s = [b[3] for b in self.blocks]
        resolutions = [s] + (r2s if self.average is False else [])
        self._max_res = max(resolutions + k1s + r2s)
        self._phi_levels = 1 + max(k1s + (r2s if local else []))
        self._n1_second = max([b[2] for b in self.blocks] + [0])  # U1 kept for n1 below
        self._psi2_levels = 1 + max([g[2] for g in self.groups if g[0] < self._n1_second]
                                    + [0])
        if self.padding_mode == "periodic":
            check_periodic_size("the signal length (shape[0])", self.shape[0], 2**self._max_res,
                                f"2**{self._max_res}, the coarsest decimation in time of "
                                f"J={self.J}, T={self.T}")
        log2_pad = self.N_padded.bit_length() - 1
        self.ind_start, self.ind_end = compute_border_indices(
            max(self.log2_T, self.J, self._max_res), self.pad_left, self.pad_left + self.shape[0])
        if self._max_res > log2_pad or any(self._length(r) < 1 for r in resolutions):
            raise ValueError(f"J={self.J} (with T={self.T}) is too large for shape="
                             f"({self.shape[0]},): it needs a decimation by 2**{self._max_res} of "
                             f"a signal padded to {self.N_padded} samples, which leaves no output "
                             f"sample; use a smaller J (or T)")

    def _spin(self, n_fr):
        """How frequential filter n_fr is applied (Kymatio's rules; see the module docstring)."""
        s_fr, local = self.log2_stride_fr, self.average_fr == "local"
        k_fr = min(self.j_fr[n_fr], s_fr) if local else self.j_fr[n_fr]
        averaged = self.average_fr and (n_fr > 0 or self._joint_array_averages_spin0(k_fr))
        if not averaged:
            return _Spin(n_fr, k_fr, None, 2**k_fr)
        if self.average_fr == "global":
            return _Spin(n_fr, k_fr, "global", None)
        return _Spin(n_fr, k_fr, ("local", s_fr), 2**s_fr)

    def _joint_array_averages_spin0(self, k_fr):
        """The spin-0 low-pass has width 2**J_fr; in a joint array every path needs the same
        rows, so where F='global' or F > 2**J_fr it is averaged like the others."""
        joint_array = self.format == "joint" and self.stacked
        return joint_array and (self.average_fr == "global" or k_fr < self.log2_stride_fr)

    def _plan_frequency(self):
        """The frequency scattering inputs: S1 (spins >= 0) and one per distinct n1_max of Y2."""
        n_fr = len(self.xi_fr)
        up = [self._spin(i) for i in range(n_fr) if self.xi_fr[i] >= 0]
        every = [self._spin(i) for i in range(n_fr)]
        self.first_input = self._input(len(self.j1), up)
        inputs = {}
        for blk in self.blocks:
            inputs.setdefault(blk[2], self._input(blk[2], every))
        self.second_inputs = inputs
        for i, item in enumerate([self.first_input] + list(inputs.values())):
            item.operator = i

    def _input(self, n1_max, spins):
        return _Input(n1_max, tuple(spins), tuple(self._rows(n1_max, sp) for sp in spins))

    def _rows(self, n1_max, spin):
        """Output rows of one spin: time format, one per n1 in range(0, n1_max, stride); joint
        array, all of them (padded ones too); joint list/dict, 1 + n1_max // stride (Kymatio)."""
        if spin.stride is None:
            return 1
        available = self.N_fr // (2**spin.k_fr if spin.averaging is None else spin.stride)
        if self.format == "time":
            return -(-n1_max // spin.stride)
        return available if self.stacked else min(1 + n1_max // spin.stride, available)

    def _length(self, res):
        return 1 if self.average == "global" else self.ind_end[res] - self.ind_start[res]

    def _set_output_shape(self):
        s = self.log2_stride
        length = self._length(s)
        self.output_grid = None
        if self.average == "local":
            self.output_grid = ((self.ind_start[s] * 2**s - self.pad_left, 2**s),)
        self.array_shape = self.frequency_rows = self.frequency_stride = None
        self.output_axes = None
        if self.average is False:
            return
        time_axis = (OutputAxis("signal", index=0, letter="t") if self.average == "local"
                     else OutputAxis("single"))
        if self.format == "time":
            self.array_shape = (len(self.paths), length)
            self.output_axes = (OutputAxis("path"), time_axis)
        elif self.stacked:
            spin = self.first_input.spins[-1]
            rows = self.first_input.rows[-1]
            self.array_shape = (len(self.paths), rows, length)
            self.frequency_stride = spin.stride
            self.frequency_rows = (-1,) if spin.stride is None else tuple(
                r * spin.stride if r * spin.stride < len(self.j1) else -1 for r in range(rows))
            self.output_axes = (OutputAxis("path"), self._frequency_axis(), time_axis)

    def _frequency_axis(self):
        """The joint array's frequency axis: per row, the first-order filter n1 it stands for
        and its centre frequency xi1 (-1 and NaN for padding rows and a global sum)."""
        xi1 = tuple(self.xi1[n1] if n1 >= 0 else NAN for n1 in self.frequency_rows)
        where = "-1 / NaN for rows beyond the last filter or a global sum"
        return OutputAxis("named", name="frequency", letter="f", coords={
            "n1": (self.frequency_rows, {"long_name": f"first-order filter index ({where})"}),
            "xi1": (xi1, {"long_name": f"first-order centre frequency, cycles per sample "
                                       f"({where})"})})

    def halo_filters(self):
        """The Fourier filters whose spatial supports, added up, are what an output sample
        depends on along time (frequency scattering acts sample by sample): the low-pass and
        the widest wavelet of each order."""
        bank = self.filters()
        return [bank["phi"][0], bank["psi1"], bank["psi2"][0]]

    def _enumerate_paths(self):
        time = self.format == "time"
        if time or not self.stacked:
            yield Path(0, (), {"n": (), "j": (), "xi": (), "sigma": (), "n_fr": None,
                               "xi_fr": None, "sigma_fr": None, "j_fr": None, "spin": None})
        for spin, rows in zip(self.first_input.spins, self.first_input.rows):
            for n1 in self._row_n1(spin, rows):
                key = (n1, spin.n_fr) if time else (spin.n_fr,)
                yield Path(1, key, self._fields(spin, (n1,)))
        for start, stop, n1_max, _ in self.blocks:
            item = self.second_inputs[n1_max]
            for n2 in range(start, stop):
                for spin, rows in zip(item.spins, item.rows):
                    for n1 in self._row_n1(spin, rows):
                        key = (n1, n2, spin.n_fr) if time else (n2, spin.n_fr)
                        yield Path(2, key, self._fields(spin, (n1, n2)))

    def _row_n1(self, spin, rows):
        """The n1 of each output channel: one per row in time format (0 for a global
        average, as Kymatio labels it), NaN for the whole joint-format path."""
        if self.format != "time":
            return [NAN]
        return [0] if spin.stride is None else [r * spin.stride for r in range(rows)]

    def _fields(self, spin, n):
        n1 = n[0]
        known = n1 == n1  # n1 is NaN in joint format
        fields = {"n": n, "j": (self.j1[n1] if known else NAN,),
                  "xi": (self.xi1[n1] if known else NAN,),
                  "sigma": (self.sigma1[n1] if known else NAN,)}
        if len(n) == 2:
            for name, values in (("j", self.j2), ("xi", self.xi2), ("sigma", self.sigma2)):
                fields[name] += (values[n[1]],)
        i = spin.n_fr
        xi_fr = self.xi_fr[i]
        fields.update(n_fr=i, xi_fr=xi_fr, sigma_fr=self.sigma_fr[i], j_fr=self.j_fr[i],
                      spin=(xi_fr > 0) - (xi_fr < 0))
        return fields

    def filters(self):
        """The 1D bank (`phi`, `psi1`, `psi2`, `support`) and `frequency`: one
        `frequency_operator` per input (S1 first), cached by parameters."""
        bank = dict(filter_bank_1d(self.N_padded, self.J, self.Q[0], self.Q[1], self.T, 2,
                                   self._psi2_levels, self._phi_levels))
        inputs = [self.first_input] + list(self.second_inputs.values())
        bank["frequency"] = tuple(
            frequency_operator(self.N_fr, self.J_fr, self.Q_fr, self.F, item.n1_max,
                               item is self.first_input,
                               tuple((sp.n_fr, sp.k_fr, sp.averaging, rows)
                                     for sp, rows in zip(item.spins, item.rows)))
            for item in inputs)
        return bank

    # -- running -----------------------------------------------------------------------------
    def __call__(self, x, backend, filters, zeroth_only=False):
        psi1, psi2, support = filters["psi1"], filters["psi2"], filters["support"]
        steps = FrequencyScatteringSteps(self, backend, filters, 16 if "64" in str(x.dtype) else 8)
        B, Np, s = x.shape[0], self.N_padded, self.log2_stride
        out = [None] * len(self.paths)
        U0 = pad_signal(backend, x, self.padding_mode, (self.pad_left, self.pad_right))
        X = backend.fft(U0, 1)
        if self.format == "time" or not self.stacked or zeroth_only:
            if self.average == "local":
                out[0] = steps.lowpass(X, 0, 2**s, s)
            else:
                out[0] = total_over_time(backend, U0) if self.average == "global" else x
        if zeroth_only:  # order 0 alone, also where a joint array leaves it out
            return out[:1]
        X = backend.reshape(X, (B, 1, Np))
        S1, kept = [], []  # S1 per group chunk; (n1 start, k1, spectrum of U1) below _n1_second
        for start, stop, k1 in self.groups:
            chunk = filters_per_step(backend, planning_batch(x), Np, steps.itemsize)
            for a in range(start, stop, chunk):
                b = min(a + chunk, stop)
                U1 = filter_fold(backend, X, psi1[a:b], support_span(support["psi1"], a, b), 2**k1)
                U1_hat = backend.fft(backend.modulus(backend.ifft(U1, 1, overwrite=True)), 1)
                S = steps.lowpass(U1_hat, k1, 2 ** (s - k1), None)
                S1.append(S if self.average == "global" else self.unpad(S, s))
                if a < self._n1_second:
                    kept.append((a, k1, U1_hat))
        S1 = S1[0] if len(S1) == 1 else backend.concatenate(S1, 1)
        index = 1 if self.format == "time" or not self.stacked else 0
        index = steps.frequency(S1, self.first_input, None, out, index)
        for start, stop, n1_max, r2 in self.blocks:
            Y2 = self._second_order(backend, kept, psi2, support["psi2"], start, stop, n1_max, r2)
            if self.average is False:
                Y2 = self.unpad(Y2, r2)
            index = steps.frequency(Y2, self.second_inputs[n1_max], r2, out, index)
        return out

    def _second_order(self, backend, kept, psi2, support2, start, stop, n1_max, r2):
        """Y2 = U1 * psi2 at resolution r2, `(B, n2s, n1_max, time)` complex, for n2 in
        [start, stop) and every n1 below n1_max."""
        parts = []
        span = support_span(support2, start, stop)
        for a, k1, U1_hat in kept:
            rows = min(n1_max - a, U1_hat.shape[1])
            if rows <= 0:
                break
            B, _, M1 = U1_hat.shape
            U = backend.reshape(U1_hat[:, :rows], (B, 1, rows, M1))
            filt = backend.reshape(psi2[k1][start:stop], (stop - start, 1, M1))
            parts.append(backend.ifft(filter_fold(backend, U, filt, span, 2 ** (r2 - k1)), 1,
                                      overwrite=True))
        return parts[0] if len(parts) == 1 else backend.concatenate(parts, 2)

    def unpad(self, S, res):
        """S cut to the signal's samples at resolution `res` (Kymatio's unpad)."""
        return S[..., self.ind_start[res]:self.ind_end[res]]

    def needed_samples(self, res, length):
        """[lo, hi): the samples of a signal at resolution `res` (`length` samples, padded)
        whose T low-pass reaches an output sample above PRUNE_EPS of its peak (a Gaussian
        of standard deviation T / (2 pi sigma0) input samples); all where that wraps."""
        s = self.log2_stride
        reach = math.sqrt(2 * math.log(1 / PRUNE_EPS)) * self.T / (2 * math.pi * SIGMA0)
        lo = math.floor((self.ind_start[s] * 2**s - reach) / 2**res)
        hi = math.ceil(((self.ind_end[s] - 1) * 2**s + reach) / 2**res) + 1
        return (lo, hi) if lo > 0 and hi < length else (0, length)
