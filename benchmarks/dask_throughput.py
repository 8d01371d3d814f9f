"""scatflow.dask figures for issue 4: graph size, throughput against the in-memory path, and the
peak worker memory of the out-of-core run. Prints markdown (results/issue4_dask.md holds a run).

    python benchmarks/dask_throughput.py                      # graph + throughput (~10 min, 2 cores)
    python benchmarks/dask_throughput.py --out-of-core        # also the out-of-core run (~2-3 min)
    python benchmarks/dask_throughput.py --only graph         # just the graph figures

Throughput: MB/s of float32 input (MB = 1e6 bytes), median of `--repeats` runs after a warm-up.
* dask rows read the input from a zarr store on local disk (uncompressed, chunks of
  `--chunk-images` images, the dask chunks) and write the coefficients to another zarr store
  (aligned chunks, uncompressed): the whole chunk-wise pipeline, I/O included;
* the in-memory row runs `scatflow.numpy.Scattering2D` (its default backend: 2 threads here) on
  the same data held as one NumPy array, `--batch` images per call, output into memory.

`accessor_throughput` (the same on the `ds.scat` accessor, 1 and 2 worker processes against in
memory) makes the Dask rows of `make bench` (bench.py).
"""

import argparse
import importlib.util
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cloudpickle
import dask
import dask.array as da
import numpy as np
import xarray as xr
import zarr

import scatflow  # noqa: F401  (registers the `scat` accessor)
import scatflow.dask as sd
import scatflow.numpy as snp
from environment import describe

ROOT = Path(__file__).resolve().parent.parent


def cluster_tests():
    """tests/dask/test_dask_cluster.py as a module (its out-of-core run and its RSS sampler)."""
    spec = importlib.util.spec_from_file_location("test_dask_cluster",
                                                  ROOT / "tests" / "dask" / "test_dask_cluster.py")
    module = importlib.util.module_from_spec(spec)
    # not put in sys.modules: the functions sent to the workers travel by value
    spec.loader.exec_module(module)
    return module


def machine():
    return describe(["scatflow", "numpy", "scipy", "dask", "distributed", "zarr"])


# -- graph ----------------------------------------------------------------------------------------
def graph_figures(tmp, shape=(1024, 512, 512), chunk=16, J=3, L=8):
    """Pickled size and task count of the graph of scattering2d on a zarr-backed array of
    `shape` (metadata only: nothing is read or computed)."""
    path = os.path.join(tmp, "graph-input.zarr")
    zarr.create_array(path, shape=shape, chunks=(chunk,) + shape[1:], dtype="float32",
                      compressors=None)
    x = da.from_zarr(path)
    start = time.perf_counter()
    y = sd.scattering2d(x, J=J, L=L)
    built = time.perf_counter() - start
    graph = y.__dask_graph__()
    (layer,) = set(graph.layers) - set(x.__dask_graph__().layers)
    frontend = sd.describe("Scattering2D", shape[1:], J=J, L=L)
    bank = sum(np.asarray(level).nbytes for p in frontend.psi for level in p["levels"])
    bank += sum(np.asarray(level).nbytes for level in frontend.phi["levels"])
    transform_only = dict(graph.layers[layer])
    return dict(
        input=f"{shape} float32 ({np.prod(shape) * 4 / 2**30:.0f} GiB), chunks "
              f"({chunk}, {shape[1]}, {shape[2]}), `da.from_zarr`",
        transform=f"scattering2d(J={J}, L={L}) -> {y.shape} {y.dtype}",
        tasks=len(graph), transform_tasks=len(transform_only), layers=len(graph.layers),
        pickle=len(pickle.dumps(dict(graph))), cloudpickle=len(cloudpickle.dumps(graph)),
        transform_pickle=len(pickle.dumps(transform_only)), bank=bank, build_s=built)


# -- throughput -----------------------------------------------------------------------------------
def image_count(size_mb, image, chunk):
    """Whole chunks of float32 `image`x`image` images nearest to `size_mb` MB."""
    return max(chunk, round(size_mb * 1e6 / (4 * image * image) / chunk) * chunk)


def random_images(n, image, chunk):
    """`n` random float32 images `image`x`image` as a dask array, `chunk` images a chunk."""
    return da.random.default_rng(0).random((n, image, image), chunks=(chunk, image, image),
                                           dtype=np.float32)


def write_input(path, n, image, chunk):
    with dask.config.set(scheduler="threads"):
        da.to_zarr(random_images(n, image, chunk), path, compressors=None, mode="w")
    return zarr.open_array(path, mode="r")


def dask_run(source, target, J, L, warm=False):
    x = da.from_zarr(source)
    if warm:  # a few chunks: worker imports, the filter bank built in each process
        x = x[: 4 * x.chunks[0][0]]
    y = sd.scattering2d(x, J=J, L=L)
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    da.to_zarr(y, target, compressors=None)
    return time.perf_counter() - start


def in_memory_run(S, x, batch, warm=False):
    """`S` over the images `x`, `batch` per call (warm: one call)."""
    if warm:
        S(x[:batch])
        return 0.0
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        S(x[i:i + batch])
    return time.perf_counter() - start


