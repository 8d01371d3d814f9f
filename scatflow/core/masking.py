"""Missing data (`nan_policy="mask"`): scattering of a signal whose NaN samples are missing,
as a normalized convolution, written once for every core with a low-pass.

With m the valid mask (1 valid, 0 missing) and x m the zero-filled signal, each averaged
coefficient is S = (phi * U[x m]) / W with W = (phi * m) / (phi * 1): order 0 takes U[x m] =
x m, orders 1 and 2 the usual moduli of x m. W is the order-0 low-pass of m over the order-0
low-pass of ones (`core(..., zeroth_only=True)`: padded as the signal is, on the grid of every
averaged coefficient; for a global average, the valid fraction). S is NaN where W < min_valid.

A signal without missing samples gets W = 1 exactly (not the ratio, which may round), so its
coefficients are those of `nan_policy="propagate"`, bit for bit.
"""

import math


def masked_scattering(core, x, backend, filters, min_valid):
    """`core(x, backend, filters)` with the NaN of `x` (B, *input_shape) taken as missing."""
    missing = backend.isnan(x)
    ones = backend.zeros_along(x, x.shape[-1]) + 1.0
    valid = backend.where(missing, 0.0, ones)
    coefficients = core(backend.where(missing, 0.0, x), backend, filters)
    (low_valid,) = core(valid, backend, filters, zeroth_only=True)
    (low_ones,) = core(ones, backend, filters, zeroth_only=True)
    signal_axes = tuple(range(-len(core.input_shape), 0))
    complete = backend.sum(ones - valid, signal_axes) == 0  # (B,): no sample missing (exact)
    grid = tuple(low_valid.shape[1:])
    complete = backend.reshape(complete, (-1,) + (1,) * len(grid))
    weight = backend.where(complete, 1.0, low_valid / low_ones)
    kept = weight >= min_valid
    divisor = backend.where(kept, weight, 1.0)
    out = []
    for c in coefficients:
        extra = c.ndim - 1 - len(grid)  # axes between the batch and the grid (JTFS rows)
        shape = (-1,) + (1,) * extra + grid
        out.append(backend.where(backend.reshape(kept, shape),
                                 c / backend.reshape(divisor, shape), math.nan))
    return out
