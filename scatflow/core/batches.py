"""A batch split over threads: the frontends run a core on contiguous slices of the batch in a
thread pool (the array libraries release the GIL) and put the slices' results back together.

The backend says what its library allows (`threads`, `splits_batches`, `worker_backend`,
`threads_split`, `in_calling_threads_mode`, `init_worker_thread`); the slice sizes are the
tuning constants MIN_SLICE_SAMPLES and MAX_SLICE_SAMPLES (`scatflow.tuning`). One pool per
backend instance, made on first use and never pickled with it.
"""

import math
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

from ..tuning import setting

_POOLS = weakref.WeakKeyDictionary()  # backend -> (thread pool, the backend its threads use)
_POOL_LOCK = threading.Lock()


def map_batches(backend, fn, x, padded_size):
    """`fn(backend, x)`, a list of arrays with the batch first, on x's device. Where the backend
    splits x (`slice_bounds`; the core pads each signal to `padded_size` samples), computed on
    contiguous slices of the batch in parallel threads and concatenated back."""
    with backend.on_device(backend.device(x)):
        bounds = slice_bounds(backend, x, padded_size)
        if len(bounds) <= 2:
            return fn(_whole_batch_backend(backend, x, padded_size), x)
        results = list(_map_slices(backend, fn, x, bounds, padded_size))
        return [backend.concatenate(arrays, axis=0) for arrays in zip(*results)]


def map_batches_into(backend, fn, x, out, padded_size):
    """`map_batches` writing array i of each slice of the batch into `out[start:stop, i]`
    (out: (batch, arrays, size), each array flattened) as soon as the slice is done: the
    slices' arrays are never all held at once, nor their concatenation and stack. Slices hold
    at most MAX_SLICE_SAMPLES samples of the signals as the core pads them (`padded_size`
    each), so that a thread works on a few signals at a time. The writes happen in this
    thread. For backends that write in place."""
    batch = x.shape[0]
    max_samples = setting(backend, "MAX_SLICE_SAMPLES")
    bounds = slice_bounds(backend, x, padded_size, math.ceil(batch * padded_size / max_samples))
    slices = _map_slices(backend, fn, x, bounds, padded_size)  # first in the zip: runs to its end
    for arrays, start, stop in zip(slices, bounds[:-1], bounds[1:]):
        for i, array in enumerate(arrays):
            out[start:stop, i] = backend.reshape(array, (stop - start, -1))
    return out


def slice_bounds(backend, x, padded_size, at_least=1):
    """Boundaries of contiguous slices of x's batch: one per thread, fewer where a slice would
    get under MIN_SLICE_SAMPLES padded samples (small work runs faster unsplit), and at least
    `at_least`; at most one slice per signal, and one slice in all where the batch is unknown
    (symbolic) or the backend does not split x (`splits_batches`)."""
    batch = x.shape[0]
    if batch is None or not backend.splits_batches(x):
        return [0, batch]
    per_thread = min(backend.threads,
                     batch * padded_size // setting(backend, "MIN_SLICE_SAMPLES"))
    parts = min(max(1, at_least, per_thread), batch)
    return [batch * i // parts for i in range(parts + 1)]


def _map_slices(backend, fn, x, bounds, padded_size):
    """Yields fn(backend, slice of x) for the slices, in order: computed in the thread pool,
    or one after the other in this thread where there is one thread or one slice."""
    slices = zip(bounds[:-1], bounds[1:])
    if backend.threads <= 1 or len(bounds) <= 2:
        whole = _whole_batch_backend(backend, x, padded_size)
        yield from (fn(whole, x[start:stop]) for start, stop in slices)
        return
    pool, worker = _thread_pool(backend)
    in_mode = backend.in_calling_threads_mode(fn)
    with backend.threads_split():
        yield from pool.map(lambda bound: in_mode(worker, x[bound[0]:bound[1]]), slices)


def _whole_batch_backend(backend, x, padded_size):
    """The backend for a batch that is not split: this one, whose library may use threads of
    its own (the FFTs of a large signal), or the single-threaded `worker_backend` where the
    batch is too small to split (multi-threaded FFTs of small arrays are slower)."""
    batch = x.shape[0]
    if (backend.threads <= 1 or batch is None
            or batch * padded_size >= backend.threads * setting(backend, "MIN_SLICE_SAMPLES")):
        return backend
    return backend.worker_backend()


def _thread_pool(backend):
    """The backend's pool and the backend its threads run with, made on first use."""
    with _POOL_LOCK:
        if backend not in _POOLS:
            _POOLS[backend] = (ThreadPoolExecutor(backend.threads, thread_name_prefix="scatflow",
                                                  initializer=backend.init_worker_thread),
                               backend.worker_backend())
        return _POOLS[backend]
