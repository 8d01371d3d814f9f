"""Runs that lose nothing, with real processes: `scatflow run` killed (SIGKILL, the whole
process group: driver, embedded cluster, workers) at random points and resumed gives a store
bitwise identical to an uninterrupted run; a worker killed half-way does not stop the run; a
second run on an active output is refused; the same on a local S3 server (moto)."""

import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

SPEC = {
    "input": {"dataset": "hadcm3_air_temperature", "dims": ["latitude", "longitude"],
              "chunks": {"time": 8}, "select": {"time": [0, 160]}},
    "transform": {"kind": "scattering2d", "J": 2, "L": 8, "dtype": "float32"},
    "output": {"store": "out.zarr", "chunks": 4},
    "execution": {"region_dim": "time", "region_size": 4},
    "cluster": {"kind": "local", "n_workers": 1, "threads_per_worker": 1},
}


def write_spec(folder, **changes):
    spec = {k: dict(v) for k, v in SPEC.items()}
    for section, value in changes.items():
        spec[section].update(value)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def scatflow(*args, **popen):
    return subprocess.Popen([sys.executable, "-m", "scatflow.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **popen)


def finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def kill_group(process):
    """SIGKILL the run and everything it started (its cluster's processes)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def tree(store):
    """{relative path: bytes} of every file in a local store."""
    store = Path(store)
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    status, out, err = finish(scatflow("run", write_spec(folder), "--no-progress"))
    assert status == 0, err
    assert "40 region(s) written, 0 already done" in out
    return tree(folder / "out.zarr")


def count_markers(store):
    markers = Path(store) / "_scatflow" / "regions"
    return len(list(markers.iterdir())) if markers.exists() else 0


def test_killed_runs_resume_to_a_store_identical_to_an_uninterrupted_one(reference, tmp_path):
    """Four SIGKILLs: one at a random moment of the start (imports, plan, cluster, template),
    three at random points of the region writes (after a random number of markers, plus a
    random fraction of a second); each rerun with --resume carries on."""
    spec = write_spec(tmp_path)
    store = tmp_path / "out.zarr"
    rng = random.Random(20261202)
    targets = sorted(rng.sample(range(2, 34), 3))  # at least 6 regions left to kill into
    process = scatflow("run", spec, "--resume", "--no-progress")
    time.sleep(rng.uniform(0.5, 3.0))
    assert process.poll() is None
    kill_group(process)
    killed_at = [count_markers(store)]
    for target in targets:
        process = scatflow("run", spec, "--resume", "--no-progress")
        while count_markers(store) < target:
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.1))
        kill_group(process)
        killed_at.append(count_markers(store))
    print(f"killed with {killed_at} of 40 regions marked")
    assert killed_at[-1] < 40, f"the last run finished before its kill: {killed_at}"
    status, out, err = finish(scatflow("run", spec, "--resume", "--no-progress"))
    assert status == 0, err
    done = killed_at[-1]
    assert f"{40 - done} region(s) written, {done} already done" in out
    assert not (store / "_scatflow" / "lock.json").exists()
    assert tree(store) == reference


def test_a_worker_killed_half_way_does_not_stop_the_run(reference, tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    cluster = scatflow("cluster", "local", "--n-workers", 2, "--threads-per-worker", 1,
                       "--scheduler-file", scheduler_file)
    try:
        deadline = time.time() + 60
        while not scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), cluster.stderr.read() if cluster.poll() else "timeout"
        spec = write_spec(tmp_path)
        run = scatflow("run", spec, "--scheduler-file", scheduler_file, "--no-progress")
        markers = tmp_path / "out.zarr" / "_scatflow" / "regions"
        while not (markers.exists() and len(list(markers.iterdir())) >= 4):
            assert run.poll() is None, run.communicate()
            time.sleep(0.05)
        workers = [p for p in psutil.Process(cluster.pid).children(recursive=True)
                   if "multiprocessing" in " ".join(p.cmdline())
                   and "resource_tracker" not in " ".join(p.cmdline())]
        assert workers
        workers[0].kill()
        status, out, err = finish(run)
        assert status == 0, err
        done = len(list(markers.iterdir()))
        assert done == 40
        assert tree(tmp_path / "out.zarr") == reference
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(cluster)


def test_a_second_run_on_an_active_output_is_refused(tmp_path):
    spec = write_spec(tmp_path, input={"select": {"time": [0, 240]}}, output={"chunks": 1},
                      execution={"region_size": 1})  # 240 regions: the first run lasts
    first = scatflow("run", spec, "--no-progress")
    lock = tmp_path / "out.zarr" / "_scatflow" / "lock.json"
    try:
        line = ""
        while not line.startswith("dashboard"):
            line = first.stdout.readline()
            assert line, first.communicate()
        with urllib.request.urlopen(line.split()[1], timeout=30) as page:
            assert page.status == 200  # the dashboard the run links to is served
        while not lock.exists():
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        # the three at once: one after the other they took about as long as the first run
        others = [scatflow("run", spec, "--no-progress", *flags)
                  for flags in (["--resume"], ["--overwrite"], [])]
        for other in others:
            status, _, err = finish(other)
            assert status == 2 and "Traceback" not in err
            assert "being written by another run" in err, err
        assert first.poll() is None, "the first run ended before the refusals were checked"
    finally:
        kill_group(first)
    status, out, err = finish(scatflow("run", spec, "--resume", "--no-progress"))
    assert status == 0, err


def test_on_an_object_store_a_killed_run_resumes_to_the_same_bytes(reference, s3_server,
                                                                   tmp_path):
    import s3fs

    spec = write_spec(tmp_path, output={"store": "s3://scatflow-test/out.zarr",
                                        "storage_options": s3_server})
    process = scatflow("run", spec, "--no-progress")
    fs = s3fs.S3FileSystem(**s3_server)
    while len(fs.ls("scatflow-test/out.zarr/_scatflow/regions", refresh=True)
              if fs.exists("scatflow-test/out.zarr/_scatflow/regions") else []) < 8:
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    kill_group(process)
    assert fs.exists("scatflow-test/out.zarr/_scatflow/lock.json")
    status, out, err = finish(scatflow("run", spec, "--resume", "--no-progress"))
    assert status == 0, err
    fs.invalidate_cache()
    assert "already done" in out and not fs.exists("scatflow-test/out.zarr/_scatflow/lock.json")
    stored = {p[len("scatflow-test/out.zarr/"):]: fs.cat_file(p)
              for p in sorted(fs.find("scatflow-test/out.zarr"))}
    assert stored == reference
