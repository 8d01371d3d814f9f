"""The GPU check's Dask sections (gpu_check.py runs them): `dask`, zarr store to zarr store on a
worker declaring the resource GPU=1, three ways, against the CPU path's numbers; `throughput`,
the MB/s of the GPU path against the CPU path on every core of the machine, one fixed protocol.

The GPU worker is dask-cuda's LocalCUDACluster on GPU 0 where dask-cuda imports and starts,
else (and in a dry run, on the CPU) a LocalCluster worker declaring GPU=1; tasks reach it
through `resources={"GPU": 1}` given at submission, as `scatflow run` gives them.
"""

import contextlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from reference import worst_channel_error
from test_frontends_agree import TOLERANCE

DASK_SPEEDUP_TARGET = 5.0  # the GPU path against the CPU path on all cores of one machine


# -- clusters and stores ------------------------------------------------------------------------
@contextlib.contextmanager
def gpu_cluster(run, threads):
    """(client, description) of one worker process declaring the resource GPU=1: dask-cuda's
    LocalCUDACluster on GPU 0 where it imports and starts, else a LocalCluster worker (the CPU
    standing in, in a dry run)."""
    from distributed import Client, LocalCluster

    cluster = None
    if not run.accelerator.dry_run:
        try:
            from dask_cuda import LocalCUDACluster

            cluster = LocalCUDACluster(CUDA_VISIBLE_DEVICES="0", threads_per_worker=threads,
                                       resources={"GPU": 1}, dashboard_address=":0")
            description = f"dask-cuda LocalCUDACluster, 1 worker on GPU 0 x {threads} threads"
        except Exception as error:  # ImportError, or CUDA bindings failing: say so, go on
            run.log(f"  dask-cuda unusable ({type(error).__name__}: {error}); a LocalCluster "
                    "worker declaring GPU=1 instead")
    if cluster is None:
        cluster = LocalCluster(n_workers=1, threads_per_worker=threads, processes=True,
                               resources={"GPU": 1}, dashboard_address=":0")
        description = (f"LocalCluster, 1 worker process x {threads} threads declaring GPU=1"
                       + (" (dry run: the CPU)" if run.accelerator.dry_run else ""))
    with cluster, Client(cluster) as client:
        yield client, description


def zstd():
    import zarr.codecs

    return [zarr.codecs.ZstdCodec(level=3)]


def write_images(path, n, image, chunk, seed=0):
    """`n` random float32 images as the variable `image` (time, y, x) of a zarr store, zstd
    level 3, `chunk` images a chunk; returns its bytes."""
    import dask
    import dask.array as da
    import xarray as xr

    data = da.random.default_rng(seed).random((n, image, image), chunks=(chunk, image, image),
                                              dtype=np.float32)
    with dask.config.set(scheduler="threads"):
        xr.Dataset({"image": (("time", "y", "x"), data)}).to_zarr(
            path, mode="w", consolidated=False, encoding={"image": {"compressors": zstd()}})
    return n * image * image * 4


def accessor_to_zarr(client, source, target, J, L, backend, resources, images=None):
    """`ds.scat.scattering2d` of the store `source` written to `target` (zstd level 3) on
    `client`, with `resources` for every task; the seconds it took."""
    import xarray as xr

    ds = xr.open_zarr(source, consolidated=False)
    if images is not None:
        ds = ds.isel(time=slice(0, images))
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    out = ds.scat.scattering2d(J=J, L=L, backend=backend)
    stored = out.to_zarr(target, compute=False, consolidated=False,
                         encoding={"image": {"compressors": zstd()}})
    client.compute(stored, resources=resources).result()
    return time.perf_counter() - start


