"""1D Morlet scattering (Kymatio's algorithm and numbers), written once against a backend.

The decimation of every path is planned once at construction. At run time the first-order
wavelets that share a decimation k1 are applied together (one broadcast product, one
periodization, one inverse FFT and one modulus for the group), and so are the second-order
paths that share (k1, k2): all pairs (n1, n2) of a block in one `(B, n1s, n2s, M)` array;
small second-order spectra of one decimation are then gathered across groups for their inverse
FFT, modulus and low-pass (`_SecondOrderSteps`).
Products with a band-limited filter skip the blocks of the spectrum where the filter is
negligible (`filter_fold`), which makes the narrow low-frequency wavelets and the low-pass cheap.

Numbers: Kymatio's main branch by default (filter levels summed, #984). With
`kymatio_compat="0.3"` the decimations follow Kymatio 0.3.0 (its `oversampling` formulas) and the
coefficients are scaled as its mean-reduced filter levels scale them: S1 by 2^-k1, S2 (and U2
when T=0) by 2^-(2 k1 + k2) (2^-k1), exact powers of two.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from functools import partial

from ..filters.morlet1d import compute_border_indices, compute_padding, filter_bank_1d
from ..filters.morlet1d_design import filter_params
from ..tuning import setting
from . import planning_batch
from .padding import check_periodic_size
from .paths import OutputAxis, Path


@dataclass
class _Block:
    """Second-order paths (n1, n2), n1 in [n1_start of the group, n1_stop), n2 in [start, stop)."""

    start: int
    stop: int
    n1_stop: int
    k2: int
    ext: int  # decimation of the low-pass after U2 (local averaging)
    res: int  # resolution at which the output is unpadded
    scale: float


@dataclass
class _Group:
    """First-order wavelets n1 in [start, stop) decimated by 2^k1."""

    start: int
    stop: int
    k1: int
    ext: int
    res: int
    scale: float
    blocks: list = field(default_factory=list)


class Scattering1DCore:
    """Kymatio's 1D scattering.

    Parameters (already validated by the frontend): `J`, `shape` (1-tuple), `Q` (Q1, Q2), `T`
    (int: the low-pass width, 2**J when the user gave None, 0 or 'global'), `average` ('local',
    'global' or False), `log2_stride` (main semantics, local averaging only), `oversampling`
    (0.3.0 semantics, used with `kymatio_compat="0.3"` or T=0), `max_order`, `kymatio_compat`,
    `padding_mode` (`scatflow.core.padding`).
    """

    ndim = 1
    key_fields = ("n",)  # the path fields that identify a path (its key)

    def __init__(self, J, shape, Q=(1, 1), T=None, average="local", log2_stride=None,
                 oversampling=0, max_order=2, kymatio_compat=None, padding_mode="reflect"):
        self.J, self.Q, self.max_order = J, tuple(Q), max_order
        self.padding_mode = padding_mode
        self.padding_modes = (padding_mode,)
        self.shape = tuple(shape)
        (N,) = self.shape
        self.T = 2**J if T is None else T
        self.log2_T = self.T.bit_length() - 1
        self.average = average
        self.oversampling = oversampling
        self.kymatio_compat = kymatio_compat
        self.log2_stride = self.log2_T if log2_stride is None else log2_stride
        self.N_padded, self.pad_left, self.pad_right = (
            (N, 0, 0) if padding_mode == "periodic" else compute_padding(N, self.T))
        self.input_shape = self.shape
        self.padded_shape = (self.N_padded,)

        params = {"kymatio_compat": kymatio_compat}
        self.xi1, self.sigma1, self.j1 = filter_params(J, self.Q[0], **params)
        self.xi2, self.sigma2, self.j2 = (filter_params(J, self.Q[1], **params) if max_order > 1
                                          else ((), (), ()))
        self._plan()
        if padding_mode == "periodic":
            check_periodic_size("the signal length (shape[0])", N, 2**self._max_res,
                                f"2**{self._max_res}, the coarsest decimation of J={J}, T={self.T}")
        log2_pad = self.N_padded.bit_length() - 1
        self.ind_start, self.ind_end = compute_border_indices(
            max(self.log2_T, J, self._max_res), self.pad_left, self.pad_left + N)
        if self._max_res > log2_pad or any(self._length(r) < 1 for r in self._resolutions):
            raise ValueError(
                f"J={J} (with T={self.T}) is too large for shape=({N},): it needs a decimation by "
                f"2**{self._max_res} of a signal padded to {self.N_padded} samples, which leaves no "
                f"output sample; use a smaller J (or T)")
        self.paths = tuple(self._enumerate_paths())
        self._index = {p.key: i for i, p in enumerate(self.paths)}
        self.output_grid = None  # (input index of output sample 0, step) per signal axis
        self.output_axes = None
        self.halo_inexact = None  # chunk-wise (halo) results equal whole-signal ones
        if average == "local":
            self.array_shape = (len(self.paths), self._length(self.output_resolution))
            r = self.output_resolution
            self.output_grid = ((self.ind_start[r] * 2**r - self.pad_left, 2**r),)
            self.output_axes = (OutputAxis("path"), OutputAxis("signal", index=0, letter="t"))
        elif average == "global":
            self.array_shape = (len(self.paths), 1)
            self.output_axes = (OutputAxis("path"), OutputAxis("single"))
        else:
            self.array_shape = None

    # -- planning ----------------------------------------------------------------------------
    def _first(self, j1):
        """(k1, ext, res) of a first-order path: U1 is decimated by 2^k1, the low-pass then by
        2^ext, and the output is unpadded at resolution res."""
        o, L, s = self.oversampling, self.log2_T, self.log2_stride
        if self.average != "local":  # T=0 or global: U1 at 2^-j1 (less `oversampling` octaves)
            k1 = max(j1 - o, 0)
            return k1, 0, k1
        if self.kymatio_compat is None:  # Kymatio main: everything at the stride
            k1 = min(j1, s)
            return k1, s - k1, s
        k1 = max(min(j1, L) - o, 0)  # Kymatio 0.3.0
        ext = max(L - k1 - o, 0)
        return k1, ext, k1 + ext

    def _second(self, k1, j2):
        """(k2, ext, res) of a second-order path under a first-order path decimated by 2^k1."""
        o, L, s = self.oversampling, self.log2_T, self.log2_stride
        if self.average != "local":
            k2 = max(j2 - k1 - o, 0)
            return k2, 0, k1 + k2
        if self.kymatio_compat is None:
            k2 = max(min(j2, s) - k1, 0)
            return k2, s - k1 - k2, s
        k2 = max(min(j2, L) - k1 - o, 0)
        ext = max(L - k1 - k2 - o, 0)
        return k2, ext, k1 + k2 + ext

    def _plan(self):
        """Group the paths by decimation; find the resolutions, filter levels and scales used."""
        compat, local = self.kymatio_compat is not None, self.average == "local"
        if any(a > b for a, b in zip(self.j1, self.j1[1:])) or any(
                a > b for a, b in zip(self.j2, self.j2[1:])):
            raise AssertionError("filter subsampling indices must be non-decreasing in n")
        self.output_resolution = 0  # log2 of the output stride (local averaging)
        if local:
            self.output_resolution = (max(self.log2_T - self.oversampling, 0) if compat
                                      else self.log2_stride)
        resolutions = {self.output_resolution}
        self.groups = []
        for n1, j1 in enumerate(self.j1):
            k1, ext, res = self._first(j1)
            resolutions.add(res)
            if self.groups and self.groups[-1].k1 == k1:
                self.groups[-1].stop = n1 + 1
            else:
                scale = 2.0**-k1 if compat and local else 1.0
                self.groups.append(_Group(n1, n1 + 1, k1, ext, res, scale))
        for g in self.groups:
            for n2, j2 in enumerate(self.j2):
                # j1 is non-decreasing in n1: the n1 of the group with j1 < j2 are a prefix
                n1_stop = bisect_left(self.j1, j2, g.start, g.stop)
                if n1_stop == g.start:
                    continue
                k2, ext, res = self._second(g.k1, j2)
                resolutions.add(res)
                scale = 1.0
                if compat:
                    scale = 2.0 ** -(2 * g.k1 + k2) if local else 2.0**-g.k1
                last = g.blocks[-1] if g.blocks else None
                if last and last.stop == n2 and (last.n1_stop, last.k2) == (n1_stop, k2):
                    last.stop = n2 + 1
                else:
                    g.blocks.append(_Block(n2, n2 + 1, n1_stop, k2, ext, res, scale))
        self._resolutions = sorted(resolutions)
        decimations = [g.k1 for g in self.groups] + [g.k1 + b.k2 for g in self.groups for b in g.blocks]
        self._max_res = max(self._resolutions + decimations)
        self._phi_levels = 1 + (max(decimations) if local else 0)
        self._psi2_levels = 1 + max([g.k1 for g in self.groups if g.blocks] + [0])

    def _length(self, res):
        if self.average == "global":
            return 1
        return self.ind_end[res] - self.ind_start[res]

    def _enumerate_paths(self):
        yield Path(0, (), {"n": (), "j": (), "xi": (), "sigma": ()})
        for n1, (xi, sigma, j) in enumerate(zip(self.xi1, self.sigma1, self.j1)):
            yield Path(1, (n1,), {"n": (n1,), "j": (j,), "xi": (xi,), "sigma": (sigma,)})
        if self.max_order < 2:
            return
        for n1, (xi1, sigma1, j1) in enumerate(zip(self.xi1, self.sigma1, self.j1)):
            for n2, (xi2, sigma2, j2) in enumerate(zip(self.xi2, self.sigma2, self.j2)):
                if j2 > j1:
                    yield Path(2, (n1, n2), {"n": (n1, n2), "j": (j1, j2), "xi": (xi1, xi2),
                                             "sigma": (sigma1, sigma2)})

    def filters(self):
        """{'phi': levels, 'psi1': full-resolution bank, 'psi2': levels, 'support': bins}."""
        return dict(filter_bank_1d(self.N_padded, self.J, self.Q[0], self.Q[1], self.T,
                                   self.max_order, self._psi2_levels, self._phi_levels,
                                   kymatio_compat=self.kymatio_compat))

    def halo_filters(self):
        """The Fourier filters whose spatial supports, added up, are what an output sample
        depends on: the low-pass and the widest wavelet of each order."""
        bank = self.filters()
        return [bank["phi"][0], bank["psi1"]] + ([bank["psi2"][0]] if "psi2" in bank else [])

    # -- running -----------------------------------------------------------------------------
    def __call__(self, x, backend, filters, zeroth_only=False):
        phi, psi1 = filters["phi"], filters["psi1"]
        psi2 = filters.get("psi2")
        support = filters["support"]
        lowpass = partial(self._lowpass, backend, support_span(support["phi"], 0, 1))
        B = x.shape[0]
        Np = self.N_padded
        out = [None] * len(self.paths)
        local, glob = self.average == "local", self.average == "global"
        itemsize = 16 if "64" in str(x.dtype) else 8  # of the complex working arrays

        U0 = pad_signal(backend, x, self.padding_mode, (self.pad_left, self.pad_right))
        X = backend.fft(U0, 1)
        if local:
            out[0] = lowpass(X, phi[0], 2**self.output_resolution, self.output_resolution)
        elif glob:
            out[0] = total_over_time(backend, U0)
        else:
            out[0] = x
        if zeroth_only:
            return out[:1]
        X = backend.reshape(X, (B, 1, Np))
        second = _SecondOrderSteps(self, backend, lowpass, phi, out, itemsize)
        for g in self.groups:
            chunk = filters_per_step(backend, planning_batch(x), Np, itemsize)
            for a in range(g.start, g.stop, chunk):
                b = min(a + chunk, g.stop)
                U1 = filter_fold(backend, X, psi1[a:b], support_span(support["psi1"], a, b),
                                 2**g.k1)
                U1 = backend.modulus(backend.ifft(U1, 1, overwrite=True))  # (B, b - a, Np / 2^k1)
                U1_hat = backend.fft(U1, 1) if (local or g.blocks) else None
                S1 = self._averaged(backend, lowpass, phi, U1, U1_hat, g.k1, g.ext, g.res, g.scale)
                for i, n1 in enumerate(range(a, b)):
                    out[1 + n1] = S1[:, i]
                if g.blocks:
                    self._second_order(backend, g, a, b, U1_hat, psi2[g.k1], support["psi2"],
                                       second, itemsize)
        second.run()
        return out

    def _second_order(self, backend, g, a, b, U1_hat, psi2, support2, second, itemsize):
        """The products and folds of all paths (n1, n2) with n1 in [a, b) of group g, one block
        of n2 at a time; `second` runs the steps after the fold."""
        B, _, M1 = U1_hat.shape
        U1_hat = backend.reshape(U1_hat, (B, b - a, 1, M1))
        for blk in g.blocks:
            rows = min(blk.n1_stop, b) - a
            if rows <= 0:
                continue
            chunk = filters_per_step(backend, planning_batch(U1_hat) * rows, M1, itemsize)
            for c in range(blk.start, blk.stop, chunk):
                d = min(c + chunk, blk.stop)
                U2 = filter_fold(backend, U1_hat[:, :rows], psi2[c:d], support_span(support2, c, d),
                                  2**blk.k2)  # (B, rows, d - c, M1 / 2^k2)
                indices = [self._index[(n1, n2)] for n1 in range(a, a + rows) for n2 in range(c, d)]
                second.add(backend.reshape(U2, (B, len(indices), U2.shape[-1])),
                           (g.k1 + blk.k2, blk.ext, blk.res), blk.scale, indices)

    def _averaged(self, backend, lowpass, phi, U, U_hat, level, ext, res, scale):
        """The coefficients of the moduli U (decimated by 2^level; U_hat, their spectrum, for
        local averaging): low-passed and decimated by 2^ext, summed (global) or as they are
        (T=0), unpadded at resolution res and scaled."""
        if self.average == "local":
            S = lowpass(U_hat, phi[level], 2**ext, res)
        elif self.average == "global":
            S = total_over_time(backend, U)
        else:
            S = self._unpad(U, res)
        return S * scale if scale != 1.0 else S

    def _unpad(self, S, res):
        return S[..., self.ind_start[res]:self.ind_end[res]]

    def _lowpass(self, backend, support, U_hat, phi_level, factor, res):
        """Unpadded Re ifft of (U_hat * phi) decimated by `factor` (from half the spectrum)."""
        Y = filter_fold(backend, U_hat, phi_level, support, factor)
        m = Y.shape[-1]
        return self._unpad(backend.irfft(Y[..., : m // 2 + 1], (m,)), res)


class _SecondOrderSteps:
    """The steps after a second-order product and fold (inverse FFT, modulus, low-pass, scale),
    run once for all the small folded spectra of one decimation, low-pass and output resolution:
    spectra under SCATTERING1D_GATHER_BYTES (`scatflow.tuning`), from every block of every
    first-order group, wait until SCATTERING1D_WORKING_BYTES of them are pending (1D N=1024 J=8 Q=1: 7 inverse FFTs, FFTs and low-passes
    instead of 28 each); larger ones run at once."""

    def __init__(self, core, backend, lowpass, phi, out, itemsize):
        self.core, self.backend, self.lowpass, self.phi, self.out = core, backend, lowpass, phi, out
        self.itemsize = itemsize
        self.gather_bytes = setting(backend, "SCATTERING1D_GATHER_BYTES")
        self.working_bytes = setting(backend, "SCATTERING1D_WORKING_BYTES")
        self.pending = {}  # (decimation, ext, res) -> [(U2_hat (B, paths, M), scale, indices)]
        self.bytes = 0

    def add(self, U2_hat, key, scale, indices):
        """Run or queue U2_hat, the folded spectra of the paths whose outputs go to
        `out[indices]`."""
        nbytes = planning_batch(U2_hat) * len(indices) * U2_hat.shape[-1] * self.itemsize
        if nbytes >= self.gather_bytes:
            self._run(key, [(U2_hat, scale, indices)])
            return
        self.pending.setdefault(key, []).append((U2_hat, scale, indices))
        self.bytes += nbytes
        if self.bytes >= self.working_bytes:
            self.run()

    def run(self):
        """The steps for every pending spectrum, one batch per key."""
        for key, pieces in self.pending.items():
            self._run(key, pieces)
        self.pending, self.bytes = {}, 0

    def _run(self, key, pieces):
        backend = self.backend
        decimation, ext, res = key
        U2 = (pieces[0][0] if len(pieces) == 1
              else backend.concatenate([U2_hat for U2_hat, _, _ in pieces], 1))
        U2 = backend.modulus(backend.ifft(U2, 1, overwrite=True))
        U2_hat = backend.fft(U2, 1) if self.core.average == "local" else None
        S2 = self.core._averaged(backend, self.lowpass, self.phi, U2, U2_hat, decimation, ext, res,
                                 1.0)
        start = 0
        for _, scale, indices in pieces:  # the scales differ between first-order groups
            part = S2[:, start:start + len(indices)]
            start += len(indices)
            if scale != 1.0:
                part = part * scale
            for i, index in enumerate(indices):
                self.out[index] = part[:, i]


def filters_per_step(backend, count, length, itemsize):
    """How many filters one step applies to `count` spectra of `length` complex numbers of
    `itemsize` bytes: SCATTERING1D_WORKING_BYTES worth, but at least SCATTERING1D_SIMD_BYTES
    per frequency (`scatflow.tuning`)."""
    step = count * itemsize  # bytes per frequency and filter
    return max(1, setting(backend, "SCATTERING1D_WORKING_BYTES") // (step * length),
               -(-setting(backend, "SCATTERING1D_SIMD_BYTES") // step))


def total_over_time(backend, U):
    """Kymatio main's T='global': the sum over the (padded, decimated) time axis, kept as (..., 1)."""
    return backend.reshape(backend.sum(U, -1), tuple(U.shape[:-1]) + (1,))


