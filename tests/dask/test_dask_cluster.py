"""scatflow.dask on real Dask clusters (worker processes): the graph carries no filter bank, a
zarr store ten times the workers' memory goes through without a restart, `dask scheduler` /
`dask worker` processes run it, and GPU work is routed to the workers that declare a GPU.

`run_out_of_core` is also run by benchmarks/dask_throughput.py (`--out-of-core`), which records
its peak worker memory in benchmarks/results/issue4_dask.md.
"""

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import dask
import dask.array as da
import numpy as np
import pytest
import zarr

import scatflow.dask as sd
import scatflow.numpy as snp

MiB = 2**20


def forbid_compute(*args, **kwargs):
    raise AssertionError("something was computed while the graph was built")


def channel_error(ours, ref, axis):
    """DESIGN.md's metric: worst over channels (`axis`) of max|ours_c - ref_c| /
    max(max|ref_c|, 1e-6 max|ref|)."""
    ours = np.moveaxis(np.asarray(ours, dtype=np.float64), axis, 0).reshape(ours.shape[axis], -1)
    ref = np.moveaxis(np.asarray(ref, dtype=np.float64), axis, 0).reshape(ref.shape[axis], -1)
    scale = np.maximum(np.abs(ref).max(axis=1), 1e-6 * np.abs(ref).max())
    return float((np.abs(ours - ref).max(axis=1) / scale).max())


def start_rss_sampler(dask_worker, interval=0.005):
    """Samples the worker process's resident memory every `interval` s in a thread, keeping
    the peak. (Not ru_maxrss: a nanny forks the worker from its own process, here the client's,
    and Linux carries the parent's peak over into the child.)"""
    import threading

    import psutil

    process = psutil.Process()
    state = {"peak": process.memory_info().rss, "running": True}

    def sample():
        while state["running"]:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(interval)

    threading.Thread(target=sample, name="scatflow-rss-sampler", daemon=True).start()
    dask_worker.scatflow_rss_sampler = state


def stop_rss_sampler(dask_worker):
    """The peak resident memory (MiB) since `start_rss_sampler`; stops the sampling."""
    state = dask_worker.scatflow_rss_sampler
    state["running"] = False
    return state["peak"] / MiB


# -- 1. the graph --------------------------------------------------------------------------------
def test_graph_is_small_lazy_and_one_layer_although_the_filter_bank_is_large():
    x = da.random.default_rng(0).random((64, 512, 512), chunks=(4, 512, 512), dtype=np.float32)
    with dask.config.set(scheduler=forbid_compute):
        y = sd.scattering2d(x, J=5, L=8)
    frontend = sd.describe("Scattering2D", (512, 512), J=5, L=8)
    bank = sum(np.asarray(level).nbytes for p in frontend.psi for level in p["levels"])
    assert bank > 20e6  # tens of MB of filters that must not travel
    graph = y.__dask_graph__()
    assert len(pickle.dumps(dict(graph))) < 1e6
    assert len(cloudpickle.dumps(graph)) < 1e6
    new = set(graph.layers) - set(x.__dask_graph__().layers)
    assert len(new) == 1 and next(iter(new)).startswith("scatflow-scattering2d")
    assert len(graph.layers[next(iter(new))]) == x.numblocks[0]  # one task per input block
    assert y.shape == (64,) + tuple(frontend.core.array_shape) and y.dtype == np.float32


# -- 2. out of core on a LocalCluster -------------------------------------------------------------
OUT_OF_CORE = dict(
    memory_limit=600 * MiB,  # per worker; an idle worker (numpy, scipy, dask, zarr) is ~220 MiB,
                             # and some runs sat at ~330 MiB (paused at 80% of 400 MiB)
    n_workers=2,
    image=(256, 256),
    images_per_chunk=8,      # 2 MiB input chunks: a task peaks ~30 MiB above the idle worker
    factor=10,               # the store is >= factor x each worker's memory_limit (6.3 GB:
                             # 5 x the two workers' total; CI's disk also holds it)
    transform=dict(J=3, L=1, max_order=1),  # K=4 channels at 1/64 of the pixels: 1/16 of the input
)


