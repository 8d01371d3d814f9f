"""Scattering transforms on dask arrays, chunk by chunk: one blockwise layer per call, lazy.

    scattering1d(x, J, Q=8, axis=-1)           (*batch, N)       -> (*batch, C, N_out)
    scattering2d(x, J, axes=(-2, -1))          (*batch, M, N)    -> (*batch, C, M_out, N_out)
    harmonic_scattering3d(x, J, axes=(-3, -2, -1))               -> (*batch, K, L + 1, P)
    time_frequency_scattering(x, J, J_fr, Q, axis=-1)            -> (*batch, C, N_out)
                                           (format="joint":)        (*batch, C, rows, N_out)

One function per transform of `scatflow.registry` (same name), made by `operator`: the
transform's required parameters (J, ...) then every keyword of its NumPy frontend except
`shape` (from the data) and `out_type` (always the array). The signal axes (`axis=` for 1D
signals, `axes=` otherwise) move to the end; the other axes are batch axes, their chunks kept.
Each task takes its frontend (filters included) from a per-process cache
(`scatflow.frontends.numpy.cached_frontend`): no filter bank travels in the graph.

Chunked signal axes (`chunking=`):
* "rechunk" (default): each signal is made one chunk (a logged warning gives the chunk size);
  the numbers are the in-memory transform's exactly.
* "halo": for signals larger than memory (transforms whose outputs have positions). Each
  output chunk (regular, about one input chunk long) is computed from its window of the input
  extended by a halo at least the filters' support on each side (`halo_size`), placed so that
  its output samples fall on the global output grid; beyond the outer edges the input is
  reflected, or wrapped around along an axis whose `padding_mode` is "periodic" (so a global
  grid chunked in longitude is exact at its ends too). An axis that one output chunk covers
  takes no halo: its tasks transform it whole, as the unchunked transform does. Away from the
  outer edges (farther than the halo) the result equals the unchunked transform (1e-15 here) in
  1D, and in 2D with `filter_levels="local"`. With Kymatio's 2D
  filter levels (the default) it cannot: they are cut to the band of each resolution, which
  gives them sinc tails across the whole image (~4% of the low-pass at j = J-1), so outputs
  through scale J-1 differ from the unchunked transform by a few 1e-4 of their channel's
  maximum (J=3; a logged warning says so: `core.halo_inexact`). Within the halo of the outer
  edges (not periodic), results differ by up to ~10%. One graph layer, whatever the number of
  chunks: each of its tasks gathers its window from the input blocks it overlaps.

`nan_policy`: "propagate" (default: a NaN spreads through the FFTs to its whole signal),
"raise" (a ValueError from the task that meets one), "mask" (NaN samples are missing data:
each averaged coefficient is renormalized by the low-passed valid fraction W, and NaN where W
is under the frontend keyword `min_valid`, default 0.5; the frontends' `nan_policy="mask"`,
also chunk by chunk with chunking="halo"), or a number that replaces NaN and inf (e.g. 0 for
masked fields such as sea temperature over land).

`backend`: "auto" (default) follows the blocks (NumPy or CuPy, from `x._meta`); CPU tasks run
single-threaded (Dask already runs one task per core). "cupy" on NumPy blocks (a zarr store's, as
`scatflow run` with `transform: {backend: cupy}` reads them) runs each task on the GPU, its block
copied there and its coefficients back: the result stays NumPy-backed, so `compute` cannot tell
that it needs GPU workers; pass `resources={"GPU": 1}`.
"""

import bisect
import inspect
import itertools
import logging
import math
import numbers

import numpy as np

from . import registry
from .backends.base import padded_positions
from .backends.numpy import NumpyBackend
from .dispatch import is_cupy, type_name
from .errors import ParameterTypeError
from .frontends import numpy as numpy_frontend
from .frontends.base import compute_dtype

logger = logging.getLogger("scatflow")

CHUNKING = ("rechunk", "halo")
NAN_POLICIES = ("propagate", "raise", "mask")
HALO_EPSILON = 1e-7  # filter tails below this fraction of their peak are outside the support
OPTIONS = (("chunking", "rechunk"), ("nan_policy", "propagate"), ("backend", "auto"))


