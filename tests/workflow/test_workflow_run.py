"""`run_workflow` in process, on a real LocalCluster of worker processes: the store holds the
accessor's numbers; markers, refusals, resume, overwrite, shards and codecs; the plan's
memory estimate against what the workers measure."""

import json

import numpy as np
import pytest
import xarray as xr
from distributed import LocalCluster

import scatflow.xarray as sx
from scatflow.workflow.info import describe_store
from scatflow.workflow.plan import make_plan
from scatflow.workflow.run import RefusedError, run_workflow
from scatflow.workflow.spec import check_spec
from scatflow.workflow.store import LockError, OutputStore

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "images.zarr"
    rng = np.random.default_rng(3)
    ds = xr.Dataset({"img": (("sample", "y", "x"), rng.standard_normal((20, 24, 28)))},
                    coords={"sample": np.arange(20) * 10, "y": np.arange(24), "x": np.arange(28)},
                    attrs={"title": "noise"})
    ds.to_zarr(path, consolidated=False)
    return path, ds


def make_spec(images, out, **changes):
    raw = {"input": {"store": str(images[0]), "dims": ["y", "x"], "chunks": {"sample": 4}},
           "transform": {"kind": "scattering2d", "J": 2, "L": 4, "dtype": "float64"},
           "output": {"store": str(out), "chunks": 2},
           "execution": {"region_size": 4}}
    for section, value in changes.items():
        raw[section] = {**raw.get(section, {}), **value}
    return check_spec(raw, out.parent)


def run(spec, cluster, **kw):
    return run_workflow(spec, scheduler_address=cluster.scheduler_address, progress=False,
                        echo=lambda line: None, **kw)


def test_the_store_holds_the_accessors_numbers_with_markers_and_no_lock(cluster, images,
                                                                        tmp_path):
    spec = make_spec(images, tmp_path / "out.zarr")
    report = run(spec, cluster)
    assert (report.regions_done, report.regions_skipped) == (5, 0)
    out = xr.open_zarr(tmp_path / "out.zarr", consolidated=False)
    expected = sx.scattering2d(images[1], J=2, L=4, dims=("y", "x"))
    np.testing.assert_array_equal(out.img.values, expected.img.values)
    np.testing.assert_array_equal(out.order.values, expected.order.values)
    np.testing.assert_array_equal(out.sample.values, images[1].sample.values)
    assert out.img.encoding["chunks"] == (2,) + out.img.shape[1:]
    assert out.attrs["scatflow_spec_sha256"] == spec.digest()
    store = OutputStore(str(tmp_path / "out.zarr"))
    assert len(store.done_regions()) == 5 and store.lock_holder() is None
    assert not (tmp_path / "out.zarr" / "_scatflow" / "lock.json").exists()
    lines = "\n".join(describe_store(str(tmp_path / "out.zarr")))
    assert "5 of 5 done (complete)" in lines and "img(sample=20" in lines


def test_an_existing_output_is_refused_resumed_or_overwritten(cluster, images, tmp_path):
    spec = make_spec(images, tmp_path / "out.zarr")
    run(spec, cluster)
    before = (tmp_path / "out.zarr" / "img" / "c" / "0" / "0" / "0" / "0").read_bytes()
    with pytest.raises(RefusedError, match="exists; pass --resume"):
        run(spec, cluster)
    again = run(spec, cluster, resume=True)
    assert (again.regions_done, again.regions_skipped) == (0, 5)
    with pytest.raises(RefusedError, match="another spec.*transform.L"):
        run(make_spec(images, tmp_path / "out.zarr", transform={"L": 6}), cluster, resume=True)
    replaced = run(make_spec(images, tmp_path / "out.zarr", transform={"L": 6}), cluster,
                   overwrite=True)
    assert replaced.regions_done == 5
    assert xr.open_zarr(tmp_path / "out.zarr", consolidated=False).sizes["coeff"] == 1 + 12 + 36
    assert before != (tmp_path / "out.zarr" / "img" / "c" / "0" / "0" / "0" / "0").read_bytes()


def test_resume_writes_only_unmarked_regions(cluster, images, tmp_path):
    spec = make_spec(images, tmp_path / "out.zarr")
    run(spec, cluster)
    regions = tmp_path / "out.zarr" / "_scatflow" / "regions"
    removed = sorted(regions.iterdir())[1:3]
    for marker in removed:
        marker.unlink()
    report = run(spec, cluster, resume=True)
    assert (report.regions_done, report.regions_skipped) == (2, 3)
    assert sorted(p.name for p in regions.iterdir()) == sorted(
        [p.name for p in removed] + [p.name for p in regions.iterdir() if p not in removed])


