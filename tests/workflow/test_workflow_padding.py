"""`transform.padding_mode` in a workflow spec: a mode, one per dim (a YAML list), or "auto",
resolved from the input's coordinates when it is opened; the plan's lazy output holds the
NumPy frontend's numbers with the modes chosen in its attrs."""

import numpy as np
import pytest
import xarray as xr

import scatflow.numpy as snp
from scatflow.workflow.plan import make_plan
from scatflow.workflow.spec import SpecError, check_spec


@pytest.fixture(scope="module")
def global_grid(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "global.zarr"
    rng = np.random.default_rng(11)
    ds = xr.Dataset({"t": (("time", "lat", "lon"), rng.standard_normal((4, 16, 64)))},
                    coords={"time": np.arange(4), "lat": np.linspace(-60, 60, 16),
                            "lon": np.arange(64) * 5.625})
    ds.to_zarr(path, consolidated=False)
    return path, ds


def spec_for(path, out, mode, select=None):
    return check_spec({
        "input": {"store": str(path), "dims": ["lat", "lon"], "select": select or {}},
        "transform": {"kind": "scattering2d", "J": 2, "L": 4, "padding_mode": mode},
        "output": {"store": str(out)}}, out.parent)


@pytest.mark.parametrize("mode, chosen", [("auto", ("reflect", "periodic")),
                                          (["zero", "periodic"], ("zero", "periodic")),
                                          ("symmetric", ("symmetric", "symmetric"))])
def test_the_plan_transforms_with_the_spec_padding_mode(global_grid, tmp_path, mode, chosen):
    path, ds = global_grid
    plan = make_plan(spec_for(path, tmp_path / "out.zarr", mode))
    out = plan.output.t
    recorded = out.attrs["scatflow_padding_mode"]
    assert (tuple(recorded) if isinstance(recorded, list) else (recorded,) * 2) == chosen
    expected = snp.Scattering2D(J=2, shape=(16, 64), L=4, padding_mode=chosen)(ds.t.values)
    np.testing.assert_allclose(out.values, expected, rtol=1e-12)


def test_auto_on_a_selected_part_of_the_circle_is_reflect(global_grid, tmp_path):
    path, _ = global_grid
    plan = make_plan(spec_for(path, tmp_path / "out.zarr", "auto", {"lon": [0, 32]}))
    assert plan.output.t.attrs["scatflow_padding_mode"] == ["reflect", "reflect"]


def test_bad_padding_modes_are_spec_problems(global_grid, tmp_path):
    path, _ = global_grid
    with pytest.raises(SpecError, match="transform: padding_mode must be one of"):
        spec_for(path, tmp_path / "out.zarr", "wrap")
    spec = spec_for(path, tmp_path / "out.zarr", "periodic", {"lon": [0, 62]})
    with pytest.raises(ValueError, match="shape\\[1\\] must be a multiple of 4 .*got 62"):
        make_plan(spec)
