"""Runs that lose nothing, with real processes: `scatflow run` killed (SIGKILL, the whole
process group: driver, embedded cluster, workers) in the middle of its template, in the middle
of a region's chunk writes and between regions, and resumed, gives a store bitwise identical to
an uninterrupted run; a worker killed half-way does not stop the run; a second run on an active
output is refused; the same on a local S3 server (moto). Every kill waits on an event (a marker,
the lock, a file the pause hook writes), never on a clock."""

import json
import os
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
    "output": {"store": "out.zarr", "chunks": 2},  # two chunks per region: a region half-written
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


PAUSE_HOOK = Path(__file__).with_name("pause_hook")
HANG_GUARD = 120  # seconds: the one clock, to fail instead of hanging


def scatflow(*args, pause=None, **popen):
    """`scatflow <args>` in a session of its own. `pause=(announce file, keys)`: every process
    of the run stops for good before writing the last of those zarr keys
    (tests/workflow/pause_hook)."""
    env = dict(os.environ)
    if pause is not None:
        announce, keys = pause
        env["PYTHONPATH"] = os.pathsep.join([str(PAUSE_HOOK), env.get("PYTHONPATH", "")])
        env["SCATFLOW_TEST_PAUSE"] = f"{announce}|{','.join(keys)}"
    return subprocess.Popen([sys.executable, "-m", "scatflow.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env, **popen)


def finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def wait_until(condition, process, interval=0.02):
    """Polls `condition` until true; fails with the run's output if the run ends first, or
    after the hang guard."""
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no event in {HANG_GUARD} s"
        time.sleep(interval)


def kill_group(process):
    """SIGKILL the run and everything it started (its cluster's processes)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)


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


def scheduler_ready(scheduler_file):
    """Whether the scheduler file is there and whole (it is not written atomically)."""
    try:
        return "address" in json.loads(Path(scheduler_file).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False


def count_markers(store):
    markers = Path(store) / "_scatflow" / "regions"
    return len(list(markers.iterdir())) if markers.exists() else 0


def chunk_keys(region, chunk=2):
    """The zarr keys of the data chunks a region (start, stop) along time writes."""
    return [f"air_temperature/c/{t // chunk}/0/0/0" for t in range(*region, chunk)]


def kill_when_paused(spec, tmp_path, keys):
    """Runs --resume with the pause hook on `keys`; SIGKILLs the whole run once a process of it
    has stopped before writing the last of them."""
    announce = tmp_path / "paused"
    announce.unlink(missing_ok=True)
    process = scatflow("run", spec, "--resume", "--no-progress", pause=(announce, keys))
    wait_until(announce.exists, process)
    kill_group(process)


def test_killed_runs_resume_to_a_store_identical_to_an_uninterrupted_one(reference, tmp_path):
    """Four SIGKILLs, each rerun with --resume carrying on: in the middle of the template (its
    data variable's metadata not written yet); in the middle of region 12-16 (its first chunk
    written, its second not); between regions (once 10 markers are there); in the middle of
    the first region with no chunk written by then."""
    spec = write_spec(tmp_path)
    store = tmp_path / "out.zarr"
    markers = store / "_scatflow" / "regions"

    kill_when_paused(spec, tmp_path, ["air_temperature/zarr.json"])
    assert (store / "_scatflow" / "lock.json").exists()
    assert not (store / "_scatflow" / "template.json").exists()
    assert not (store / "air_temperature" / "zarr.json").exists()
    killed_at = [count_markers(store)]

    kill_when_paused(spec, tmp_path, chunk_keys((12, 16)))
    assert [(store / k).exists() for k in chunk_keys((12, 16))].count(True) == 1
    assert not (markers / "12-16").exists()
    killed_at.append(count_markers(store))

    process = scatflow("run", spec, "--resume", "--no-progress")
    wait_until(lambda: count_markers(store) >= 10, process)
    kill_group(process)
    killed_at.append(count_markers(store))

    fresh = next((start, start + 4) for start in range(0, 160, 4)
                 if not any((store / key).exists() for key in chunk_keys((start, start + 4))))
    kill_when_paused(spec, tmp_path, chunk_keys(fresh))
    assert [(store / k).exists() for k in chunk_keys(fresh)].count(True) == 1
    assert not (markers / f"{fresh[0]}-{fresh[1]}").exists()
    killed_at.append(count_markers(store))

    print(f"killed with {killed_at} of 40 regions marked")
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
        wait_until(lambda: scheduler_ready(scheduler_file), cluster)
        spec = write_spec(tmp_path)
        run = scatflow("run", spec, "--scheduler-file", scheduler_file, "--no-progress")
        markers = tmp_path / "out.zarr" / "_scatflow" / "regions"
        wait_until(lambda: count_markers(tmp_path / "out.zarr") >= 4, run)
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
            cluster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill_group(cluster)


def test_a_second_run_on_an_active_output_is_refused(tmp_path):
    """The first run is held (pause hook) in the middle of region 20-24 while the others try:
    it is still going when they are refused, however fast they are."""
    spec = write_spec(tmp_path)
    paused = tmp_path / "paused"
    first = scatflow("run", spec, "--no-progress", pause=(paused, chunk_keys((20, 24))))
    lock = tmp_path / "out.zarr" / "_scatflow" / "lock.json"
    try:
        line = ""
        while not line.startswith("dashboard"):
            line = first.stdout.readline()
            assert line, first.communicate()
        with urllib.request.urlopen(line.split()[1], timeout=60) as page:
            assert page.status == 200  # the dashboard the run links to is served
        wait_until(lambda: lock.exists() and paused.exists(), first)
        others = [scatflow("run", spec, "--no-progress", *flags)
                  for flags in (["--resume"], ["--overwrite"], [])]
        for other in others:
            status, _, err = finish(other)
            assert status == 2 and "Traceback" not in err
            assert "being written by another run" in err, err
        assert first.poll() is None and lock.exists()
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
    regions = "scatflow-test/out.zarr/_scatflow/regions"
    wait_until(lambda: fs.exists(regions) and len(fs.ls(regions, refresh=True)) >= 8, process,
               interval=0.1)
    kill_group(process)
    assert fs.exists("scatflow-test/out.zarr/_scatflow/lock.json")
    status, out, err = finish(scatflow("run", spec, "--resume", "--no-progress"))
    assert status == 0, err
    fs.invalidate_cache()
    assert "already done" in out and not fs.exists("scatflow-test/out.zarr/_scatflow/lock.json")
    stored = {p[len("scatflow-test/out.zarr/"):]: fs.cat_file(p)
              for p in sorted(fs.find("scatflow-test/out.zarr"))}
    assert stored == reference
