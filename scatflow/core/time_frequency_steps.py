"""The steps of joint time-frequency scattering after time scattering, for one call of
`TimeFrequencyScatteringCore`: the frequency scattering of an input (S1, or Y2 of a block of
n2) as products along n1, the modulus, the F low-pass (a product too), then at second order the
T low-pass in time (after the F low-pass: both are linear, and it leaves fewer rows), and the
slicing of the result into the outputs of the input's paths.

The products run on groups of signals and slices of time (TIME_FREQUENCY_STEP_BYTES of
complex rows at a time, `scatflow.tuning`), and with local averaging only on the samples the T
low-pass carries to an output sample (`needed_samples`): the rest are zeros to PRUNE_EPS.
"""

from ..tuning import setting
from .scattering1d import filter_fold, support_span, total_over_time


class FrequencyScatteringSteps:
    """The steps after time scattering, for one call: the frequency scattering of an input
    (products along n1, modulus, F low-pass), the T low-pass in time, the outputs' slicing."""

    def __init__(self, core, backend, filters, itemsize):
        self.core, self.backend, self.itemsize = core, backend, itemsize
        self.phi, self.operators = filters["phi"], filters["frequency"]
        self.phi_support = support_span(filters["support"]["phi"], 0, 1)

    def lowpass(self, U_hat, level, factor, res):
        """Re ifft of (U_hat * phi) decimated by `factor` (from half the spectrum), unpadded at
        resolution `res` (None: kept padded)."""
        Y = filter_fold(self.backend, U_hat, self.phi[level], self.phi_support, factor)
        m = Y.shape[-1]
        S = self.backend.irfft(Y[..., : m // 2 + 1], (m,))
        return S if res is None else self.core.unpad(S, res)

    def frequency(self, X, item, r2, out, index):
        """Scatter X `(B, [n2s,] n1_max, time)` along n1 (S1 if r2 is None, else Y2 at
        resolution r2), average, and write its paths' outputs from `out[index]` on; returns
        the next index."""
        backend, core = self.backend, self.core
        op = self.operators[item.operator]
        scatter, averages, slices = op["scatter"], op["average"], op["slices"]
        real = r2 is None
        n_rows = slices[-1][1]
        length = X.shape[-1]
        lowpass = core.average == "local" and not real
        lo, hi = core.needed_samples(r2, length) if lowpass else (0, length)
        n2s = X.shape[1] if X.ndim == 4 else 1
        step_bytes = setting(backend, "TIME_FREQUENCY_STEP_BYTES")
        signals = setting(backend, "TIME_FREQUENCY_STEP_SIGNALS")  # per group (batch-independent)
        width = max(64, step_bytes // (self.itemsize * signals * n2s * n_rows) // 64 * 64)
        batch = X.shape[0]
        groups = ([slice(None)] if batch is None or batch <= signals else
                  [slice(b, b + signals) for b in range(0, batch, signals)])
        averaged = []
        for group in groups:
            pieces = []
            for t in range(lo, hi, width):
                # BLAS may round a row of a product differently with the number of rows (the
                # time format keeps fewer than the joint array): formats agree to rounding
                Y = backend.matmul(scatter, X[group, ..., t:min(t + width, hi)])
                if real:
                    re, im = Y[..., :n_rows, :], Y[..., n_rows:, :]
                    U = backend.sqrt(re * re + im * im)
                else:
                    U = backend.modulus(Y)
                if core.average == "global":
                    U = total_over_time(backend, U)
                pieces.append(self._average(U, averages, slices))
            if core.average == "global":
                V = pieces[0]
                for piece in pieces[1:]:
                    V = V + piece
            else:
                V = pieces[0] if len(pieces) == 1 else backend.concatenate(pieces, -1)
            averaged.append(V)
        V = averaged[0] if len(averaged) == 1 else backend.concatenate(averaged, 0)
        if lowpass:
            if (lo, hi) != (0, length):  # the samples the low-pass cannot reach: zeros
                V = backend.concatenate([backend.zeros_along(V, lo), V,
                                         backend.zeros_along(V, length - hi)], -1)
            s = core.log2_stride
            V = self.lowpass(backend.fft(V, 1), r2, 2 ** (s - r2), s)
        return self._write(V, item, out, index)

    def _average(self, U, averages, slices):
        """Per spin, its moduli's rows averaged (a matrix along the rows) or kept."""
        parts = []
        for A, (a, b) in zip(averages, slices):
            rows = U[..., a:b, :]
            parts.append(rows if A is None else self.backend.matmul(A, rows))
        return parts[0] if len(parts) == 1 else self.backend.concatenate(parts, -2)

    def _write(self, V, item, out, index):
        """Slice V `(B, [n2s,] rows, time)` into the outputs of its paths, in path order."""
        time = self.core.format == "time"
        blocks = [V] if V.ndim == 3 else [V[:, i] for i in range(V.shape[1])]
        for W in blocks:
            offset = 0
            for rows in item.rows:
                if time:
                    for r in range(rows):
                        out[index] = W[:, offset + r]
                        index += 1
                else:
                    out[index] = W[:, offset:offset + rows]
                    index += 1
                offset += rows
        return index
