"""3D solid-harmonic scattering (Kymatio 0.3.0's `HarmonicScattering3D`), written once against a
backend.

For each degree l = 0..L and scale j1 = 0..J (full resolution, periodic, no padding):

    U1 = sqrt(sum_m |x * psi_{l,j1,m}|^2)     (rotation_covariant=True; m = -l..l)
    U1 = |x * psi_{l,j1,-l}|                  (rotation_covariant=False: Kymatio's filters[l][j][0])
    S1[l, j1, p] = sum over voxels of U1^p    (raw sums: no volume normalization, no p-th root)

and, with max_order=2, for j2 > j1 (same l) the same with U1 in place of x. The output is
(B, K, L+1, P): K = j paths (j1 = 0..J, then (j1, j2) pairs in lexicographic order), then l.
Order 0 is not part of it (Kymatio's tests add it by hand). With `average=False` the moduli U1
and U2 themselves, (B, M, N, O) per path (full resolution: 3D never decimates), replace the
integrals.

Speed: the wavelet is a real radial factor (l, j) times a complex angular factor (l, m), so one
group costs one broadcast product X * radial for its rows (the scales j of one spectrum: x's, or
for the second order one U1's with j2 > j1), one product with the angular factors and one inverse
FFT call for all of them. Groups hold about `group_bytes` (rows, then orders m, are split to
fit) and a batch chunk keeps at most about `working_bytes` per array (HARMONIC3D_GROUP_BYTES and
HARMONIC3D_WORKING_BYTES in `scatflow.tuning` unless given). Degree l = 0 and
rotation_covariant=False apply a single filter: a plain modulus, never a square root.

Mirrored orders: the input and the moduli are real, so where the filter is mirror-symmetric
on the DFT grid (`filters.harmonic3d.mirror_symmetric`: even sizes, and a filter negligible on
the Nyquist planes, i.e. j >= 2 with sigma_0 = 1), |x * psi_{-m}| = |x * psi_m| and the energy
is |x * psi_0|^2 + 2 sum_{m>0} |x * psi_m|^2: l+1 inverse FFTs instead of 2l+1. Elsewhere the
Nyquist planes break the symmetry. Its exact correction (|x * psi_{-m}| = |x * psi_m - c| with c
three plane-sized inverse FFTs broadcast over the volume with signs (-1)^z, (-1)^y, (-1)^x) was
measured on 32^3: three full-volume subtractions per order, one of them with an inner loop of 2
(the sign along the last axis), cost what the saved FFT does with NumPy, and more with torch. So
those rows compute all 2l+1 orders.
"""

import itertools
import math

from ..filters.harmonic3d import harmonic_filters, mirror_symmetric
from ..tuning import setting
from . import planning_batch
from .paths import OutputAxis, Path