def operator(name):
    """The dask function of the registry's transform `name`: `(x, <required parameters>, *,
    <axis or axes>, chunking, nan_policy, backend, **frontend keywords)`."""
    transform = registry.get(name)
    P = inspect.Parameter
    signature = inspect.Signature(
        [P(n, P.POSITIONAL_OR_KEYWORD) for n in ["x"] + transform.required()]
        + [P(transform.axes_keyword, P.KEYWORD_ONLY, default=transform.default_axes)]
        + [P(n, P.KEYWORD_ONLY, default=d) for n, d in OPTIONS]
        + [P("kwargs", P.VAR_KEYWORD)])

    def run(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        params = dict(arguments.arguments)
        frontend_kwargs = params.pop("kwargs")
        options = {n: params.pop(n) for n, _ in OPTIONS}
        x, axes = params.pop("x"), params.pop(transform.axes_keyword)
        kwargs = {**frontend_kwargs, **params}
        if options["nan_policy"] == "mask":  # the frontends mask: their keyword, in every task
            kwargs["nan_policy"] = "mask"
        return _scattering(transform, x, axes, kwargs, **options)

    run.__signature__ = signature
    run.__name__ = run.__qualname__ = transform.name
    run.__module__ = __name__
    run.__doc__ = (f"{transform.summary} over `{transform.axes_keyword}` of a dask array "
                   f"(keywords of scatflow.numpy.{transform.class_name}); see the module "
                   f"docstring." + (f" chunking='halo' does not apply: {transform.no_halo}."
                                    if transform.no_halo else ""))
    return run


scattering1d = operator("scattering1d")
scattering2d = operator("scattering2d")
harmonic_scattering3d = operator("harmonic_scattering3d")
time_frequency_scattering = operator("time_frequency_scattering")


def describe(cls_name, signal_shape, **kwargs):
    """The NumPy frontend object (paths, `core.array_shape`, `core.output_grid`) that the dask
    functions run for signals of `signal_shape`, with their keywords; checks them all."""
    for name in ("shape", "out_type"):
        if name in kwargs:
            raise TypeError(f"{name} is not a keyword here: the shape comes from the data and the "
                            f"output is always an array")
    if isinstance(kwargs.get("average"), (bool, np.bool_)) and not kwargs["average"]:
        raise ValueError("average=False is not available here: scatflow.dask, the xarray "
                         "accessor and workflows return one array, and the unaveraged maps "
                         "(one per path, each at its own resolution) are not one array; use a "
                         "frontend (scatflow.numpy, torch, tensorflow, jax) with average=False "
                         "and out_type='list' or 'dict'")
    return numpy_frontend.cached_frontend(cls_name, _frozen(kwargs, signal_shape))


def _frozen(kwargs, signal_shape):
    params = dict(kwargs, shape=tuple(signal_shape), out_type="array")
    return tuple(sorted((k, numpy_frontend.freeze(v)) for k, v in params.items()))


# -- checks -------------------------------------------------------------------------------------
def _check(x, axes, transform, chunking, nan_policy, backend):
    import dask.array as da

    if not isinstance(x, da.Array):
        raise TypeError(f"x must be a dask array; got {type_name(x)} "
                        f"(wrap it with dask.array.from_array)")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"x must have a real numeric dtype; got {x.dtype}")
    ndim, keyword = transform.ndim, transform.axes_keyword
    expected = f"{keyword} must be {ndim} distinct axis number(s) of x (ndim {x.ndim})"
    if isinstance(axes, numbers.Integral):
        axes = (axes,)
    if not isinstance(axes, (tuple, list)) or any(
            isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
        raise ParameterTypeError(f"{expected}; got {axes!r}")
    axes = tuple(axes)
    if (len(axes) != ndim or any(not -x.ndim <= a < x.ndim for a in axes)
            or len({a % x.ndim for a in axes}) != ndim):
        raise ValueError(f"{expected}; got {axes!r}")
    check_options(transform, chunking, nan_policy, backend)
    return tuple(a % x.ndim for a in axes)


def check_options(transform, chunking, nan_policy, backend):
    """Check the options every dask and xarray function takes (the xarray functions check them
    before they describe the transform, which builds its filters)."""
    if not isinstance(chunking, str) or chunking not in CHUNKING:
        raise ValueError(f"chunking must be one of {list(CHUNKING)}; got {chunking!r}")
    if chunking == "halo" and transform.no_halo:
        raise ValueError(f"chunking='halo' does not apply to {transform.name} "
                         f"({transform.no_halo}); use chunking='rechunk'")
    if not (nan_policy in NAN_POLICIES or (isinstance(nan_policy, numbers.Real)
                                           and not isinstance(nan_policy, bool)
                                           and math.isfinite(nan_policy))):
        raise ValueError(f"nan_policy must be 'propagate', 'raise', 'mask' or a finite number to "
                         f"fill NaN and inf with; got {nan_policy!r}")
    if backend not in ("auto", None, "numpy", "cupy"):
        raise ValueError(f"backend must be one of ['auto', None, 'numpy', 'cupy']; got {backend!r}")


def _scattering(transform, x, axes, kwargs, chunking, nan_policy, backend):
    import dask.array as da

    ndim, cls_name = transform.ndim, transform.class_name
    axes = _check(x, axes, transform, chunking, nan_policy, backend)
    trailing = tuple(range(x.ndim - ndim, x.ndim))
    if axes != trailing:
        x = da.moveaxis(x, axes, trailing)
    signal_shape = tuple(x.shape[x.ndim - ndim:])
    if any(math.isnan(n) for n in signal_shape):
        raise ValueError(f"the signal axes {axes} must have known sizes; got {signal_shape}")
    frontend = describe(cls_name, signal_shape, **kwargs)  # every parameter checked here
    dtype = compute_dtype(x.dtype)
    chunked = [len(c) > 1 for c in x.chunks[x.ndim - ndim:]]
    if chunking == "halo" and any(chunked):
        if frontend.core.output_grid is None:
            raise ValueError("chunking='halo' needs outputs with positions (not T='global' or T=0)")
        if frontend.core.halo_inexact:
            logger.warning("scatflow: chunking='halo': %s.", frontend.core.halo_inexact)
        return _halo(cls_name, x, kwargs, frontend, dtype, nan_policy, backend)
    if any(chunked):
        rechunked = x.rechunk({x.ndim - ndim + i: -1 for i in range(ndim)})
        mb = max(math.prod(c[0] for c in rechunked.chunks), 1) * x.dtype.itemsize / 2**20
        logger.warning("scatflow: the signal axes %s of x are in several chunks; rechunked to one "
                       "chunk per signal (chunks of %.1f MB). For signals larger than memory use "
                       "chunking='halo'.", axes, mb)
        x = rechunked
    return _blockwise(cls_name, x, ndim, _frozen(kwargs, signal_shape), frontend.core.array_shape,
                      dtype, nan_policy, backend)


def _blockwise(cls_name, x, ndim, frozen, array_shape, dtype, nan_policy, backend):
    """One blockwise layer: each block (*batch, *signal) -> (*batch, *array_shape)."""
    import dask.array as da
    from dask.array.utils import meta_from_array

    batch = x.ndim - ndim
    in_index = tuple(range(x.ndim))
    new = tuple(range(x.ndim, x.ndim + len(array_shape)))
    out_shape = tuple(array_shape)
    out_dtype = np.dtype(dtype)
    return da.blockwise(
        _scatter_block, in_index[:batch] + new, x, in_index,
        new_axes=dict(zip(new, out_shape)), concatenate=True, dtype=out_dtype,
        meta=meta_from_array(x, ndim=batch + len(out_shape), dtype=out_dtype),
        cls_name=cls_name, frozen=frozen, nan_policy=nan_policy, backend=backend, crop=None,
        token=f"scatflow-{cls_name.lower()}")


_SINGLE_THREADED_NUMPY = NumpyBackend(threads=1)


def _scatter_block(block, cls_name, frozen, nan_policy, backend, crop):
    """The task: scattering coefficients of one block, from the process's cached frontend.
    backend="cupy" on a NumPy block (a zarr store's) copies it to the GPU and the coefficients
    back, so that the array stays what its meta says: NumPy-backed."""
    on_gpu = is_cupy(block)
    if backend == "cupy" and not on_gpu:
        import cupy

        return cupy.asnumpy(_scatter_block(cupy.asarray(block), cls_name, frozen, nan_policy,
                                           backend, crop))
    if backend in ("auto", None):
        backend = "cupy" if on_gpu else _SINGLE_THREADED_NUMPY
    elif backend == "numpy":
        backend = _SINGLE_THREADED_NUMPY
    frontend = numpy_frontend.cached_frontend(cls_name, frozen + (("backend", backend),))
    if nan_policy == "raise":
        if not bool((block == block).all()) or not bool(abs(block).max(initial=0) < float("inf")):
            raise ValueError("x holds NaN or inf (nan_policy='raise'); use nan_policy='propagate' "
                             "or a fill value")
    elif nan_policy not in ("propagate", "mask"):  # "mask": the frontend's (`frozen`)
        xp = _namespace(block)
        block = xp.where(xp.isfinite(block), block, nan_policy)
    out = frontend(block)
    if crop is not None:
        out = out[(Ellipsis,) + tuple(crop)]
    return out


def _namespace(block):
    if is_cupy(block):
        import cupy

        return cupy
    return np


# -- halo ---------------------------------------------------------------------------------------
def halo_size(frontend, epsilon=HALO_EPSILON):
    """Input samples on each side of a position that its outputs depend on, per signal axis:
    the supports (where the spatial filter exceeds `epsilon` times its peak) of the low-pass and
    of the widest wavelet of each order, added up (S2 = ||x * psi1| * psi2| * phi)."""
    core = frontend.core
    total = np.zeros(core.ndim, dtype=int)
    for filters in core.halo_filters():
        total += _support(np.asarray(filters), core.ndim, epsilon)
    return tuple(int(n) for n in total)


def _support(fourier, ndim, epsilon):
    """Largest circular distance from 0, per axis, where any of the spatial filters (the inverse
    FFTs of `fourier` over its last `ndim` axes) exceeds `epsilon` times its peak."""
    axes = tuple(range(-ndim, 0))
    spatial = np.abs(np.fft.ifftn(fourier, axes=axes))
    peak = spatial.max(axis=axes, keepdims=True)
    above = (spatial > epsilon * peak).reshape((-1,) + spatial.shape[spatial.ndim - ndim:]).any(axis=0)
    support = []
    for axis, n in enumerate(above.shape):
        hit = np.nonzero(above.any(axis=tuple(a for a in range(ndim) if a != axis)))[0]
        support.append(int(np.minimum(hit, n - hit).max()))
    return np.array(support)


def _output_chunks(chunks, step, count):
    """Regular output sample ranges [k0, k1), each about as long as the first input chunk
    (regular chunks are what zarr stores)."""
    size = max(1, round(chunks[0] / step))
    return [(k0, min(k0 + size, count)) for k0 in range(0, count, size)]


def _window_plan(chunks, start, length, mode="reflect"):
    """How a task reads x[start:start + length] along an axis of blocks `chunks`, the signal
    extended as the axis's padding mode says where the window passes an end (wrapped around
    where "periodic", mirrored as NumPy's "symmetric" where "symmetric", else as its "reflect"):
    the (block number, slice of the block) pieces of the span of input it touches, in order,
    and the indices into their concatenation that make the window (None where the window is
    that span)."""
    n = sum(chunks)
    if 0 <= start and start + length <= n:
        low, high, gather = start, start + length, None
    else:
        extension = mode if mode in ("periodic", "symmetric") else "reflect"
        sources = np.array(padded_positions(range(start, start + length), n, extension))
        low, high = int(sources.min()), int(sources.max()) + 1
        gather = sources - low
    bounds = list(itertools.accumulate(chunks, initial=0))
    pieces = []
    for block in range(bisect.bisect_right(bounds, low) - 1, bisect.bisect_left(bounds, high)):
        first, stop = max(low, bounds[block]), min(high, bounds[block + 1])
        if first < stop:
            pieces.append((block, slice(first - bounds[block], stop - bounds[block])))
    return pieces, gather


def _halo(cls_name, x, kwargs, frontend, dtype, nan_policy, backend):
    """Chunk-wise transform with overlap (see the module docstring), as one graph layer: each
    task gathers its output chunk's window from the input blocks it overlaps and transforms it,
    so the graph grows in tasks, not in layers, with the number of chunks."""
    import dask.array as da
    from dask.array.utils import meta_from_array
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    ndim = frontend.core.ndim
    batch = x.ndim - ndim
    grid = frontend.core.output_grid
    channels = tuple(frontend.core.array_shape[:-ndim])
    counts = frontend.core.array_shape[-ndim:]
    halo = halo_size(frontend)
    modes = frontend.core.padding_modes
    ranges = [_output_chunks(x.chunks[batch + d], grid[d][1], counts[d]) for d in range(ndim)]
    # output samples of halo; none along an axis that one output chunk covers (whole, so its
    # tasks transform it as the unchunked transform does, boundary condition included)
    margins = [0 if len(ranges[d]) == 1 else -(-halo[d] // grid[d][1]) + 1 for d in range(ndim)]
    name = f"scatflow-halo-{cls_name.lower()}-" + tokenize(
        x, cls_name, _frozen(kwargs, x.shape[batch:]), nan_policy, backend)
    plans = {}  # (axis, start, length) -> _window_plan: the windows repeat along the other axes
    layer = {}
    for index in itertools.product(*[range(len(r)) for r in ranges]):
        lengths = tuple(ranges[d][i][1] - ranges[d][i][0] for d, i in enumerate(index))
        segment = tuple((n + 2 * m) * g[1] if m else size
                        for n, m, g, size in zip(lengths, margins, grid, x.shape[batch:]))
        seg_frontend = describe(cls_name, segment, **kwargs)  # cached: a few distinct lengths
        assert tuple(seg_frontend.core.array_shape[:-ndim]) == channels, (segment, channels)
        axis_plans = []
        for d, i in enumerate(index):
            seg_offset, step = seg_frontend.core.output_grid[d]
            start = grid[d][0] + ranges[d][i][0] * step - seg_offset - margins[d] * step
            key = (d, start, segment[d])
            if key not in plans:
                plans[key] = _window_plan(x.chunks[batch + d], start, segment[d], modes[d])
            axis_plans.append(plans[key])
        slices = [[piece[1] for piece in pieces] for pieces, _ in axis_plans]
        gathers = [gather for _, gather in axis_plans]
        crop = tuple(slice(m, m + n) for m, n in zip(margins, lengths))
        frozen = _frozen(kwargs, segment)
        blocks = [[block for block, _ in pieces] for pieces, _ in axis_plans]
        for batch_index in itertools.product(*[range(len(c)) for c in x.chunks[:batch]]):
            layer[(name,) + batch_index + (0,) * len(channels) + index] = (
                _scatter_window, _nested_keys((x.name,) + batch_index, blocks), slices, gathers,
                cls_name, frozen, nan_policy, backend, crop)
    chunks = (tuple(x.chunks[:batch]) + tuple((c,) for c in channels)
              + tuple(tuple(k1 - k0 for k0, k1 in r) for r in ranges))
    out_dtype = np.dtype(dtype)
    meta = meta_from_array(x, ndim=len(chunks), dtype=out_dtype)
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
    return da.Array(graph, name, chunks, meta=meta)


def _nested_keys(prefix, blocks):
    """The keys `prefix + (b0, b1, ...)` of the blocks b0 in blocks[0], b1 in blocks[1], ...,
    as lists nested one level per axis (which the task receives as arrays, nested alike)."""
    if not blocks:
        return prefix
    return [_nested_keys(prefix + (b,), blocks[1:]) for b in blocks[0]]


def _scatter_window(blocks, slices, gathers, cls_name, frozen, nan_policy, backend, crop):
    """The halo task: its window assembled from the input `blocks` (nested per signal axis), cut
    to `slices` and gathered by `gathers` (see `_window_plan`), then `_scatter_block`."""
    ndim = len(slices)

    def assemble(nested, d, pieces):
        if d == ndim:
            return nested[(Ellipsis,) + tuple(slices[a][p] for a, p in enumerate(pieces))]
        parts = [assemble(part, d + 1, pieces + (p,)) for p, part in enumerate(nested)]
        return parts[0] if len(parts) == 1 else _namespace(parts[0]).concatenate(parts, d - ndim)

    window = assemble(blocks, 0, ())
    xp = _namespace(window)
    for d, gather in enumerate(gathers):
        if gather is not None:
            window = xp.take(window, xp.asarray(gather), axis=window.ndim - ndim + d)
    return _scatter_block(window, cls_name, frozen, nan_policy, backend, crop)


# -- running on a cluster -----------------------------------------------------------------------
def is_gpu_array(x):
    """Whether the dask array `x` holds CuPy blocks (from its `_meta`)."""
    return is_cupy(getattr(x, "_meta", None))


def gpu_resources(x):
    """{"GPU": 1} for CuPy-backed dask arrays (their tasks must run on GPU workers), else None."""
    return {"GPU": 1} if is_gpu_array(x) else None


def compute(*arrays, client=None, resources="auto", **kwargs):
    """Compute dask arrays on `client` (default: the current distributed client), routing GPU
    work to workers that declare a `GPU` resource. `resources="auto"` asks for {"GPU": 1} when
    any array is CuPy-backed; a dict is passed on as it is; None asks for nothing.

    The resources are given at submission (`client.compute(..., resources=)`), which holds for
    every task of the graph: annotations made while building the graph (`dask.annotate`) are
    dropped when Dask optimizes the graph before submitting it (low-level fusion; dask/dask
    issue #7036). Returns the futures' results, like `dask.compute`."""
    from distributed import default_client

    client = default_client() if client is None else client
    if resources == "auto":
        resources = next((r for r in map(gpu_resources, arrays) if r), None)
    futures = client.compute(list(arrays), resources=resources, **kwargs)
    return tuple(client.gather(futures))
