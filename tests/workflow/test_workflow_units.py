"""A workflow's output store carries the physical scales the xarray layer adds (the store's
coords and attrs come from the accessor's lazy result): HadCM3's wavelengths in degrees."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from distributed import LocalCluster

from scatflow.workflow.run import run_workflow
from scatflow.workflow.spec import check_spec

pytestmark = pytest.mark.cluster

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_the_hadcm3_store_holds_wavelengths_and_the_averaging_scale(tmp_path):
    raw = yaml.safe_load((WORKFLOWS / "hadcm3_scattering2d.yaml").read_text())
    raw["input"]["select"] = {"time": [0, 24]}
    raw["output"]["store"] = str(tmp_path / "out.zarr")
    spec = check_spec(raw, WORKFLOWS)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        run_workflow(spec, scheduler_address=cluster.scheduler_address, progress=False,
                     echo=lambda line: None)
    stored = xr.open_zarr(tmp_path / "out.zarr", consolidated=False)
    wavelength = stored.wavelength1.values
    first = stored.order.values == 1
    theta, j = stored.theta1.values[first], stored.j1.values[first]
    # J=2, L=8: theta 3 points along latitude (1.25 degrees), 7 along longitude (1.875)
    np.testing.assert_allclose(wavelength[first][(theta == 3) & (j == 1)], [1.25 * 16 / 3])
    np.testing.assert_allclose(wavelength[first][(theta == 7) & (j == 1)], [1.875 * 16 / 3])
    assert stored.wavelength2.attrs["units"] == "degrees"
    assert np.isnan(stored.wavelength2.values[~(stored.order.values == 2)]).all()
    attrs = stored.air_temperature.attrs
    assert attrs["scatflow_averaging_scale"] == [4 * 1.25, 4 * 1.875]
    assert attrs["scatflow_averaging_scale_units"] == ["degrees", "degrees"]