def support_span(support, a, b):
    """(below, above) covering the supports of filters a..b-1."""
    return max(support[0][a:b]), max(support[1][a:b])


def filter_fold(backend, U_hat, filt, support, factor):
    """`periodize(U_hat * filt, factor)`: the spectrum of the filtered signal decimated by
    `factor`, i.e. the mean of the `factor` blocks of length M / factor. Only the blocks where
    `filt` is not negligible are multiplied (bins -support[0]..support[1], see
    `support_bins` and SUPPORT_EPS in `filters.morlet1d`: a folded level of a filter lives on
    the same bins modulo its length), only those bins where they fold onto distinct ones, and
    the 1 / factor of the mean (a power of two: exact) is applied to the filter, the smaller
    operand, so that the blocks are then just added."""
    M = U_hat.shape[-1]
    if factor == 1:
        return U_hat * filt
    m = M // factor
    below, above = support
    scale = 1.0 / factor
    if above + 1 + below <= m:  # the band folds onto distinct bins: its products, in place
        pieces = [U_hat[..., : above + 1] * (filt[..., : above + 1] * scale)]
        if above + 1 + below < m:
            pieces.append(backend.zeros_along(pieces[0], m - above - 1 - below))
        if below:
            pieces.append(U_hat[..., M - below:] * (filt[..., M - below:] * scale))
        return backend.concatenate(pieces, -1) if len(pieces) > 1 else pieces[0]
    n_head = -(-(above + 1) // m)
    n_tail = -(-below // m)
    if n_head + n_tail >= factor:
        n_head, n_tail = factor, 0
    Y = _fold(backend, U_hat[..., : n_head * m] * (filt[..., : n_head * m] * scale), n_head, m)
    if n_tail:
        tail = slice(M - n_tail * m, M)
        Y = Y + _fold(backend, U_hat[..., tail] * (filt[..., tail] * scale), n_tail, m)
    return Y


def _fold(backend, Y, blocks, m):
    """Sum of the `blocks` consecutive length-m blocks of the last axis."""
    if blocks == 1:
        return Y
    if blocks == 2:
        return Y[..., :m] + Y[..., m:]
    return backend.sum(backend.reshape(Y, tuple(Y.shape[:-1]) + (blocks, m)), -2)


def pad_signal(backend, x, mode, pads):
    """x padded by `pads` ((before, after)) in `mode` along its last axis (as it is when
    periodic)."""
    return x if mode == "periodic" else backend.pad(x, [pads], mode)