# -- the sections ---------------------------------------------------------------------------------
def dask_paths(run, section):
    """zarr -> zarr on one worker declaring GPU=1, three ways (CuPy chunks through
    scatflow.dask; the accessor with backend="cupy"; a workflow with backend: cupy), each
    against the CPU path's store within DESIGN.md's 2D float32 tolerance."""
    import dask
    import dask.array as da
    import xarray as xr

    import scatflow.dask as sd
    from scatflow.workflow.run import run_workflow
    from scatflow.workflow.spec import check_spec

    sizes, dry = run.sizes, run.accelerator.dry_run
    J, L, chunk = sizes.dask_J, sizes.dask_L, sizes.dask_chunk
    gpu_backend = "numpy" if dry else "cupy"
    tolerance = TOLERANCE["2d", "float32"]
    tmp = Path(tempfile.mkdtemp(prefix="scatflow-gpu-dask-"))
    try:
        source = tmp / "images.zarr"
        write_images(source, sizes.dask_images, sizes.dask_image, chunk)
        with dask.config.set(scheduler="threads"):
            out = xr.open_zarr(source, consolidated=False).scat.scattering2d(J=J, L=L,
                                                                            backend="numpy")
            out.to_zarr(tmp / "cpu.zarr", consolidated=False)
        expected = xr.open_zarr(tmp / "cpu.zarr", consolidated=False)["image"].values
        section.markdown.append(
            f"{sizes.dask_images} random float32 images {sizes.dask_image}x{sizes.dask_image} "
            f"in a zarr store (zstd level 3, chunks of {chunk} images), scattering2d J={J} L={L},"
            f" written to zarr stores; each GPU path against the CPU path's store (the "
            f"accessor on the threaded scheduler, NumPy backend), per-channel error <= "
            f"{tolerance:g}.")

        def compare(label, path, variable="image"):
            got = xr.open_zarr(path, consolidated=False)[variable].values
            error = worst_channel_error(got, expected, channel_axis=1)
            section.check(label, got.shape == expected.shape and error <= tolerance,
                          f"per-channel error {error:.1e} against the CPU path")

        with gpu_cluster(run, run.args.gpu_threads) as (client, description):
            section.markdown.append(f"\nGPU worker: {description}.")
            workers = client.scheduler_info()["workers"].values()
            section.check("the worker declares the resource GPU=1",
                          [w.get("resources") for w in workers] == [{"GPU": 1}])

            x = da.from_zarr(str(source), component="image")
            to_device, to_host = (np.asarray, np.asarray) if dry else _cupy_converters()
            on_device = x.map_blocks(to_device, dtype=x.dtype,
                                     meta=to_device(np.empty((0, 0, 0), x.dtype)))
            y = sd.scattering2d(on_device, J=J, L=L)
            section.check("scatflow.dask on CuPy chunks stays CuPy-backed"
                          + (" (dry run: NumPy chunks)" if dry else ""),
                          dry or sd.is_gpu_array(y))
            host = y.map_blocks(to_host, dtype=y.dtype, meta=np.empty((0,) * y.ndim, y.dtype))
            stored = da.to_zarr(host, str(tmp / "cupy-chunks.zarr"), compute=False,
                                compressors=zstd())
            client.compute(stored, resources={"GPU": 1}).result()
            got = da.from_zarr(str(tmp / "cupy-chunks.zarr")).compute()
            error = worst_channel_error(got, expected, channel_axis=1)
            section.check("CuPy chunks through scatflow.dask, zarr -> zarr, = CPU path",
                          error <= tolerance, f"per-channel error {error:.1e}")

            accessor_to_zarr(client, source, tmp / "accessor.zarr", J, L, gpu_backend,
                             {"GPU": 1})
            compare(f"ds.scat.scattering2d(backend={gpu_backend!r}) on NumPy chunks, zarr -> "
                    "zarr, = CPU path", tmp / "accessor.zarr")

            spec = check_spec({
                "input": {"store": str(source), "dims": ["y", "x"], "chunks": {"time": chunk}},
                "transform": {"kind": "scattering2d", "J": J, "L": L, "backend": gpu_backend,
                              "dtype": "float32"},
                "output": {"store": str(tmp / "workflow.zarr"), "chunks": chunk},
                "execution": {"region_dim": "time", "region_size": 2 * chunk}}, tmp)
            report = run_workflow(spec, scheduler_address=client.scheduler_info()["address"],
                                  progress=False, echo=lambda line: None)
            run.log(f"  workflow: {report.describe()[0]}")
            compare(f"workflow (transform.backend: {gpu_backend}), zarr -> zarr, = CPU path",
                    tmp / "workflow.zarr")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cupy_converters():
    import cupy

    return cupy.asarray, cupy.asnumpy