def test_a_live_lock_refuses_and_a_dead_one_is_taken_over(cluster, images, tmp_path):
    spec = make_spec(images, tmp_path / "out.zarr")
    run(spec, cluster)
    store = OutputStore(str(tmp_path / "out.zarr"))
    store.acquire()  # this test process: alive
    try:
        with pytest.raises(RefusedError, match="being written by another run"):
            run(spec, cluster, resume=True)
        with pytest.raises(LockError, match="another run is writing it"):
            OutputStore(str(tmp_path / "out.zarr")).acquire()
    finally:
        store.release()
    lock = tmp_path / "out.zarr" / "_scatflow" / "lock.json"
    lock.write_text(json.dumps({"run_id": "x", "host": __import__("socket").gethostname(),
                                "pid": 2**22 + 7, "pid_started": 0, "heartbeat": 0}))
    assert run(spec, cluster, resume=True).regions_skipped == 5
    assert not lock.exists()


def test_shards_and_blosc_and_a_dry_run(cluster, images, tmp_path):
    spec = make_spec(images, tmp_path / "out.zarr", output={
        "chunks": 2, "shards": 4, "codec": {"name": "blosc", "cname": "lz4", "clevel": 5}},
                     execution={"region_size": 8})
    dry = run(spec, cluster, dry_run=True)
    assert dry.lines == ["dry run: nothing written"] and not (tmp_path / "out.zarr").exists()
    assert run(spec, cluster).regions_done == 3
    out = xr.open_zarr(tmp_path / "out.zarr", consolidated=False)
    assert out.img.encoding["shards"][0] == 4 and out.img.encoding["chunks"][0] == 2
    expected = sx.scattering2d(images[1], J=2, L=4, dims=("y", "x"))
    np.testing.assert_array_equal(out.img.values, expected.img.values)


def test_region_size_must_be_a_multiple_of_the_write_unit(images, tmp_path):
    with pytest.raises(ValueError, match="execution.region_size: must be a multiple"):
        make_spec(images, tmp_path / "out.zarr", output={"chunks": 3},
                  execution={"region_size": 4})
    spec = make_spec(images, tmp_path / "out.zarr", output={"chunks": None},
                     execution={"region_size": 3})  # the default chunk: all 20 samples
    with pytest.raises(ValueError, match="execution.region_size: must be a multiple"):
        make_plan(spec)


def test_the_memory_estimate_is_within_2x_of_the_workers_measured_peak(images, tmp_path):
    import threading

    import psutil

    spec = make_spec(images, tmp_path / "out.zarr", transform={"J": 3, "L": 8},
                     input={"chunks": {"sample": 10}}, output={"chunks": 10},
                     execution={"region_size": 10})
    plan = make_plan(spec, threads_per_worker=1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local:
        worker = psutil.Process(next(iter(local.workers.values())).process.pid)
        peak, stop = [worker.memory_info().rss], threading.Event()

        def sample():
            while not stop.wait(0.005):
                peak.append(worker.memory_info().rss)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            run_workflow(spec, scheduler_address=local.scheduler_address, progress=False,
                         echo=lambda line: None)
        finally:
            stop.set()
            sampler.join()
    measured, estimate = max(peak), plan.worker_memory["peak"]
    print(f"worker peak: estimated {estimate / 2**20:.0f} MiB, measured {measured / 2**20:.0f} MiB")
    assert measured / 2 <= estimate <= measured * 2, (estimate, measured)


def test_a_netcdf_file_inside_a_package_with_no_loop_dim_is_one_region(cluster, tmp_path):
    spec = check_spec({
        "input": {"file": {"package": "iris_sample_data", "path": "sample_data/SOI_Darwin.nc"},
                  "dims": "time", "select": {"time": [0, 1764]}},  # the 12 NaN are 2013's
        "transform": {"kind": "scattering1d", "J": 6, "Q": 8},
        "output": {"store": str(tmp_path / "soi.zarr")}}, tmp_path)
    plan = make_plan(spec)
    assert plan.region_dim is None and plan.regions == [(0, 1)]
    assert run(spec, cluster).regions_done == 1
    stored = xr.open_zarr(tmp_path / "soi.zarr", consolidated=False).SOI_Darwin
    expected = sx.scattering1d(plan.input.SOI_Darwin.load(), J=6, Q=8, dims="time")
    assert stored.dims == ("coeff", "time") and np.isfinite(stored.values).all()
    np.testing.assert_array_equal(stored.values, expected.values)


def test_a_missing_package_file_is_reported(tmp_path):
    spec = check_spec({"input": {"file": {"package": "iris_sample_data", "path": "nope.nc"}},
                       "transform": {"kind": "scattering1d", "J": 3},
                       "output": {"store": str(tmp_path / "o.zarr")}}, tmp_path)
    with pytest.raises(ValueError, match="input.file.path: 'nope.nc' is not in package"):
        make_plan(spec)


def test_an_unreachable_scheduler_leaves_dasks_scheduler_as_it_was():
    """distributed's Client sets itself as dask's scheduler before it connects; a refused
    connection must not leave that behind (later computations would ask for a gone client)."""
    import dask

    from scatflow.workflow.run import RefusedError, connect

    before = dask.config.get("scheduler", None)
    with pytest.raises(RefusedError, match="cannot connect"):
        connect({"connect_timeout": 2}, scheduler_address="nonsense")
    assert dask.config.get("scheduler", None) == before