def timed(run, repeats, long_repeats=None, long_s=10.0):
    """The times of `repeats` calls of `run()` after one `run(warm=True)`; only `long_repeats`
    calls where given and the first call took over `long_s`."""
    run(warm=True)
    times = [run()]
    if long_repeats is not None and times[0] > long_s:
        repeats = long_repeats
    return times + [run() for _ in range(repeats - 1)]


def throughput(tmp, size_mb, image, chunk, batch, J, L, repeats, rows):
    n = image_count(size_mb, image, chunk)
    source, target = os.path.join(tmp, "in.zarr"), os.path.join(tmp, "out.zarr")
    stored = write_input(source, n, image, chunk)
    nbytes = stored.nbytes
    results = []

    def row(name, times, peak, note=""):
        results.append(dict(name=name, times=times, mbps=nbytes / 1e6 / statistics.median(times),
                            peak=peak, note=note))
        print(f"  {name}: {[round(t, 1) for t in times]} s", file=sys.stderr, flush=True)

    from distributed import Client, LocalCluster

    for workers in (2, 1):
        if f"cluster{workers}" not in rows:
            continue
        tests = cluster_tests()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(tests.start_rss_sampler)
            times = timed(lambda warm=False: dask_run(source, target, J, L, warm), repeats)
            peak = max(client.run(tests.stop_rss_sampler).values())
        row(f"dask, LocalCluster {workers} worker process{'es' if workers > 1 else ''} x 1 "
            f"thread", times, peak, "zarr -> zarr")
    if "threads" in rows:
        with dask.config.set(scheduler="threads", num_workers=2):
            times = timed(lambda warm=False: dask_run(source, target, J, L, warm), repeats)
        row("dask, threaded scheduler, 2 threads (in this process)", times, None, "zarr -> zarr")
    if "numpy" in rows:
        x = stored[:]  # the same data, in memory
        S = snp.Scattering2D(J=J, shape=(image, image), L=L)
        times = timed(lambda warm=False: in_memory_run(S, x, batch, warm), repeats)
        row(f"in memory: scatflow.numpy.Scattering2D, {S._backend_for(x).threads} threads, "
            f"{batch} images per call", times, None, "NumPy -> NumPy")
    return dict(n=n, image=image, chunk=chunk, nbytes=nbytes, rows=results, J=J, L=L,
                out_shape=(n,) + tuple(snp.Scattering2D(J=J, shape=(image, image), L=L)
                                       .core.array_shape))


# -- the scat accessor, zarr to zarr (benchmarks/bench.py) ----------------------------------------
def write_dataset(path, n, image, chunk):
    """`n` random float32 images as the variable `image` (time, y, x) of an uncompressed zarr
    store, `chunk` images a chunk; opened back (dask-backed, chunks = the zarr chunks)."""
    images = xr.Dataset({"image": (("time", "y", "x"), random_images(n, image, chunk))})
    with dask.config.set(scheduler="threads"):
        images.to_zarr(path, mode="w", encoding={"image": {"compressors": None}},
                       consolidated=False)
    return xr.open_zarr(path, consolidated=False)


def accessor_run(ds, target, J, L, warm=False):
    """`ds.scat.scattering2d` written to the zarr store `target` (uncompressed); the seconds of the
    write, which reads, transforms and writes (warm: the first 4 chunks only)."""
    if warm:  # worker imports, the filter bank built in each process
        ds = ds.isel(time=slice(0, 4 * ds.chunks["time"][0]))
    out = ds.scat.scattering2d(J=J, L=L)
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    out.to_zarr(target, encoding={"image": {"compressors": None}}, consolidated=False)
    return time.perf_counter() - start


def accessor_throughput(tmp, size_mb, image=256, chunk=16, batch=16, J=3, L=8,
                        workers=(1, 2), repeats=5, long_repeats=3, long_s=10.0, log=print):
    """MB/s of float32 input of `ds.scat.scattering2d` from one zarr store to another on a
    LocalCluster of each of `workers` worker processes x 1 thread, and of
    `scatflow.numpy.Scattering2D` on the same images in memory, `batch` per call. Each row:
    path, data, times, MB/s and its number of workers (None in memory)."""
    from distributed import Client, LocalCluster

    n = image_count(size_mb, image, chunk)
    target = os.path.join(tmp, "coefficients.zarr")
    ds = write_dataset(os.path.join(tmp, "images.zarr"), n, image, chunk)
    nbytes = ds["image"].nbytes
    rows = []

    def row(path, data, times, workers=None):
        rows.append(dict(path=path, data=data, times=times, workers=workers,
                         mbps=nbytes / 1e6 / statistics.median(times)))
        log(f"  {path}: {', '.join(f'{t:.1f}' for t in times)} s, "
            f"{rows[-1]['mbps']:.1f} MB/s")

    for n_workers in workers:
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            times = timed(lambda warm=False: accessor_run(ds, target, J, L, warm), repeats,
                          long_repeats, long_s)
        path = (f"`ds.scat.scattering2d`, LocalCluster {n_workers} worker "
                f"process{'es' if n_workers > 1 else ''} x 1 thread")
        row(path, "zarr -> zarr", times, n_workers)
    x = ds["image"].values
    S = snp.Scattering2D(J=J, shape=(image, image), L=L)
    times = timed(lambda warm=False: in_memory_run(S, x, batch, warm), repeats, long_repeats,
                  long_s)
    row(f"in memory: `scatflow.numpy.Scattering2D`, {batch} images per call", "NumPy -> NumPy",
        times)
    return dict(n=n, image=image, chunk=chunk, nbytes=nbytes, J=J, L=L, rows=rows)


