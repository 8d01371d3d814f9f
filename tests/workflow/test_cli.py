"""The `scatflow` command line (also `dask scatflow`): plan, run, info, plot, an input store on
S3 (a local moto server), and what an interrupted store looks like to `info`."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from scatflow.workflow.run import run_workflow
from scatflow.workflow.spec import check_spec

pytestmark = pytest.mark.cluster

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def scatflow(*args, program=("-m", "scatflow.cli")):
    return subprocess.run([sys.executable, *program, *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def small_spec(folder, workflow="hadcm3_scattering2d", select=(0, 48), **changes):
    spec = yaml.safe_load((WORKFLOWS / f"{workflow}.yaml").read_text())
    spec["input"]["select"] = {"time": list(select)}
    spec["output"]["store"] = "out.zarr"
    spec["cluster"] = {"kind": "local", "n_workers": 1, "threads_per_worker": 1}
    for section, value in changes.items():
        spec[section] = {**spec.get(section, {}), **value}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_dask_scatflow_is_the_same_command():
    result = scatflow("scatflow", "--help", program=("-m", "dask"))
    assert result.returncode == 0, result.stderr
    for command in ("run", "plan", "info", "plot", "cluster"):
        assert command in result.stdout


def test_plan_run_info_plot_end_to_end(tmp_path):
    spec = small_spec(tmp_path)
    plan = scatflow("plan", spec)
    assert plan.returncode == 0, plan.stderr
    assert "regions    2 along 'time' of 24" in plan.stdout and "peak per worker" in plan.stdout
    assert not (tmp_path / "out.zarr").exists()
    run = scatflow("run", spec, "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "2 region(s) written, 0 already done" in run.stdout and "dashboard" in run.stdout
    info = scatflow("info", tmp_path / "out.zarr")
    assert info.returncode == 0 and "2 of 2 done (complete)" in info.stdout, info.stderr
    png = tmp_path / "maps.png"
    plot = scatflow("plot", tmp_path / "out.zarr", "-o", png)
    assert plot.returncode == 0, plot.stderr
    assert png.stat().st_size > 10_000
    again = scatflow("run", spec, "--resume", "--no-progress")
    assert again.returncode == 0 and "0 region(s) written, 2 already done" in again.stdout


def test_masked_sea_temperature_runs_and_plots_its_land_grey(tmp_path):
    """workflows/ostia_sst_masked.yaml on 3 years of its data: land (NaN) is missing data, the
    coefficients mostly over land are NaN, the rest finite, and the plot greys them out."""
    from matplotlib.image import imread

    spec = small_spec(tmp_path, "ostia_sst_masked", (0, 36))
    run = scatflow("run", spec, "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "2 region(s) written, 0 already done" in run.stdout
    out = xr.open_zarr(tmp_path / "out.zarr", consolidated=False).surface_temperature
    assert out.attrs["scatflow_nan_policy"] == "mask" and out.attrs["scatflow_min_valid"] == 0.5
    land = np.isnan(out.isel(time=0, coeff=0).values)
    assert 0.05 < land.mean() < 0.5  # a quarter of the grid is land
    assert (np.isnan(out.values) == land).all()  # the same cells in every month and path
    assert 285 < float(out.isel(coeff=0).min()) < float(out.isel(coeff=0).max()) < 310
    png = tmp_path / "maps.png"
    plot = scatflow("plot", tmp_path / "out.zarr", "-o", png)
    assert plot.returncode == 0, plot.stderr
    grey = (np.abs(imread(png)[..., :3] - 211 / 255) < 1.5 / 255).all(-1)  # lightgrey
    assert grey.sum() > 10_000


def test_info_on_an_interrupted_store_and_on_nothing(tmp_path):
    spec = small_spec(tmp_path)
    assert scatflow("run", spec, "--no-progress").returncode == 0
    markers = sorted((tmp_path / "out.zarr" / "_scatflow" / "regions").iterdir())
    markers[0].unlink()
    info = scatflow("info", tmp_path / "out.zarr")
    assert "1 of 2 done (incomplete: scatflow run SPEC --resume)" in info.stdout
    missing = scatflow("info", tmp_path / "nothing.zarr")
    assert missing.returncode == 2 and "no scatflow output" in missing.stderr


def test_an_input_store_on_s3_gives_the_local_inputs_numbers(s3_server, tmp_path):
    from scatflow.workflow.datasets import load_dataset

    data = load_dataset("hadcm3_air_temperature").isel(time=slice(0, 16))
    data.to_zarr("s3://scatflow-test/in.zarr", storage_options=s3_server, consolidated=False)
    data.to_zarr(tmp_path / "in.zarr", consolidated=False)
    outputs = []
    for name, store, options in (("s3", "s3://scatflow-test/in.zarr", s3_server),
                                 ("local", str(tmp_path / "in.zarr"), {})):
        spec = check_spec({"input": {"store": store, "storage_options": options,
                                     "dims": ["latitude", "longitude"]},
                           "transform": {"kind": "scattering2d", "J": 2},
                           "output": {"store": str(tmp_path / f"{name}.zarr"), "chunks": 8},
                           "cluster": {"kind": "local", "n_workers": 1,
                                       "threads_per_worker": 1}}, tmp_path)
        assert run_workflow(spec, progress=False, echo=lambda line: None).regions_done == 2
        outputs.append(xr.open_zarr(tmp_path / f"{name}.zarr", consolidated=False))
    np.testing.assert_array_equal(outputs[0].air_temperature.values,
                                  outputs[1].air_temperature.values)
    assert np.isfinite(outputs[0].air_temperature.values).all()
