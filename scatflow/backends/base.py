"""What every backend shares: primitives that follow from the others.

A backend subclasses `Backend` and supplies its array library's FFTs, pointwise operations and
shape operations (see `scatflow.backends.numpy`, the reference); these generic versions use only
slicing, `+`, `*` and the backend's own `take`. How a batch is split over threads is
`scatflow.core.batches`'s: a backend only says what its library allows (`threads`, ...).
"""

import contextlib
import itertools
import math
import os

from ..tuning import setting


def default_threads():
    """Threads for CPU work: $SCATFLOW_NUM_THREADS, else the number of cores."""
    value = os.environ.get("SCATFLOW_NUM_THREADS")
    if value is None:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"SCATFLOW_NUM_THREADS must be an integer >= 1; got {value!r}")
    return int(value)


class Backend:
    """Tuning constants (`scatflow.tuning`) may be overridden per backend by attributes of the
    same name in lower case (`min_slice_samples`, `slab_bytes`, ...)."""

    name = None
    threads = 1  # CPU backends: threads that `core.batches` splits a batch over

    def threads_split(self):
        """A context around the threads of `core.batches` (e.g. keeping libraries that have
        their own thread pools single-threaded while they run)."""
        return contextlib.nullcontext()

    def in_calling_threads_mode(self, fn):
        """fn, run by the pool's threads in the calling thread's per-thread modes where the
        library has some (torch's autograd and inference modes)."""
        return fn

    def splits_batches(self, x):
        """Whether `core.batches` may split `x` over threads (CPU arrays)."""
        return True

    def worker_backend(self):
        """The backend the threads of `core.batches` run with."""
        return self

    def init_worker_thread(self):
        """Run once in each thread of `core.batches`'s pool (e.g. to keep it single-threaded)."""

    def device(self, x):
        """The device `x` lives on (None where the library has one device), a filter-cache key."""
        return None

    def on_device(self, device):
        """A context in which new arrays are created on `device`."""
        return contextlib.nullcontext()

    def pad(self, x, pads, mode):
        """Pad the trailing len(pads) axes by `pads` ((before, after) per axis) in `mode`:
        "reflect" (mirror without repeating the edge), "symmetric" (repeating it) by gathering
        `padding_indices` (plain ints, so tracing compilers see constants), "zero" by
        `pad_zeros`."""
        if mode == "zero":
            return self.pad_zeros(x, pads)
        for axis, (left, right) in zip(range(-len(pads), 0), pads):
            if left or right:
                x = self.take(x, padding_indices(x.shape[axis], left, right, mode),
                              axis=x.ndim + axis)
        return x

    def multiply_periodize(self, x, filters, factor, ndim, blocks=None):
        """The spectrum of (signal filtered by `filters`) decimated by `factor` on each of the
        trailing `ndim` axes: each axis of length n becomes n // factor, the mean of the
        `factor` blocks of the product (Fourier periodization = decimation in space).
        `blocks` (tuples of block numbers, one per axis): the only blocks where `filters` is not
        negligible, the only ones summed (default: all).

        Accumulated block by block so that the full-size product is never stored; where
        `writes_in_place(x, filters)`, a cache-sized slab of x's leading rows at a time: the
        product fans out over the filters, so a whole-array accumulator is many times the cache
        and each of its passes would go to memory. Where more than MAX_BLOCKS
        (`scatflow.tuning`) blocks and most of all blocks are to be summed (small arrays at large
        decimations), a per-block Python loop costs more than the product itself: the whole
        product is summed over its blocks in one call."""
        if factor == 1:
            return x * filters
        sizes = [n // factor for n in x.shape[-ndim:]]
        max_blocks = setting(self, "MAX_BLOCKS")
        if blocks is not None and len(blocks) > max_blocks:
            spans = [sorted({b[axis] for b in blocks}) for axis in range(ndim)]
            if math.prod(map(len, spans)) <= factor**ndim // 4:
                return self._periodize_spans(x, filters, factor, sizes, spans)
        blocks = _blocks(factor, sizes, blocks)
        if len(blocks) > max(max_blocks, factor**ndim // 4):
            product = x * filters
            lead = product.ndim - ndim
            shape = tuple(product.shape[:lead])
            for n in tuple(product.shape)[lead:]:
                shape += (factor, n // factor)
            product = self.reshape(product, shape)
            for axis in range(lead, lead + ndim):  # one block axis at a time: 3-15x faster
                product = self.sum(product, (axis,))
            return product * (1.0 / factor**ndim)
        if x.ndim > filters.ndim and self.writes_in_place(x, filters):
            return self._multiply_periodize_in_slabs(x, filters, factor, ndim, blocks)
        return self._block_mean(x, filters, blocks, factor**ndim)

    def _periodize_spans(self, x, filters, factor, sizes, spans):
        """`multiply_periodize` summing the blocks whose numbers along each axis are in that
        axis's `spans` (a box of few blocks, cut out by gathers): a few operations instead of
        a loop over many small blocks."""
        ndim = len(sizes)
        parts = []
        for a in (x, filters):
            lead = tuple(a.shape[:a.ndim - ndim])
            a = self.reshape(a, lead + tuple(d for n in sizes for d in (factor, n)))
            for axis, numbers in enumerate(spans):
                a = self.take(a, numbers, axis=len(lead) + 2 * axis)
            parts.append(a)
        product = parts[0] * parts[1]
        for axis in range(ndim):  # the block axes, each followed by its sizes axis
            product = self.sum(product, (product.ndim - 2 * (ndim - axis),))
        return product * (1.0 / factor**ndim)

    def _block_mean(self, x, filters, blocks, count, total=None, scratch=None):
        """The sum over `blocks` of x * filters divided by `count` (the number of blocks of
        the periodization): out of place, or written into `total` (each product into `scratch`)
        where they are given."""
        for i, index in enumerate(blocks):
            if total is None:
                total = x[index] * filters[index]
            elif i == 0:
                self.multiply_into(x[index], filters[index], total)
            elif scratch is None:
                total += x[index] * filters[index]
            else:
                self.multiply_into(x[index], filters[index], scratch)
                total += scratch
        total *= 1.0 / count
        return total

    def writes_in_place(self, x, filters):
        """Whether primitives may write into preallocated arrays (`empty`, `multiply_into`):
        CPU arrays outside autograd and tracing compilers."""
        return False

    def _multiply_periodize_in_slabs(self, x, filters, factor, ndim, blocks):
        lead = tuple(x.shape[:x.ndim - filters.ndim])
        rows = self.reshape(x, (math.prod(lead),) + tuple(x.shape[len(lead):]))
        row_shape = tuple(max(a, b) for a, b in zip(rows.shape[1:-ndim], filters.shape[:-ndim])) + tuple(
            n // factor for n in x.shape[-ndim:])
        out = self.empty((rows.shape[0],) + row_shape, like=x)
        slab = max(1, setting(self, "SLAB_BYTES") // (math.prod(row_shape) * x.itemsize))
        term = self.empty((min(slab, rows.shape[0]),) + row_shape, like=x)
        for start in range(0, rows.shape[0], slab):
            total = out[start:start + slab]
            self._block_mean(rows[start:start + slab], filters, blocks, factor**ndim, total,
                             term[:total.shape[0]])
        return self.reshape(out, lead + row_shape)


def _blocks(factor, sizes, numbers=None):
    """Index tuples of the blocks of sizes `sizes` on the trailing axes numbered `numbers`
    (default: all factor^ndim of them)."""
    if numbers is None:
        numbers = itertools.product(range(factor), repeat=len(sizes))
    return [(Ellipsis,) + tuple(slice(b * n, (b + 1) * n) for b, n in zip(block, sizes))
            for block in numbers]


def padding_indices(n, left, right, mode="reflect"):
    """NumPy's `np.pad(mode=mode)` source indices ("reflect" or "symmetric") for padding n
    samples by (left, right)."""
    return padded_positions(range(-left, n + right), n, mode)


def padded_positions(positions, n, mode="reflect"):
    """The source index in [0, n) of each of `positions` (ints, any of them outside [0, n)) as
    NumPy pads in `mode`: "reflect" (without repeating the edge) is periodic with period
    2(n - 1), "symmetric" (repeating it) with period 2n, "periodic" with period n; positions
    farther out than the signal is long reflect (or wrap) again."""
    if mode == "periodic":
        return [i % n for i in positions]
    if mode == "symmetric":
        period = 2 * n
        return [i % period if i % period < n else period - 1 - i % period for i in positions]
    if n == 1:
        return [0] * len(positions)
    period = 2 * n - 2
    return [i % period if i % period < n else period - i % period for i in positions]
