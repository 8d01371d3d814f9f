"""What every backend shares: primitives that follow from the others.

A backend subclasses `Backend` and supplies its array library's FFTs, pointwise operations and
shape operations (see `scatflow.backends.numpy`, the reference); these generic versions use only
slicing, `+`, `*` and the backend's own `take`.
"""

import contextlib
import itertools


class Backend:
    name = None

    def map_batches(self, fn, x):
        """`fn(backend, x)`: the core on the whole batch (CPU backends may split it over threads)."""
        return fn(self, x)

    def device(self, x):
        """The device `x` lives on (None where the library has one device), a filter-cache key."""
        return None

    def on_device(self, device):
        """A context in which new arrays are created on `device`."""
        return contextlib.nullcontext()

    def pad_reflect(self, x, pads):
        """Reflect-pad (mirror without repeating the edge) the trailing len(pads) axes by
        gathering `reflect_indices` (plain ints, so tracing compilers see constants)."""
        for axis, (left, right) in zip(range(-len(pads), 0), pads):
            if left or right:
                x = self.take(x, reflect_indices(x.shape[axis], left, right), axis=x.ndim + axis)
        return x

    def multiply_periodize(self, x, filters, factor, ndim):
        """The spectrum of (signal filtered by `filters`) decimated by `factor` on each of the
        trailing `ndim` axes: each axis of length n becomes n // factor, the mean of the
        `factor` blocks of the product (Fourier periodization = decimation in space).

        Accumulated block by block so that the full-size product is never stored."""
        if factor == 1:
            return x * filters
        sizes = [n // factor for n in tuple(x.shape)[x.ndim - ndim:]]
        out = None
        for block in itertools.product(range(factor), repeat=ndim):
            index = (Ellipsis,) + tuple(slice(b * n, (b + 1) * n) for b, n in zip(block, sizes))
            term = x[index] * filters[index]
            if out is None:
                out = term
            else:
                out += term
        out *= 1.0 / factor**ndim
        return out


def reflect_indices(n, left, right):
    """NumPy's `mode="reflect"` source indices for padding n samples by (left, right): the
    reflection without repeating the edge is periodic with period 2(n - 1), so pads longer
    than the signal reflect again."""
    if n == 1:
        return [0] * (left + 1 + right)
    period = 2 * n - 2
    return [i % period if i % period < n else period - i % period for i in range(-left, n + right)]
