"""Every workflow under workflows/ runs, on a small slice of its real bundled data, on a real
LocalCluster of worker processes; its store holds what the xarray accessor computes in memory
on the same slice. The full workflows are checked and planned (not run) too."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from distributed import LocalCluster
from threadpoolctl import threadpool_limits

from scatflow.xarray import api as xr_api
from scatflow.workflow.inputs import open_input
from scatflow.workflow.plan import make_plan
from scatflow.workflow.run import run_workflow
from scatflow.workflow.spec import check_spec, load_spec
from scatflow.workflow.store import OutputStore

pytestmark = pytest.mark.cluster

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
SPECS = sorted(WORKFLOWS.glob("*.yaml"))
SLICES = {  # a small slice of each workflow's data, along its region dim
    "hadcm3_scattering2d": {"time": [0, 48]},
    "hadcm3_scattering1d": {"latitude": [0, 12]},
    "ecg_scattering1d": {"window": [0, 8]},
    "camera_scattering2d": {"patch": [0, 32]},
    "g2_harmonic3d": {"molecule": [0, 40]},
    "digits_classifier": {"sample": [0, 600]},
    "speech_time_frequency": {"window": [0, 4]},
    "ostia_sst_masked": {"time": [0, 12]},
}


def test_every_workflow_has_a_slice_here():
    assert sorted(p.stem for p in SPECS) == sorted(SLICES)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local:
        yield local


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_the_full_workflow_checks_and_plans(path):
    plan = make_plan(load_spec(path))
    assert plan.regions and plan.tasks > 0 and plan.worker_memory["peak"] > 0
    assert plan.regions[-1][1] == plan.input.sizes[plan.region_dim]


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_the_workflow_runs_on_a_slice_and_stores_the_accessors_numbers(path, cluster,
                                                                      tmp_path):
    raw = yaml.safe_load(path.read_text())
    raw["input"]["select"] = SLICES[path.stem]
    raw["output"]["store"] = str(tmp_path / "out.zarr")
    spec = check_spec(raw, path.parent)
    report = run_workflow(spec, scheduler_address=cluster.scheduler_address, progress=False,
                          echo=lambda line: None)
    plan = make_plan(spec)
    assert report.regions_done == len(plan.regions) and report.regions_skipped == 0
    assert OutputStore(spec.output["store"]).done_regions() == set(plan.region_names())
    dataset, variables, dims, _ = open_input(spec)
    transform = dict(spec.transform)
    kind, dtype = transform.pop("kind"), transform.pop("dtype")
    # as the workers compute: distributed's nannies start them with one BLAS thread
    # (OPENBLAS_NUM_THREADS=1), and BLAS rounds a product's last bit differently with its
    # thread count (the joint time-frequency transform's frequency products)
    with threadpool_limits(1):
        expected = getattr(xr_api, kind)(dataset.astype(dtype) if dtype else dataset,
                                         dims=dims, **transform).compute(scheduler="sync")
    stored = xr.open_zarr(spec.output["store"], consolidated=False)
    masked = spec.transform["nan_policy"] == "mask"  # NaN where the data is mostly missing
    for name in variables:
        values = stored[name].values
        assert np.isnan(values).any() and np.isfinite(values).any() if masked else (
            np.isfinite(values).all())
        np.testing.assert_array_equal(values, expected[name].values)
    if spec.model:
        assert report.model["test_accuracy"] > 0.9, report.model
