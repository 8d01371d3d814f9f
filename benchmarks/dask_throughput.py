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
"""

import argparse
import importlib.util
import os
import pickle
import platform
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
import zarr

import scatflow
import scatflow.dask as sd
import scatflow.numpy as snp

ROOT = Path(__file__).resolve().parent.parent


def cluster_tests():
    """tests/test_dask_cluster.py as a module (its out-of-core run and its RSS sampler)."""
    spec = importlib.util.spec_from_file_location("test_dask_cluster",
                                                  ROOT / "tests" / "test_dask_cluster.py")
    module = importlib.util.module_from_spec(spec)
    # not put in sys.modules: the functions sent to the workers travel by value
    spec.loader.exec_module(module)
    return module


def machine():
    import distributed
    import psutil
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB; "
            f"Python {platform.python_version()}, scatflow {scatflow.__version__}, numpy "
            f"{np.__version__}, scipy {scipy.__version__}, dask {dask.__version__}, distributed "
            f"{distributed.__version__}, zarr {zarr.__version__}")


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
def write_input(path, n, image, chunk):
    x = da.random.default_rng(0).random((n, image, image), chunks=(chunk, image, image),
                                        dtype=np.float32)
    with dask.config.set(scheduler="threads"):
        da.to_zarr(x, path, compressors=None, mode="w")
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


def timed(run, repeats):
    run(warm=True)
    return [run() for _ in range(repeats)]


def throughput(tmp, size_mb, image, chunk, batch, J, L, repeats, rows):
    n = max(chunk, round(size_mb * 1e6 / (4 * image * image) / chunk) * chunk)
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

        def in_memory(warm=False):
            if warm:
                S(x[:batch])
                return 0.0
            start = time.perf_counter()
            for i in range(0, len(x), batch):
                S(x[i:i + batch])
            return time.perf_counter() - start

        times = timed(in_memory, repeats)
        row(f"in memory: scatflow.numpy.Scattering2D, {S._backend_for(x).threads} threads, "
            f"{batch} images per call", times, None, "NumPy -> NumPy")
    return dict(n=n, image=image, chunk=chunk, nbytes=nbytes, rows=results, J=J, L=L,
                out_shape=(n,) + tuple(snp.Scattering2D(J=J, shape=(image, image), L=L)
                                       .core.array_shape))


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
            print("### Out of core (tests/test_dask_cluster.py::run_out_of_core)\n")
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