def out_of_core(tmp):
    module = cluster_tests()
    directory = os.path.join(tmp, "out-of-core")
    os.makedirs(directory)
    try:
        r = module.run_out_of_core(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    r["config"] = module.OUT_OF_CORE
    return r


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["graph", "throughput"], default=None)
    parser.add_argument("--out-of-core", action="store_true")
    parser.add_argument("--size-mb", type=float, default=256)
    parser.add_argument("--image", type=int, default=256)
    parser.add_argument("--chunk-images", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16, help="images per in-memory call")
    parser.add_argument("--J", type=int, default=3)
    parser.add_argument("--L", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", default="cluster2,cluster1,threads,numpy")
    parser.add_argument("--tmp", default=None, help="folder for the zarr stores (default: $TMPDIR)")
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="scatflow-bench-", dir=args.tmp)
    try:
        print(f"Machine: {machine()}\n")
        if args.only in (None, "graph"):
            g = graph_figures(tmp, J=args.J, L=args.L)
            print(f"### Graph of `{g['transform']}`, built, not computed\n")
            print(f"Input: {g['input']}; built in {g['build_s']:.2f} s (the filter bank, "
                  f"{g['bank'] / 1e6:.1f} MB, is built once on the client for the checks and "
                  f"stays out of the graph).\n")
            print("| graph | tasks | layers | pickled bytes |")
            print("|---|---|---|---|")
            print(f"| whole (`pickle.dumps(dict(graph))`) | {g['tasks']} | {g['layers']} | "
                  f"{g['pickle']:,} |")
            print(f"| whole (`cloudpickle.dumps(HighLevelGraph)`) | {g['tasks']} | "
                  f"{g['layers']} | {g['cloudpickle']:,} |")
            print(f"| the transform's layer alone | {g['transform_tasks']} | 1 | "
                  f"{g['transform_pickle']:,} ({g['transform_pickle'] / g['transform_tasks']:.0f}"
                  f" per task) |\n")
        if args.only in (None, "throughput"):
            rows = args.rows.split(",")
            t = throughput(tmp, args.size_mb, args.image, args.chunk_images, args.batch, args.J,
                           args.L, args.repeats, rows)
            print(f"### Throughput, scattering2d J={t['J']} L={t['L']} (max_order=2), float32\n")
            print(f"Input: {t['n']} images {t['image']}x{t['image']} = {t['nbytes'] / 1e6:.0f} MB "
                  f"float32 (dask chunks and zarr chunks of {t['chunk']} images, "
                  f"{t['chunk'] * t['image'] ** 2 * 4 / 2**20:.0f} MiB); output "
                  f"{t['out_shape']} float32. Median of {args.repeats} runs after a warm-up.\n")
            print("| path | data | runs (s) | median MB/s of input | peak worker RSS (MiB) |")
            print("|---|---|---|---|---|")
            for r in t["rows"]:
                peak = "-" if r["peak"] is None else f"{r['peak']:.0f}"
                print(f"| {r['name']} | {r['note']} | {', '.join(f'{s:.1f}' for s in r['times'])}"
                      f" | {r['mbps']:.1f} | {peak} |")
            print()
        if args.out_of_core:
            r = out_of_core(tmp)
            c = r["config"]
            print("### Out of core (tests/dask/test_dask_cluster.py::run_out_of_core)\n")
            print(f"LocalCluster {r['n_workers']} worker processes x 1 thread, memory_limit "
                  f"{r['memory_limit'] / 2**20:.0f} MiB each (Dask's default thresholds); input "
                  f"{r['input_bytes'] / 1e9:.2f} GB random float32 in zarr (uncompressed), "
                  f"{r['n_images']} images {c['image']}, chunks of {c['images_per_chunk']} = "
                  f"{r['input_bytes'] / r['total_limit']:.1f} x the workers' total memory_limit; "
                  f"scattering2d({c['transform']}) -> zarr {r['output_shape']}.\n")
            print("| written (s) | transformed (s) | MB/s | peak worker RSS (MiB) | pauses | "
                  "restarts | worst channel error (8 images) |")
            print("|---|---|---|---|---|---|---|")
            print(f"| {r['write_s']:.0f} | {r['transform_s']:.0f} | "
                  f"{r['input_bytes'] / 1e6 / r['transform_s']:.0f} | "
                  f"{r['peak_worker_mib']:.0f} | {r['pauses']} | {len(r['restarts'])} | "
                  f"{r['error']:.1e} |\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