def _worker_events(client):
    """(restarts, removals, closings and extra additions of workers; pauses) from the
    scheduler's event log."""
    actions = [msg for _, msg in client.get_events("all") if isinstance(msg, dict)]
    added = [m for m in actions if m.get("action") == "add-worker"]
    lost = [m for m in actions if m.get("action") in ("remove-worker", "closing-worker",
                                                          "restart-workers")]
    pauses = sum(isinstance(m, dict) and m.get("action") == "worker-status-change"
                 and m.get("status") == "paused"
                 for topic, events in client.get_events().items() if topic != "all"
                 for _, m in events)  # distributed 2026.7.1 also logs tuples on some topics
    return lost + added[len(client.scheduler_info()["workers"]):], pauses


def run_out_of_core(directory, *, memory_limit=OUT_OF_CORE["memory_limit"],
                    n_workers=OUT_OF_CORE["n_workers"], image=OUT_OF_CORE["image"],
                    images_per_chunk=OUT_OF_CORE["images_per_chunk"],
                    factor=OUT_OF_CORE["factor"], transform=OUT_OF_CORE["transform"], samples=8,
                    timeout=900):
    """Writes a random float32 store of >= factor x memory_limit bytes under
    `directory`, transforms it on a LocalCluster into another store, checks restarts and the
    numbers on `samples` images; returns the figures (dict). The stores are left for the caller
    to delete."""
    from distributed import Client, LocalCluster

    image_bytes = 4 * image[0] * image[1]
    total_limit = n_workers * memory_limit
    n = -(-factor * memory_limit // (image_bytes * images_per_chunk)) * images_per_chunk
    source, target = os.path.join(directory, "in.zarr"), os.path.join(directory, "out.zarr")
    chunks = (images_per_chunk,) + tuple(image)

    start = time.perf_counter()
    x = da.random.default_rng(42).random((n,) + tuple(image), chunks=chunks, dtype=np.float32)
    with dask.config.set(scheduler="threads"):
        da.to_zarr(x, source, compressors=None)  # stored raw: the bytes on disk are the array's
    written = time.perf_counter() - start
    stored = zarr.open_array(source, mode="r")
    assert stored.nbytes >= factor * memory_limit and stored.chunks == chunks

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(n_workers, timeout=60)
        before = client.run(os.getpid)
        nannies = {name: nanny.process.pid for name, nanny in cluster.workers.items()}
        limits = {w["memory_limit"] for w in client.scheduler_info()["workers"].values()}
        assert limits == {memory_limit}
        client.run(start_rss_sampler)
        start = time.perf_counter()
        y = sd.scattering2d(da.from_zarr(source), **transform)
        future = client.compute(da.to_zarr(y, target, compressors=None, compute=False))
        try:  # a worker paused for good (memory over the pause threshold) hangs: fail instead
            future.result(timeout=timeout)
        except TimeoutError:
            states = client.run(lambda dask_worker: (str(dask_worker.status),
                                                     stop_rss_sampler(dask_worker)))
            raise AssertionError(f"not done in {timeout} s; workers (status, peak MiB): "
                                 f"{states}") from None
        transformed = time.perf_counter() - start
        after = client.run(os.getpid)
        peaks = client.run(stop_rss_sampler)
        restarts, pauses = _worker_events(client)
        nannies_after = {name: nanny.process.pid for name, nanny in cluster.workers.items()}

    out = zarr.open_array(target, mode="r")
    rng = np.random.default_rng(7)
    pick = np.unique(np.concatenate([[0, n - 1], rng.choice(n, samples - 2, replace=False)]))
    reference = snp.Scattering2D(shape=tuple(image), **transform)(stored[pick])
    return dict(
        n_images=int(n), input_bytes=int(stored.nbytes), output_shape=tuple(out.shape),
        output_chunks=tuple(out.chunks), chunks_written=int(out.nchunks_initialized),
        chunks_expected=int(np.prod(out.cdata_shape)), memory_limit=memory_limit,
        n_workers=n_workers, total_limit=total_limit, write_s=written, transform_s=transformed,
        workers_before=before, workers_after=after, nannies_before=nannies,
        nannies_after=nannies_after, restarts=restarts, pauses=pauses,
        peak_worker_mib=max(peaks.values()), peaks_mib=peaks,
        error=channel_error(out[pick], reference, axis=1),
        reference_shape=reference.shape, sample=pick.tolist())


@pytest.mark.cluster
@pytest.mark.slow
def test_a_store_ten_times_a_workers_memory_goes_through_without_a_restart(tmp_path):
    try:
        r = run_out_of_core(str(tmp_path))
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # ~6.3 GB: not left to pytest's tmp dirs
    assert r["input_bytes"] >= 10 * r["memory_limit"] and r["input_bytes"] >= 5 * r["total_limit"]
    assert r["workers_after"] == r["workers_before"] and r["nannies_after"] == r["nannies_before"]
    assert r["restarts"] == []
    assert r["chunks_written"] == r["chunks_expected"]
    assert r["output_shape"] == (r["n_images"],) + r["reference_shape"][1:]
    assert r["error"] <= 1e-5
    assert r["peak_worker_mib"] * MiB < 0.95 * r["memory_limit"]
    print(f"\nout of core: {r['input_bytes'] / 1e9:.2f} GB float32 ({r['n_images']} images "
          f"{OUT_OF_CORE['image']}) = {r['input_bytes'] / r['memory_limit']:.1f} x each worker's "
          f"memory_limit, {r['input_bytes'] / r['total_limit']:.1f} x their total "
          f"({r['n_workers']} x {r['memory_limit'] / MiB:.0f} MiB); written in "
          f"{r['write_s']:.0f} s, transformed in {r['transform_s']:.0f} s "
          f"({r['input_bytes'] / 1e6 / r['transform_s']:.0f} MB/s); peak worker RSS "
          f"{r['peak_worker_mib']:.0f} MiB (per worker {r['peaks_mib']}); pauses {r['pauses']}; "
          f"restarts 0; worst channel error {r['error']:.1e}")


# -- 3. `dask scheduler` and `dask worker` processes ----------------------------------------------
def _dask_cli(command):
    """`dask <command>` from this interpreter's environment (python -m ... where the `dask`
    script is not beside the interpreter)."""
    script = Path(sys.executable).with_name("dask")
    if script.exists():
        return [str(script), command]
    return [sys.executable, "-m", f"distributed.cli.dask_{command}"]


def _scheduler_ready(scheduler_file):
    """Whether the scheduler file is there and whole (it is not written atomically)."""
    try:
        return "address" in json.loads(scheduler_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False


def _running(pid):
    """Whether process `pid` runs (a zombie has ended)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop(process, timeout=60):
    """Ends `process` and its session (the worker's nanny and worker processes) for sure."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the session, if any
    except ProcessLookupError:
        pass
    process.wait(timeout)


@pytest.mark.cluster
def test_dask_scheduler_and_worker_processes_run_the_transform(tmp_path):
    import psutil
    from distributed import Client

    x = np.random.default_rng(3).random((48, 128, 96)).astype(np.float32)
    da.to_zarr(da.from_array(x, chunks=(8, 128, 96)), str(tmp_path / "in.zarr"))
    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes = []
    try:
        log = open(tmp_path / "scheduler.log", "w")
        processes.append(subprocess.Popen(
            _dask_cli("scheduler") + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(scheduler_file)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        deadline = time.monotonic() + 60
        while not _scheduler_ready(scheduler_file):
            assert processes[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler wrote no scheduler file in 60 s"
            time.sleep(0.2)
        log = open(tmp_path / "worker.log", "w")
        processes.append(subprocess.Popen(
            _dask_cli("worker") + ["--scheduler-file", str(scheduler_file), "--nworkers", "1",
                                   "--nthreads", "1", "--memory-limit", "1GiB", "--no-dashboard",
                                   "--local-directory", str(tmp_path / "worker-space"),
                                   "--death-timeout", "60"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            assert client.scheduler.address == address
            spawned = {p.pid for proc in processes
                       for p in psutil.Process(proc.pid).children(recursive=True)}
            y = sd.scattering2d(da.from_zarr(str(tmp_path / "in.zarr")), J=2, L=4)
            da.to_zarr(y, str(tmp_path / "out.zarr"))
            (again,) = sd.compute(y, client=client)
            workers = client.scheduler_info()["workers"]
            assert len(workers) == 1
            (info,) = workers.values()
            assert info["nthreads"] == 1 and info["memory_limit"] == 2**30
    finally:
        for process in reversed(processes):
            _stop(process)
    reference = snp.Scattering2D(J=2, shape=(128, 96), L=4)(x)
    assert channel_error(zarr.open_array(str(tmp_path / "out.zarr"))[:], reference, 1) <= 1e-5
    assert channel_error(again, reference, 1) <= 1e-5
    assert all(p.returncode is not None for p in processes)
    deadline = time.monotonic() + 60
    while leaked := [pid for pid in spawned if _running(pid)]:
        assert time.monotonic() < deadline, f"processes left running: {leaked}"
        time.sleep(0.2)


# -- 4. GPU routing with resources ---------------------------------------------------------------
@pytest.fixture(scope="module")
def cpu_and_gpu_workers():
    """Two worker processes (one thread each); only the second declares resources GPU=1."""
    from distributed import Client, Nanny, Scheduler, SpecCluster

    workers = {
        "cpu": {"cls": Nanny, "options": {"nthreads": 1, "memory_limit": "2GiB"}},
        "gpu": {"cls": Nanny, "options": {"nthreads": 1, "memory_limit": "2GiB",
                                          "resources": {"GPU": 1}}},
    }
    scheduler = {"cls": Scheduler, "options": {"dashboard_address": None}}
    with SpecCluster(workers=workers, scheduler=scheduler) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        info = client.scheduler_info()["workers"]
        gpu = {a for a, w in info.items() if w.get("resources", {}).get("GPU")}
        assert len(info) == 2 and len(gpu) == 1
        yield client, gpu.pop()


def _routing_case(scale):
    """NumPy data whose graph has several layers (from_array, an elementwise op that low-level
    fusion merges into the transform, a rechunk of the chunked signal axes, the transform)."""
    x = np.random.default_rng(5).standard_normal((32, 48, 40)).astype(np.float32)
    dx = da.from_array(x, chunks=(2, 24, 40))
    y = sd.scattering2d(dx * scale + 1, J=2, L=4)
    return x * scale + 1, y


@pytest.mark.cluster
def test_compute_with_gpu_resources_runs_every_task_on_the_gpu_worker(cpu_and_gpu_workers,
                                                                      monkeypatch):
    from distributed import get_task_stream

    client, gpu = cpu_and_gpu_workers
    x, y = _routing_case(2)
    reference = snp.Scattering2D(J=2, shape=(48, 40), L=4)(x)
    layers = len(y.__dask_graph__().layers)
    tasks = len(y.__dask_graph__())
    assert layers >= 4
    seen = []
    compute = client.compute
    monkeypatch.setattr(client, "compute",
                        lambda *a, **k: seen.append(k.get("resources")) or compute(*a, **k))

    with get_task_stream(client) as routed:
        (out,) = sd.compute(y, client=client, resources={"GPU": 1})
    assert seen[-1] == {"GPU": 1}
    assert channel_error(out, reference, 1) <= 1e-5
    ran = [t for t in routed.data if t.get("startstops")]
    assert ran and {t["worker"] for t in ran} == {gpu}
    assert any("scatflow-scattering2d" in str(t["key"]) for t in ran)
    assert len(ran) < tasks  # low-level fusion merged tasks: the resources held all the same

    # "auto" on NumPy data asks for nothing: the CPU worker takes tasks too
    x, y = _routing_case(3)  # new keys: nothing of the first run is reused
    assert sd.is_gpu_array(y) is False and sd.gpu_resources(y) is None
    with get_task_stream(client) as free:
        (again,) = sd.compute(y, client=client)
    assert seen[-1] is None
    assert channel_error(again, snp.Scattering2D(J=2, shape=(48, 40), L=4)(x), 1) <= 1e-5
    assert len({t["worker"] for t in free.data if t.get("startstops")}) == 2


@pytest.mark.gpu
def test_cupy_backed_dask_arrays_stay_on_the_gpu_and_match_numpy(cupy_gpu):
    cupy = cupy_gpu
    from distributed import Client, LocalCluster

    x = np.random.default_rng(9).standard_normal((12, 64, 48)).astype(np.float32)
    dx = da.from_array(x, chunks=(3, 64, 48)).map_blocks(
        cupy.asarray, dtype=x.dtype, meta=cupy.empty((0, 0, 0), dtype=x.dtype))
    with dask.config.set(scheduler=forbid_compute):
        y = sd.scattering2d(dx, J=2, L=4)
    assert isinstance(y._meta, cupy.ndarray) and y._meta.dtype == np.float32
    assert sd.is_gpu_array(y) and sd.gpu_resources(y) == {"GPU": 1}
    reference = snp.Scattering2D(J=2, shape=(64, 48), L=4)(x)
    local = y.compute(scheduler="threads")
    assert isinstance(local, cupy.ndarray)
    assert channel_error(cupy.asnumpy(local), reference, 1) <= 1e-5
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, resources={"GPU": 1},
                      dashboard_address=None) as cluster, Client(cluster) as client:
        (out,) = sd.compute(y, client=client)  # "auto": {"GPU": 1}, which this worker has
    assert isinstance(out, cupy.ndarray)
    assert channel_error(cupy.asnumpy(out), reference, 1) <= 1e-5
