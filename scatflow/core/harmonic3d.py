"""3D solid-harmonic scattering (Kymatio 0.3.0's `HarmonicScattering3D`), written once against a
backend.

For each degree l = 0..L and scale j1 = 0..J (full resolution, periodic, no padding):

    U1 = sqrt(sum_m |x * psi_{l,j1,m}|^2)     (rotation_covariant=True; m = -l..l)
    U1 = |x * psi_{l,j1,-l}|                  (rotation_covariant=False: Kymatio's filters[l][j][0])
    S1[l, j1, p] = sum over voxels of U1^p    (raw sums: no volume normalization, no p-th root)

and, with max_order=2, for j2 > j1 (same l) the same with U1 in place of x. The output is
(B, K, L+1, P): K = j paths (j1 = 0..J, then (j1, j2) pairs in lexicographic order), then l.
Order 0 is not part of it (Kymatio's tests add it by hand).

Speed: the wavelet is a real radial factor (l, j) times a complex angular factor (l, m), so one
group costs one broadcast product X * radial for its rows (j, or (j1, j2) pairs), one product
with the 2l+1 angular factors and one inverse FFT call for all of them. Groups hold about
`group_bytes` (4 MB: as fast as 16 MB and faster than bigger groups with NumPy, whose fresh large
arrays page-fault while small ones reuse freed heap memory, and 30-40% less peak memory; rows, then
orders m, are split to fit) and
a batch chunk keeps at most about `working_bytes` (256 MB) per array. Degree l = 0 and
rotation_covariant=False apply a single filter: a plain modulus, never a square root.

Real-input FFTs do not pay here: psi_{l,j,m} is not Hermitian, so x * psi is complex, and the
pairing |x * psi_{-m}| = |x * psi_m| (real x) that would halve the inverse FFTs fails on the
Nyquist planes of Kymatio's grid (their frequency is -pi on both sides); the exact correction
needs full-volume cross terms per row that cost about what the saved FFTs do.
"""

import math

from ..filters.harmonic3d import harmonic_filters
from . import planning_batch
from .paths import Path

WORKING_BYTES = 2**28  # cap on the arrays one batch chunk keeps (bytes, counted as complex128)
GROUP_BYTES = 2**22  # target size of one filter group's product / inverse FFT (see above)