def throughput(run, section):
    """MB/s of float32 input, zarr store to zarr store, of the Dask GPU path (one worker
    declaring GPU=1, `--gpu-threads` threads, backend="cupy") against the CPU path (NumPy
    backend, worker processes x threads = every core) on the same input store. The GPU path
    twice: each task asking GPU=1, as `scatflow run` and `scatflow.dask.compute` ask today,
    which lets the worker run one task at a time whatever its threads; and asking
    GPU=1/threads, so that one task's zarr decoding and encoding overlap another's GPU work."""
    import xarray as xr

    sizes, dry, threads = run.sizes, run.accelerator.dry_run, run.args.gpu_threads
    image, J, L = (32, 2, 4) if dry else (256, 3, 8)
    chunk = sizes.throughput_chunk
    n = max(chunk, round(sizes.throughput_mb * 1e6 / (4 * image * image) / chunk) * chunk)
    cores = os.cpu_count() or 1
    processes = max(1, cores // 4)
    gpu = "GPU path, backend=" + ("'numpy' (dry run)" if dry else "'cupy'")
    clusters = [  # (cluster, backend, [(key, label, resources of each task)])
        (lambda: gpu_cluster(run, threads), "numpy" if dry else "cupy",
         [("GPU", f"{gpu}, each task asks GPU=1", {"GPU": 1}),
          ("GPU-shared", f"{gpu}, each task asks GPU=1/{threads}", {"GPU": 1 / threads})]),
        (lambda: cpu_cluster(processes, cores // processes), "numpy",
         [("CPU", "CPU path, NumPy backend", None)])]
    tmp = Path(tempfile.mkdtemp(prefix="scatflow-gpu-throughput-"))
    try:
        source = tmp / "images.zarr"
        nbytes = write_images(source, n, image, chunk, seed=1)
        protocol = (f"{n} random float32 images {image}x{image} ({nbytes / 1e6:.3g} MB, MB = "
                    f"1e6 bytes) in one zarr store (zstd level 3, chunks of {chunk} images, the "
                    f"dask chunks), `ds.scat.scattering2d(J={J}, L={L})` written to a zarr store "
                    f"(zstd level 3); the median of {sizes.repeats} runs after a warm-up run "
                    f"of 4 chunks")
        section.markdown += [protocol + ".", "",
                             "| path | workers | runs (s) | MB/s of input |", "|---|---|---|---|"]
        figures = {}
        for cluster, backend, variants in clusters:
            with cluster() as (client, description):
                for key, label, resources in variants:
                    times = _timed_runs(run, section, client, source, tmp / f"{key}.zarr", J, L,
                                        backend, resources, 4 * chunk, label)
                    figures[key] = dict(label=label, workers=description, times_s=times,
                                        mb_per_s=nbytes / 1e6 / statistics.median(times))
                    _report_path(run, section, protocol, figures[key])
        gpu_out, cpu_out = (xr.open_zarr(tmp / f"{key}.zarr", consolidated=False)["image"]
                            [:chunk].values for key in ("GPU", "CPU"))
        error = worst_channel_error(gpu_out, cpu_out, channel_axis=1)
        section.check("the GPU path's coefficients = the CPU path's (first chunk)",
                      error <= 5e-6, f"per-channel error {error:.1e}")
        speedups = {key: figures[key]["mb_per_s"] / figures["CPU"]["mb_per_s"]
                    for key in ("GPU", "GPU-shared")}
        verdict = "met" if speedups["GPU"] >= DASK_SPEEDUP_TARGET else "**missed**"
        section.markdown += [
            "", f"GPU path / CPU path: {speedups['GPU']:.2f}x as scatflow submits today "
            f"({verdict}: target >= {DASK_SPEEDUP_TARGET:g}x on the same machine); "
            f"{speedups['GPU-shared']:.2f}x with each task asking GPU=1/{threads}."]
        section.data["throughput"] = dict(protocol=protocol, paths=figures, speedups=speedups)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _timed_runs(run, section, client, source, target, J, L, backend, resources, warm_images,
                label):
    """The seconds of `repeats` runs after a warm-up run on `warm_images` images (fewer runs
    where the check's time runs out, and the section says so)."""
    accessor_to_zarr(client, source, target, J, L, backend, resources, images=warm_images)
    times = []
    for _ in range(run.sizes.repeats):
        if times and run.time_for(section.name) < 5:
            section.reason = f"{label}: out of time after {len(times)} runs"
            break
        times.append(accessor_to_zarr(client, source, target, J, L, backend, resources))
    return times


def _report_path(run, section, protocol, figures):
    runs = ", ".join(f"{t:.2f}" for t in figures["times_s"])
    run.log(f"  {figures['label']} ({figures['workers']}): {runs} s, "
            f"{figures['mb_per_s']:.1f} MB/s")
    section.markdown.append(f"| {figures['label']} | {figures['workers']} | {runs} | "
                            f"{figures['mb_per_s']:.1f} |")
    section.rows.append(dict(section="throughput", configuration=protocol,
                             library=f"{figures['label']}; {figures['workers']}",
                             median_s=statistics.median(figures["times_s"]),
                             runs=len(figures["times_s"]),
                             times_s=" ".join(f"{t:.3f}" for t in figures["times_s"]),
                             mb_per_s=figures["mb_per_s"]))


@contextlib.contextmanager
def cpu_cluster(processes, threads):
    """(client, description) of a LocalCluster of `processes` worker processes x `threads`."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=processes, threads_per_worker=threads, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        yield client, (f"LocalCluster, {processes} worker process{'es' if processes > 1 else ''}"
                       f" x {threads} threads")
