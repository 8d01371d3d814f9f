"""2D Morlet scattering (Kymatio 0.3.0 / ScatNet numbers), written once against a backend.

Filters of one scale are applied together: one broadcast product, one periodization and one
inverse FFT for all L orientations (and, at second order, for all L x L orientation pairs of
a scale pair), so the Python loop runs over scales only. The low-pass is separable and applied
in space as two small matrix products (`lowpass_matrices_2d`), so the second-order moduli are
never transformed back to Fourier.

With `average=False` the moduli themselves are the output, as 1D's `T=0` gives them: order 0 the
input, U1 of (j1, theta1) at resolution 2^-j1 and U2 of (j1, theta1, j2, theta2) at 2^-j2, each
cut to the samples that fall inside the image (`map_grid`).
"""

from ..filters.morlet1d import compute_border_indices
from ..filters.morlet2d import (filter_bank_2d, lowpass_matrices_2d, wavelet_blocks_2d,
                                 wavelet_frequency)
from ..tuning import setting
from . import planning_batch
from .padding import check_periodic_size
from .paths import OutputAxis, Path


def padded_size(n, J):
    """Kymatio's padded length: the next multiple of 2^J strictly above n, plus 2^J."""
    return ((n + 2**J) // 2**J + 1) * 2**J


class Scattering2DCore:
    """Kymatio's 2D scattering. `padding_modes`: one mode of `scatflow.core.padding` per axis
    (rows, columns); a periodic axis is not padded and its output samples are input samples
    0, 2**J, 2 * 2**J, ... (the others lose one output sample at each border, as Kymatio's)."""

    ndim = 2
    key_fields = ("j", "theta")  # the path fields that identify a path (its key)

    def __init__(self, J, shape, L=8, max_order=2, pre_pad=False, filter_levels="kymatio",
                 average=True, padding_modes=("reflect", "reflect")):
        self.J, self.shape, self.L, self.max_order, self.pre_pad = J, tuple(shape), L, max_order, pre_pad
        self.filter_levels, self.average = filter_levels, average
        self.padding_modes = tuple(padding_modes)
        self.periodic = tuple(mode == "periodic" for mode in self.padding_modes)
        for axis, (n, periodic) in enumerate(zip(self.shape, self.periodic)):
            if periodic:
                check_periodic_size(f"shape[{axis}]", n, 2**J, f"2**J, the output step, J={J}")
        self.padded_shape = tuple(n if periodic else padded_size(n, J)
                                  for n, periodic in zip(self.shape, self.periodic))
        self.pads = tuple(((p - n) // 2, (p - n + 1) // 2) for p, n in zip(self.padded_shape, self.shape))
        self.input_shape = self.padded_shape if pre_pad else self.shape
        self.coefficient_shape = tuple(n // 2**J for n in self.shape)
        self.paths = tuple(self._enumerate_paths())
        self.array_shape = (len(self.paths),) + self.coefficient_shape
        # (input index of output sample 0, step) per axis: output k is padded sample (k + 1) 2^J
        # (the low-pass output loses one sample at each border); pre_pad input is padded already
        self.output_grid = tuple((0 if periodic else 2**J - (0 if pre_pad else before), 2**J)
                                 for (before, _), periodic in zip(self.pads, self.periodic))
        self.output_axes = (OutputAxis("path"), OutputAxis("signal", index=0, letter="y"),
                            OutputAxis("signal", index=1, letter="x"))
        # chunk-wise results (scatflow.dask's chunking="halo") equal whole-image ones only where
        # the coarse filters are sampled in space
        self.halo_inexact = None if filter_levels == "local" else (
            "Kymatio's 2D filter levels (filter_levels='kymatio') are cut to the band of each "
            "resolution, which gives them tails across the whole image: chunks match the "
            "whole-image transform to a few 1e-4 of each channel's maximum, not exactly; "
            "filter_levels='local' makes them exact")
        # per axis, where the image lies at each resolution 2^-r, r = 0..J (padded indices)
        self._borders = [compute_border_indices(J, before, before + n)
                         for (before, _), n in zip(self.pads, self.shape)]
        if not average:  # maps of a resolution per path: no common array, grid or output axes
            self.coefficient_shape = self.array_shape = self.output_grid = self.output_axes = None
        self._index = {p.key: i for i, p in enumerate(self.paths)}
        self._blocks = None

    def _enumerate_paths(self):
        """Kymatio's order; unaveraged paths also say their map's `decimation`, 2^j of the last
        wavelet (1 at order 0)."""
        J, L = self.J, self.L

        def path(order, key, j, theta):
            fields = {"j": j, "theta": theta}
            if not self.average:
                fields["decimation"] = 2 ** (j[-1] if j else 0)
            return Path(order, key, fields)

        yield path(0, (), (), ())
        for j1 in range(J):
            for t1 in range(L):
                yield path(1, (j1, t1), (j1,), (t1,))
        if self.max_order < 2:
            return
        for j1 in range(J):
            for t1 in range(L):
                for j2 in range(j1 + 1, J):
                    for t2 in range(L):
                        yield path(2, (j1, t1, j2, t2), (j1, j2), (t1, t2))

    def map_grid(self, j):
        """Per image axis, (offset, step, length) of an unaveraged map at resolution 2^-j:
        its sample k stands for image sample offset + k * step (step = 2^j; indices of the
        unpadded image, also with `pre_pad`, whose input is padded already). The samples are
        those of the padded grid decimated by 2^j that fall inside the image (the first index
        rounded up, as 1D's `compute_border_indices` unpads)."""
        return tuple((start[j] * 2**j - before, 2**j, end[j] - start[j])
                     for (start, end), (before, _) in zip(self._borders, self.pads))

    def _unpad(self, U, j):
        """The map U at resolution 2^-j (padded grid) cut to `map_grid(j)`."""
        (rows_start, rows_end), (cols_start, cols_end) = self._borders
        return U[..., rows_start[j]:rows_end[j], cols_start[j]:cols_end[j]]

    def centre_frequencies(self, path):
        """The centre frequency vectors of the path's wavelets, one per order, in cycles per
        sample along (rows, columns): what physical wavelengths (the xarray layer's) read."""
        return tuple(wavelet_frequency(j, theta, self.L)
                     for j, theta in zip(path.fields["j"], path.fields["theta"]))

    def fourier_filters(self):
        """Kymatio's Fourier-domain bank: (phi levels, psi levels), see `filter_bank_2d`."""
        return filter_bank_2d(*self.padded_shape, self.J, self.L, self.filter_levels)

    def halo_filters(self):
        """The Fourier filters whose spatial supports, added up, are what an output sample
        depends on: the low-pass and the widest wavelet once per order."""
        phi, psi = self.fourier_filters()
        return [phi[0]] + ([psi[-1][0]] * self.max_order if psi else [])

    def filters(self):
        """What the forward uses: the wavelets in Fourier and the low-pass as matrices. Also
        finds the blocks of each periodization that are not negligible (`_blocks`)."""
        self._wavelet_blocks()
        return {"psi": self.fourier_filters()[1],
                "lowpass": lowpass_matrices_2d(*self.padded_shape, self.J, self.filter_levels,
                                                self.periodic)}

    def _wavelet_blocks(self):
        """`wavelet_blocks_2d` of this transform, kept on the core: plain Python that the
        filters (which frameworks convert, and rebuild at every call) need not carry, and that
        a compiler tracing the forward reads as constants."""
        if self._blocks is None:
            self._blocks = wavelet_blocks_2d(*self.padded_shape, self.J, self.L, self.filter_levels)
        return self._blocks

    def __call__(self, x, backend, filters, zeroth_only=False):
        psi, lowpass_matrices = filters["psi"], filters["lowpass"]
        blocks = self._wavelet_blocks()
        J, L = self.J, self.L
        out = [None] * len(self.paths)

        def coefficients(U, res):
            """Average the real image U (resolution 2^-res) with phi, decimate to 2^-J, crop
            the border; unaveraged: U cut to the image."""
            if not self.average:
                return self._unpad(U, res)
            rows, cols = lowpass_matrices[res]
            return backend.matmul(rows, backend.matmul(U, cols))

        def wavelet_modulus(U_hat, j, r, angles=slice(None)):
            """|U * psi[j][r]|, decimated by 2^(j - r), in space."""
            product = backend.multiply_periodize(U_hat, psi[j][r][angles], 2 ** (j - r), 2,
                                                 blocks[j][r])
            return backend.modulus(backend.ifft(product, 2, overwrite=True))

        U0 = x if self.pre_pad else self._pad(backend, x)
        out[0] = coefficients(U0, 0)
        if J == 0 or zeroth_only:
            return out[:1]
        X = backend.fft(U0, 2)
        X = backend.reshape(X, (X.shape[0], 1) + tuple(X.shape[1:]))
        working_bytes = setting(backend, "SCATTERING2D_WORKING_BYTES")
        for j1 in range(J):
            for angles in _angle_groups(planning_batch(x), L, L if self.max_order > 1 else 1,
                                        X.shape[-2:], j1, working_bytes):
                U1 = wavelet_modulus(X, j1, 0, angles)  # (B, a, m, n)
                S1 = coefficients(U1, j1)
                for a, t1 in enumerate(range(angles.start, angles.stop)):
                    out[self._index[(j1, t1)]] = S1[:, a]
                if self.max_order < 2 or j1 == J - 1:
                    continue
                U1_hat = backend.fft(U1, 2)
                U1_hat = backend.reshape(U1_hat, tuple(U1_hat.shape[:2]) + (1,) + tuple(U1_hat.shape[2:]))
                for j2 in range(j1 + 1, J):
                    U2 = wavelet_modulus(U1_hat, j2, j1)  # (B, a, L, ...)
                    S2 = coefficients(U2, j2)
                    for a, t1 in enumerate(range(angles.start, angles.stop)):
                        for t2 in range(L):
                            out[self._index[(j1, t1, j2, t2)]] = S2[:, a, t2]
        return out

    def _pad(self, backend, x):
        """x padded as `padding_modes` say: both axes in one call where they share a mode."""
        first, second = self.padding_modes
        if first == second:
            return x if first == "periodic" else backend.pad(x, self.pads, first)
        if first != "periodic":
            x = backend.pad(x, [self.pads[0], (0, 0)], first)
        return x if second == "periodic" else backend.pad(x, [self.pads[1]], second)


def _angle_groups(batch, L, fan_out, padded_shape, j1, working_bytes):
    """Slices of first-order angles small enough that the first-order product (full resolution)
    and the second-order one (`fan_out` angles at resolution 2^-j1) stay under `working_bytes`."""
    full = padded_shape[0] * padded_shape[1]
    per_angle = batch * 16 * max(full, fan_out * full // 4**j1)
    size = max(1, min(L, working_bytes // per_angle))
    return [slice(s, min(s + size, L)) for s in range(0, L, size)]
