"""`padding_mode` through the xarray functions and the `scat` accessor, "auto" included: on a
real global-in-longitude field (iris-sample-data's OSTIA SST, 432 longitudes of 5/6 degree)
and on synthetic coordinates."""

import os

import numpy as np
import pytest
import xarray as xr

import scatflow  # noqa: F401  registers the accessor
import scatflow.numpy as snp
from scatflow.xarray.api import spans_full_circle


def grid(lon, lat=np.linspace(-60, 60, 16), dtype=np.float64):
    data = np.random.default_rng(9).standard_normal((2, lat.size, lon.size))
    return xr.DataArray(data.astype(dtype), dims=("time", "lat", "lon"),
                        coords={"lat": lat, "lon": lon.astype(dtype)})


@pytest.mark.parametrize("lon, expected", [
    (np.arange(64) * 5.625, True), (np.arange(64) * 5.625 - 180, True),
    (np.arange(64)[::-1] * 5.625, True), (np.arange(64) * 5.625 + 0.1, True),
    (np.arange(63) * 5.625, False),  # one longitude short of the circle
    (np.linspace(0, 360, 64), False),  # 0 and 360 both: the first point twice
    (np.arange(64) ** 1.5, False), (np.array(["a", "b"]), False)])
def test_spans_full_circle(lon, expected):
    assert spans_full_circle(xr.DataArray(lon, dims="lon")) is expected


def test_auto_is_periodic_along_a_global_longitude_and_reflect_elsewhere():
    da = grid(np.arange(64) * 5.625)
    out = da.scat.scattering2d(J=2, L=4, dims=("lat", "lon"), padding_mode="auto")
    assert out.attrs["scatflow_padding_mode"] == ["reflect", "periodic"]
    assert out.attrs["scatflow_padding_mode_requested"] == "auto"
    expected = snp.Scattering2D(J=2, shape=(16, 64), L=4,
                                padding_mode=("reflect", "periodic"))(da.values)
    np.testing.assert_allclose(out.values, expected, rtol=1e-12)
    np.testing.assert_array_equal(out.lon.values, da.lon.values[::4])  # periodic: from 0


def test_auto_is_reflect_where_the_size_does_not_subsample_or_no_circle():
    not_multiple = grid(np.arange(100) * 3.6)  # a circle, but 100 is not a multiple of 2**3
    out = not_multiple.scat.scattering2d(J=3, L=4, dims=("lat", "lon"), padding_mode="auto")
    assert out.attrs["scatflow_padding_mode"] == ["reflect", "reflect"]
    regional = grid(np.arange(64) * 1.0)
    out = regional.scat.scattering2d(J=2, L=4, dims=("lat", "lon"), padding_mode="auto")
    assert out.attrs["scatflow_padding_mode"] == ["reflect", "reflect"]
    series = xr.DataArray(np.random.default_rng(1).standard_normal(256), dims="time",
                          coords={"time": np.arange(256) * 1.40625})  # 360 / 256: wraps
    out = series.scat.scattering1d(J=4, Q=2, padding_mode="auto")
    assert out.attrs["scatflow_padding_mode"] == "periodic"
    explicit = xr.DataArray(series.values, dims="time").scat.scattering1d(
        J=4, Q=2, padding_mode="periodic")
    np.testing.assert_array_equal(out.values, explicit.values)


def test_explicit_modes_pass_through_the_functions_and_the_accessor():
    da = grid(np.arange(48) * 1.0)
    for mode in ("zero", ("symmetric", "periodic")):
        out = da.scat.scattering2d(J=2, L=4, dims=("lat", "lon"), padding_mode=mode)
        expected = snp.Scattering2D(J=2, shape=(16, 48), L=4, padding_mode=mode)(da.values)
        np.testing.assert_allclose(out.values, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        da.scat.scattering2d(J=2, dims=("lat", "lon"), padding_mode="wrap")
    with pytest.raises(ValueError, match="shape\\[1\\] must be a multiple of 8"):
        grid(np.arange(60) * 6.0).scat.scattering2d(J=3, dims=("lat", "lon"),
                                                    padding_mode=("reflect", "periodic"))


def test_ostia_longitudes_span_the_globe_and_auto_makes_them_periodic():
    iris_sample_data = pytest.importorskip("iris_sample_data")
    pytest.importorskip("h5netcdf")
    path = os.path.join(iris_sample_data.path, "ostia_monthly.nc")
    sst = xr.open_dataset(path, engine="h5netcdf").surface_temperature.isel(time=slice(0, 3))
    assert sst.sizes["longitude"] == 432 and spans_full_circle(sst.longitude)
    assert not spans_full_circle(sst.latitude)
    out = sst.scat.scattering2d(J=2, L=4, padding_mode="auto", nan_policy=0.0)
    assert out.attrs["scatflow_dims"] == ["latitude", "longitude"]
    assert out.attrs["scatflow_padding_mode"] == ["reflect", "periodic"]
    filled = np.nan_to_num(sst.values.astype(np.float64), nan=0.0)
    expected = snp.Scattering2D(J=2, shape=(18, 432), L=4,
                                padding_mode=("reflect", "periodic"))(filled)
    assert np.abs(out.values - expected).max() < 1e-4 * np.abs(expected).max()
    rolled = sst.roll(longitude=4 * 25, roll_coords=False)  # 25 output steps of 2**J
    shifted = rolled.scat.scattering2d(J=2, L=4, padding_mode="auto", nan_policy=0.0)
    np.testing.assert_allclose(shifted.values, np.roll(out.values, 25, axis=-1),
                               atol=1e-5 * np.abs(expected).max())