class HarmonicScattering3DCore:
    ndim = 3
    key_fields = ("l", "j")  # the path fields that identify a path (its key)

    def __init__(self, J, shape, L=3, sigma_0=1.0, max_order=2, rotation_covariant=True,
                 integral_powers=(0.5, 1.0, 2.0), working_bytes=None,
                 group_bytes=None, average=True):
        self.J, self.L, self.sigma_0 = J, L, float(sigma_0)
        self.shape = tuple(int(n) for n in shape)
        self.max_order, self.rotation_covariant = max_order, bool(rotation_covariant)
        self.integral_powers = tuple(float(p) for p in integral_powers)
        self.working_bytes, self.group_bytes = working_bytes, group_bytes
        self.average = average
        self.input_shape = self.padded_shape = self.shape  # no padding in 3D
        self.pairs = ([(j1, j2) for j1 in range(J + 1) for j2 in range(j1 + 1, J + 1)]
                      if max_order >= 2 else [])
        self.paths = tuple(self._enumerate_paths())
        self.array_shape = (J + 1 + len(self.pairs), L + 1, len(self.integral_powers))
        self.output_grid = None  # integrals over the whole volume: no output positions
        self.output_axes = (OutputAxis("path"), OutputAxis("path"), OutputAxis(
            "named", name="integral_power", letter="p", coords={"integral_power": (
                self.integral_powers,
                {"long_name": "power p of the integrals sum(|U|^p) over the volume"})}))
        if not average:  # one volume per path: not the array output of integrals
            self.array_shape = self.output_axes = None
        self._pair_index = {pair: i for i, pair in enumerate(self.pairs)}
        # mirrored[l][j]: whether the orders -m of psi_{l,j} are read off the orders m
        self.mirrored = [[self.rotation_covariant and l >= 1
                          and mirror_symmetric(self.shape, l, self.sigma_0 * 2.0**j)
                          for j in range(J + 1)] for l in range(L + 1)]

    def _enumerate_paths(self):
        """Kymatio's flattened (K, L+1) order: j paths outer, degree l inner."""
        for j1 in range(self.J + 1):
            for l in range(self.L + 1):
                yield Path(1, (l, j1), {"l": l, "j": (j1,)})
        for j1, j2 in self.pairs:
            for l in range(self.L + 1):
                yield Path(2, (l, j1, j2), {"l": l, "j": (j1, j2)})

    def filters(self):
        """{'radial': (L+1, J+1, M, N, O) real, 'angular': per l (2l+1 or 1, M, N, O), None for
        l = 0}."""
        bank = harmonic_filters(self.shape, self.J, self.L, self.sigma_0)
        angular = bank["angular"]
        if not self.rotation_covariant:  # Kymatio keeps m = -l only
            angular = (None,) + tuple(a[:1] for a in angular[1:])
        return {"radial": bank["radial"], "angular": angular}

    # -- the transform -----------------------------------------------------------------------
    def __call__(self, x, backend, filters):
        J, L = self.J, self.L
        batch = planning_batch(x)
        volume = 16 * math.prod(self.shape)
        working_bytes = self.working_bytes or setting(backend, "HARMONIC3D_WORKING_BYTES")
        group_bytes = self.group_bytes or setting(backend, "HARMONIC3D_GROUP_BYTES")
        chunk = max(1, min(batch, working_bytes // (volume * (J + 1))))
        budget = max(1, min(working_bytes, group_bytes) // volume)  # volumes per group
        parts = []  # per batch chunk: per l, (S1 (b, J+1, ...), S2 (b, pairs, ...) or None)
        for start in range(0, batch, chunk):
            xb = x if chunk >= batch else x[start:start + chunk]
            parts.append(self._chunk(xb, backend, filters, budget))

        def gather(l, order):
            return _join(backend, [part[l][order] for part in parts], axis=0)

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
        """Per l, (S1 (b, J+1, P), S2 (b, pairs, P) or None) for the batch chunk x (P becomes
        M, N, O unaveraged: `_coefficients`)."""
        b = x.shape[0]
        X = backend.reshape(backend.fft(x, 3), (b, 1) + self.shape)
        results = []
        for l in range(self.L + 1):
            degree = (filters["radial"][l], filters["angular"][l], self.mirrored[l])
            S1, U1_hat = self._first_order(backend, X, degree, budget)
            S2 = []
            for j1 in range(self.J if self.pairs else 0):
                S2 += [self._coefficients(backend, U, E) for U, E in self._moduli(
                    backend, U1_hat[:, j1:j1 + 1], range(j1 + 1, self.J + 1), degree, budget)]
            results.append((S1, _join(backend, S2) if S2 else None))
        return results

    def _first_order(self, backend, X, degree, budget):
        """S1 (b, J+1, P) and, where there are pairs, the spectra U1_hat (b, J, M, N, O) of the
        moduli j1 < J (j1 = J has no j2 > j1). The moduli are let go here, before the second
        order. (Running each group's second order as soon as it is made holds less still, but
        its smaller, more frequent allocations page-faulted: 3D 32^3 float64 ran 15% slower.)"""
        U1, S1 = [], []
        for U, E in self._moduli(backend, X, range(self.J + 1), degree, budget):
            U1.append(U)
            S1.append(self._coefficients(backend, U, E))
        U1_hat = backend.fft(_join(backend, U1)[:, : self.J], 3) if self.pairs else None
        return _join(backend, S1), U1_hat

    def _moduli(self, backend, spectrum, js, degree, budget):
        """Row r: the modulus of spectrum (b, 1, M, N, O) * psi_{l, js[r], m}, pooled over the
        orders m; `degree` = (radial (J+1, M, N, O), angular (orders, M, N, O) or None,
        mirrored per j).

        Yields, per group of consecutive rows, (U, E): U (b, rows, M, N, O) and the energy
        E = sum_m |.|^2, or E = None when one filter is applied (U is then a plain modulus)."""
        radial, angular, mirrored = degree
        planned = planning_batch(spectrum)
        for mirror, run in itertools.groupby(js, key=lambda j: mirrored[j]):
            run = list(run)
            orders = angular
            if mirror:  # m = 0..l; the orders -m count through their mirror images m
                orders = angular[angular.shape[0] // 2:]
            n_m = 1 if orders is None else orders.shape[0]
            rows_per_group = max(1, budget // (planned * n_m))
            m_per_group = n_m if planned * n_m <= budget else max(1, budget // planned)
            for first in range(0, len(run), rows_per_group):
                j0, rows = run[first], min(rows_per_group, len(run) - first)
                yield self._group_modulus(backend, spectrum, radial[j0:j0 + rows], orders,
                                          m_per_group, mirror)

    def _group_modulus(self, backend, spectrum, radial, orders, m_per_group, mirror):
        """(U, E) of `_moduli` for the rows of `radial`; the products are let go on return,
        before the caller asks for the next group."""
        A = spectrum * radial  # (b, rows, M, N, O)
        if orders is None or orders.shape[0] == 1:  # one filter: a plain modulus
            if orders is not None:
                A = A * orders[0]
            return backend.modulus(backend.ifft(A, 3, overwrite=True)), None
        A = backend.reshape(A, tuple(A.shape[:2]) + (1,) + self.shape)
        E = None
        for m0 in range(0, orders.shape[0], m_per_group):
            e = self._orders_energy(backend, A, orders[m0:m0 + m_per_group], mirror, m0)
            E = e if E is None else E + e
        return backend.sqrt(E), E

    def _orders_energy(self, backend, A, orders, mirror, m0):
        """sum over `orders` (the orders m0, m0 + 1, ...) of |ifft(A * order)|^2, (b, rows,
        M, N, O), the orders m > 0 twice where `mirror` (the orders are m = 0..l). The product
        and its transform are let go on return."""
        z = backend.ifft(A * orders, 3, overwrite=True)  # (b, rows, orders, M, N, O)
        energies = backend.modulus_squared(z)
        e = energies[:, :, 0] if z.shape[2] == 1 else backend.sum(energies, axes=2)
        if mirror and m0 > 0:
            return e + e
        if mirror and z.shape[2] > 1:
            return e + backend.sum(energies[:, :, 1:], axes=2)
        return e

    def _coefficients(self, backend, U, E):
        """(b, R, P): sum over the voxels of U^p for each p (U^2 read from the energy E);
        unaveraged: the moduli U (b, R, M, N, O) themselves."""
        if not self.average:
            return U
        axes = (-3, -2, -1)
        sums = []
        for p in self.integral_powers:
            V = E if p == 2.0 and E is not None else U if p == 1.0 else backend.power(U, p)
            sums.append(backend.sum(V, axes))
        return backend.stack(sums, axis=-1)


def _join(backend, arrays, axis=1):
    """`arrays` concatenated along `axis` (the one array itself where there is one)."""
    return arrays[0] if len(arrays) == 1 else backend.concatenate(arrays, axis=axis)