class HarmonicScattering3DCore:
    ndim = 3

    def __init__(self, J, shape, L=3, sigma_0=1.0, max_order=2, rotation_covariant=True,
                 integral_powers=(0.5, 1.0, 2.0), working_bytes=WORKING_BYTES,
                 group_bytes=GROUP_BYTES):
        self.J, self.L, self.sigma_0 = J, L, float(sigma_0)
        self.shape = tuple(int(n) for n in shape)
        self.max_order, self.rotation_covariant = max_order, bool(rotation_covariant)
        self.integral_powers = tuple(float(p) for p in integral_powers)
        self.working_bytes, self.group_bytes = working_bytes, group_bytes
        self.input_shape = self.shape
        self.pairs = ([(j1, j2) for j1 in range(J + 1) for j2 in range(j1 + 1, J + 1)]
                      if max_order >= 2 else [])
        self.paths = tuple(self._enumerate_paths())
        self.array_shape = (J + 1 + len(self.pairs), L + 1, len(self.integral_powers))
        self.output_grid = None  # integrals over the whole volume: no output positions
        self._pair_index = {pair: i for i, pair in enumerate(self.pairs)}

    def _enumerate_paths(self):
        """Kymatio's flattened (K, L+1) order: j paths outer, degree l inner."""
        for j1 in range(self.J + 1):
            for l in range(self.L + 1):
                yield Path(1, (l, j1), {"l": l, "j": (j1,)})
        for j1, j2 in self.pairs:
            for l in range(self.L + 1):
                yield Path(2, (l, j1, j2), {"l": l, "j": (j1, j2)})

    def filters(self):
        """{'radial': (L+1, J+1, M, N, O) real, 'angular': per l (2l+1 or 1, M, N, O)}."""
        bank = harmonic_filters(self.shape, self.J, self.L, self.sigma_0)
        angular = bank["angular"]
        if not self.rotation_covariant:  # Kymatio keeps m = -l only
            angular = tuple(a[:1] for a in angular)
        return {"radial": bank["radial"], "angular": angular}

    # -- the transform -----------------------------------------------------------------------
    def __call__(self, x, backend, filters):
        J, L = self.J, self.L
        batch = planning_batch(x)
        volume = 16 * math.prod(self.shape)
        chunk = max(1, min(batch, self.working_bytes // (volume * (J + 1))))
        budget = max(1, min(self.working_bytes, self.group_bytes) // volume)  # volumes per group
        parts = []  # per batch chunk: per l, (S1 (b, J+1, P), S2 (b, pairs, P) or None)
        for start in range(0, batch, chunk):
            xb = x if chunk >= batch else x[start:start + chunk]
            parts.append(self._chunk(xb, backend, filters, budget))

        def gather(l, order):
            arrays = [part[l][order] for part in parts]
            return arrays[0] if len(arrays) == 1 else backend.concatenate(arrays, axis=0)

        first = [gather(l, 0) for l in range(L + 1)]
        second = [gather(l, 1) for l in range(L + 1)] if self.pairs else None
        out = []
        for path in self.paths:
            l = path.fields["l"]
            if path.order == 1:
                out.append(first[l][:, path.fields["j"][0]])
            else:
                out.append(second[l][:, self._pair_index[path.fields["j"]]])
        return out

    def _chunk(self, x, backend, filters, budget):
        b = x.shape[0]
        X = backend.fft(x, 3)
        X = backend.reshape(X, (b, 1) + self.shape)
        radial, angular = filters["radial"], filters["angular"]
        j1s = [j1 for j1, _ in self.pairs]
        j2s = [j2 for _, j2 in self.pairs]
        join = (lambda parts: parts[0] if len(parts) == 1
                else backend.concatenate(parts, axis=1))
        results = []
        for l in range(self.L + 1):
            ang = None if l == 0 else angular[l]
            U1, S1 = [], []
            for U, E in self._moduli(backend, X, None, radial[l], range(self.J + 1), ang, budget):
                U1.append(U)
                S1.append(self._integrals(backend, U, E))
            S2 = None
            if self.pairs:
                U1_hat = backend.fft(join(U1)[:, : self.J], 3)  # j1 = J has no j2 > j1
                S2 = join([self._integrals(backend, U, E) for U, E in
                           self._moduli(backend, U1_hat, j1s, radial[l], j2s, ang, budget)])
            results.append((join(S1), S2))
        return results

    def _moduli(self, backend, spectra, spectrum_rows, radial, radial_rows, angular, budget):
        """Row r: the modulus of spectra[:, spectrum_rows[r]] * radial[radial_rows[r]] * angular,
        pooled over the angular orders m (`spectrum_rows=None` broadcasts spectra (b, 1, ...)).

        Yields, per group of consecutive rows, (U, E): U (b, rows, M, N, O) and the energy
        E = sum_m |.|^2, or E = None when one filter is applied (U is then a plain modulus)."""
        b, planned = spectra.shape[0], planning_batch(spectra)
        n_m = 1 if angular is None else angular.shape[0]
        rows_per_group = max(1, budget // (planned * n_m))
        m_per_group = n_m if planned * n_m <= budget else max(1, budget // planned)
        radial_rows = list(radial_rows)
        for r0 in range(0, len(radial_rows), rows_per_group):
            rows = range(r0, min(len(radial_rows), r0 + rows_per_group))
            spec = spectra if spectrum_rows is None else backend.take(
                spectra, [spectrum_rows[r] for r in rows], axis=1)
            wanted = [radial_rows[r] for r in rows]
            rad = (radial[wanted[0]:wanted[-1] + 1] if _is_range(wanted)
                   else backend.take(radial, wanted, axis=0))
            A = spec * rad  # (b, g, M, N, O)
            if n_m == 1:
                if angular is not None:
                    A = A * angular[0]
                yield backend.modulus(backend.ifft(A, 3, overwrite=True)), None
                continue
            A = backend.reshape(A, (b, len(rows), 1) + self.shape)
            E = None
            for m0 in range(0, n_m, m_per_group):
                z = backend.ifft(A * angular[m0:m0 + m_per_group], 3, overwrite=True)  # (b, g, m, M, N, O)
                e = backend.sum(backend.modulus_squared(z), axes=2)
                E = e if E is None else E + e
            yield backend.sqrt(E), E

    def _integrals(self, backend, U, E):
        """(b, R, P): sum over the voxels of U^p for each p (U^2 read from the energy E)."""
        axes = (-3, -2, -1)
        sums = []
        for p in self.integral_powers:
            if p == 2.0 and E is not None:
                V = E
            elif p == 1.0:
                V = U
            else:
                V = backend.power(U, p)
            sums.append(backend.sum(V, axes))
        return backend.stack(sums, axis=-1)


def _is_range(indices):
    return all(b == a + 1 for a, b in zip(indices, indices[1:]))
