"""What a run will do, before it does it: the lazy output, its regions and chunks, the task
count, the peak memory of a worker and the output's size.

The peak is estimated from measurements made here: the memory of a fresh process that has
imported what a worker imports, the filter bank's bytes, and the working memory of
the transform itself, traced (tracemalloc) on one and on two signals of the real shape and
scaled to the signals of one task, plus the task's input and output blocks (twice the output:
the store encodes a copy), times the threads of a worker.
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import registry
from ..xarray import api as xr_api
from .inputs import InputError, inspect_input, select_input

TARGET_CHUNK_BYTES = 16 * 2**20  # default zarr chunk size along the region dim


@dataclass
class Plan:
    spec: object
    source: object  # the selected input Dataset as opened (in memory for bundled datasets)
    chunks: dict  # the dask chunks the input is read in
    input: object  # the lazy input Dataset (selected, chunked)
    output: object  # the lazy output Dataset (what the store will hold)
    variables: list
    dims: list
    region_dim: str | None
    regions: list  # [(start, stop)] along region_dim
    chunk: int  # zarr chunk length along region_dim
    shard: int | None
    tasks: int
    input_bytes: int
    output_bytes: int
    threads_per_worker: int
    worker_memory: dict  # bytes: baseline, filters, per_task, peak

    @property
    def write_unit(self):
        """The length of the dask chunks written along the region dim: a shard, else a chunk."""
        return self.shard or self.chunk

    def region_names(self):
        return [region_name(r) for r in self.regions]


def region_name(region):
    return f"{region[0]:012d}-{region[1]:012d}"


def make_plan(spec, threads_per_worker=None):
    """The Plan of `spec`; InputError lists every problem found against the data."""
    source, variables, dims, problems = inspect_input(spec)
    region_dim = _region_dim(spec, source, variables, dims, problems)
    if problems:
        raise InputError(problems)
    source, variables, dims, chunks = select_input(spec, source, variables, dims)
    dataset = source.chunk(chunks)
    output = _lazy_output(spec, dataset, dims, problems)
    if spec.model and output is not None:
        from .model import check_model_data

        problems.extend(check_model_data(spec.model, dataset, variables[0], dims))
    if problems:
        raise InputError(problems)
    length = dataset.sizes[region_dim] if region_dim else 1
    chunk, shard, size = _region_sizes(spec, output, variables, region_dim, length, problems)
    if problems:
        raise InputError(problems)
    regions = [(start, min(start + size, length)) for start in range(0, length, size)]
    if region_dim:
        chunks = dict(chunks, **{region_dim: shard or chunk})
        dataset = source.chunk(chunks)
        output = _lazy_output(spec, dataset, dims, problems)
    threads = threads_per_worker or _default_threads(spec)
    memory = estimate_worker_memory(spec, dataset, variables, dims, threads)
    return Plan(spec, source, chunks, dataset, output, variables, dims, region_dim, regions,
                chunk, shard, _count_tasks(output, variables, region_dim, regions),
                int(sum(dataset[v].nbytes for v in variables)),
                int(sum(output[v].nbytes for v in variables)), threads, memory)


def region_piece(plan, region):
    """The output's data variables over one region, coords dropped (the template has them).
    An input held in memory is cut to the region first, so that a region's graph carries its
    own input only, not the whole dataset."""
    import dask

    piece = plan.output
    if plan.region_dim:
        window = {plan.region_dim: slice(*region)}
        if any(dask.is_dask_collection(plan.source[v].data) for v in plan.variables):
            piece = piece.isel(window)
        else:
            piece = _lazy_output(plan.spec, plan.source.isel(window).chunk(plan.chunks),
                                 plan.dims, [])
    piece = piece[plan.variables]
    return piece.drop_vars(list(piece.coords))


def _region_dim(spec, dataset, variables, dims, problems):
    """The dim cut into regions: `execution.region_dim`, checked against the input, or the
    first dim of the (first) variable that is not transformed."""
    region_dim = spec.execution["region_dim"]
    if dims is None or not variables:
        if region_dim is not None and region_dim not in dataset.dims:
            problems.append(f"execution.region_dim: {region_dim!r} is not a dim of the input; "
                            f"its dims: {list(dataset.dims)}")
        return region_dim
    loop = [d for d in dataset[variables[0]].dims if d not in dims]
    if region_dim is None:
        return loop[0] if loop else None
    if any(region_dim not in dataset[v].dims or region_dim in dims for v in variables):
        problems.append(f"execution.region_dim: {region_dim!r} must be a dim of every variable "
                        f"other than the transformed dims {dims}; candidates: {loop}")
    return region_dim


def _lazy_output(spec, dataset, dims, problems):
    transform = dict(spec.transform)
    kind, dtype = transform.pop("kind"), transform.pop("dtype")
    if dtype is not None:
        dataset = dataset.astype(dtype)
    try:
        return getattr(xr_api, kind)(dataset, dims=dims, **transform)
    except (ValueError, TypeError) as error:
        problems.append(f"transform: {error}")
        return None


def _region_sizes(spec, output, variables, region_dim, length, problems):
    chunk, shard = spec.output["chunks"], spec.output["shards"]
    if chunk is None:
        per_index = sum(output[v].nbytes for v in variables) / max(length, 1)
        chunk = max(1, min(length, int(TARGET_CHUNK_BYTES // max(per_index, 1))))
    unit = shard or chunk
    size = spec.execution["region_size"] or unit
    if size % unit:
        problems.append(f"execution.region_size: must be a multiple of the output's "
                        f"{'shard' if shard else 'chunk'} length {unit} along "
                        f"{region_dim!r}; got {size}")
    return chunk, shard, size


def _default_threads(spec):
    cluster = spec.cluster
    if cluster["kind"] == "local":
        if cluster.get("threads_per_worker"):
            return cluster["threads_per_worker"]
        from distributed.deploy.utils import nprocesses_nthreads

        return nprocesses_nthreads()[1]
    return 1


def _count_tasks(output, variables, region_dim, regions):
    """Tasks of all region writes: the graph of one region (one per write-unit chunk) times
    the regions, plus one store task per output chunk."""
    import dask

    total = 0
    for region in {regions[0], regions[-1]}:
        piece = output[variables]
        if region_dim:
            piece = piece.isel({region_dim: slice(*region)})
        arrays = [piece[v].data for v in variables]
        graph = {}
        for array in dask.optimize(*arrays):
            graph.update(array.__dask_graph__())
        chunks = sum(math.prod(len(c) for c in a.chunks) for a in arrays)
        count = len(regions) - 1 if region == regions[0] and len(regions) > 1 else 1
        total += (len(graph) + chunks) * count
    return total


def estimate_worker_memory(spec, dataset, variables, dims, threads):
    """Bytes: a worker's baseline, its filter bank, one task's working set, and the peak."""
    import tracemalloc

    baseline = _worker_baseline()
    frontend, dtype = _frontend(spec, dataset, variables, dims)
    filters = _nbytes(frontend.core.filters())
    signal = tuple(dataset.sizes[d] for d in dims)
    traced = []
    frontend(np.zeros((1,) + signal, dtype))  # converts the bank once, as a worker's first task
    for batch in (1, 2):
        tracemalloc.start()
        frontend(np.zeros((batch,) + signal, dtype))
        traced.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    per_signal = max(traced[1] - traced[0], traced[0] // 2)
    fixed = max(traced[0] - per_signal, 0)
    var = dataset[variables[0]]
    signals = math.prod(c[0] for d, c in zip(var.dims, var.chunks) if d not in dims)
    in_block = signals * math.prod(signal) * np.dtype(dtype).itemsize
    out_block = signals * math.prod(frontend.core.array_shape) * np.dtype(dtype).itemsize
    per_task = (fixed + per_signal * signals + in_block + 2 * out_block) * len(variables)
    converted = filters // 2 if np.dtype(dtype) == np.float32 else 0
    peak = baseline + filters + converted + threads * per_task
    return {"baseline": int(baseline), "filters": int(filters + converted),
            "per_task": int(per_task), "peak": int(peak), "signals_per_task": int(signals)}


def _worker_baseline():
    """The memory of a fresh process that has imported what a worker imports (measured in a
    subprocess: this process may hold much more, e.g. frameworks a test suite imported)."""
    import subprocess
    import sys

    code = ("import distributed.worker, xarray, zarr, scatflow.dask, psutil; "
            "print(psutil.Process().memory_info().rss)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=300)
    return int(result.stdout.split()[-1])


def _frontend(spec, dataset, variables, dims):
    """The cached frontend the tasks run (`scatflow.dask.describe`), and the compute dtype."""
    from .. import dask as scat_dask

    kind = spec.transform["kind"]
    kwargs = xr_api.resolve_from_coordinates(kind, dataset, dims, spec.frontend_kwargs)
    frontend = scat_dask.describe(registry.get(kind).class_name,
                                  tuple(dataset.sizes[d] for d in dims), **kwargs)
    dtype = spec.transform["dtype"] or np.result_type(*(dataset[v].dtype for v in variables))
    dtype = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float64)
    return frontend, dtype


def _nbytes(tree):
    if isinstance(tree, dict):
        return sum(_nbytes(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return sum(_nbytes(v) for v in tree)
    return getattr(tree, "nbytes", 0)


def describe_plan(plan):
    """The plan as lines a person reads."""
    memory = plan.worker_memory
    mib = 2**20
    dim = plan.region_dim or "(none)"
    lines = [
        f"input      {', '.join(plan.variables)} over {plan.dims}: "
        f"{dict(plan.input.sizes)}, {plan.input_bytes / mib:.1f} MiB",
        f"transform  {plan.spec.transform['kind']} "
        + " ".join(f"{k}={v}" for k, v in plan.spec.frontend_kwargs.items()),
        f"output     {plan.spec.output['store']}: {dict(plan.output.sizes)}, "
        f"{plan.output_bytes / mib:.1f} MiB before compression",
        f"regions    {len(plan.regions)} along {dim!r} of {plan.regions[0][1] - plan.regions[0][0]}"
        f" (zarr chunk {plan.chunk}" + (f", shard {plan.shard}" if plan.shard else "") + ")",
        f"tasks      {plan.tasks}",
        f"memory     peak per worker ~{memory['peak'] / mib:.0f} MiB = baseline "
        f"{memory['baseline'] / mib:.0f} + filters {memory['filters'] / mib:.1f} + "
        f"{plan.threads_per_worker} thread(s) x {memory['per_task'] / mib:.1f} per task "
        f"({memory['signals_per_task']} signals)",
    ]
    return lines
