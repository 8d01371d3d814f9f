"""The `scat` accessor (scatflow.xarray): values, coords, attrs, Datasets, laziness, zarr."""

import json
import logging
import subprocess
import sys

import dask
import numpy as np
import pytest
import xarray as xr

import scatflow  # noqa: F401  registers the accessor
import scatflow.numpy as snp
from scatflow.dask import describe, halo_size


def _raise(*args, **kwargs):
    raise AssertionError("something was computed while the graph was built")


def no_compute():
    """Inside: any compute raises (dask.config.set applies on creation, so build it per use)."""
    return dask.config.set(scheduler=_raise)


def images(shape=(6, 37, 40), dtype=np.float64, seed=0, chunks=None):
    """A (time, y, x) DataArray with coords (1-D index coords, a 2-D lat(y, x)) and attrs."""
    nt, ny, nx = shape
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    y = 50.0 + 0.25 * np.arange(ny)
    x = -10.0 + 0.5 * np.arange(nx)
    out = xr.DataArray(
        data, dims=("time", "y", "x"), name="sst",
        coords={"time": np.datetime64("2020-01-01") + np.arange(nt).astype("timedelta64[D]"),
                "y": ("y", y, {"units": "km", "long_name": "northing"}),
                "x": ("x", x, {"units": "km"}),
                "lat": (("y", "x"), y[:, None] + 0 * x[None, :] + 0.01 * x[None, :]),
                "member": 3},
        attrs={"units": "K", "source": "synthetic"})
    return out.chunk(chunks) if chunks else out


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backed", ["numpy", "dask"])
def test_2d_values_equal_the_numpy_frontend(dtype, backed):
    x = images(dtype=dtype, chunks={"time": 2} if backed == "dask" else None)
    out = x.scat.scattering2d(J=2, L=4)
    assert out.dims == ("time", "coeff", "y", "x")
    assert out.dtype == dtype and (out.chunks is not None) == (backed == "dask")
    reference = snp.Scattering2D(J=2, shape=(37, 40), L=4)(x.values)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.values, reference, rtol=tol, atol=tol * np.abs(reference).max())


def test_1d_values_transposed_dims_and_loop_dims_order():
    data = np.random.default_rng(1).standard_normal((512, 3, 2))  # time first
    x = xr.DataArray(data, dims=("time", "station", "run"),
                     coords={"time": np.arange(512) * 0.1, "station": ["a", "b", "c"]})
    out = x.chunk({"station": 1}).scat.scattering1d(J=5, Q=4)
    assert out.dims == ("station", "run", "coeff", "time")
    reference = snp.Scattering1D(J=5, shape=512, Q=4)(np.moveaxis(data, 0, -1))
    np.testing.assert_allclose(out.values, reference, rtol=1e-12,
                               atol=1e-12 * np.abs(reference).max())
    assert list(out.station.values) == ["a", "b", "c"]


def test_3d_values_coeff_and_integral_power():
    data = np.random.default_rng(2).standard_normal((2, 12, 12, 12))
    x = xr.DataArray(data, dims=("sample", "z", "y", "x"), coords={"z": np.arange(12)})
    out = x.chunk({"sample": 1}).scat.harmonic_scattering3d(J=1, L=2, integral_powers=[1, 2])
    S = snp.HarmonicScattering3D(J=1, shape=(12, 12, 12), L=2, integral_powers=[1, 2])
    K, L1, P = S.core.array_shape
    assert out.dims == ("sample", "coeff", "integral_power") and out.shape == (2, K * L1, P)
    assert "z" not in out.coords  # the volume is integrated away
    np.testing.assert_allclose(out.values, S(data).reshape(2, K * L1, P), rtol=1e-12)
    np.testing.assert_array_equal(out.integral_power, [1.0, 2.0])
    assert list(out.l.values) == [p.fields["l"] for p in S.core.paths]
    assert list(out.j1.values) == [p.fields["j"][0] for p in S.core.paths]
    assert list(out.j2.values) == [p.fields["j"][1] if p.order == 2 else -1 for p in S.core.paths]
    assert out.attrs["scatflow_integral_powers"] == [1, 2]


# -- coords ---------------------------------------------------------------------------------------
def test_2d_coords_follow_the_output_grid_not_a_plain_stride():
    x = images()  # 37 rows at J=2: offset 1, not y[::4]
    out = x.scat.scattering2d(J=2, L=4)
    (oy, sy), (ox, sx) = describe("Scattering2D", (37, 40), J=2, L=4).core.output_grid
    assert (oy, sy) == (1, 4)
    np.testing.assert_array_equal(out.y, x.y.values[oy + sy * np.arange(out.sizes["y"])])
    np.testing.assert_array_equal(out.x, x.x.values[ox + sx * np.arange(out.sizes["x"])])
    assert out.y.attrs == {"units": "km", "long_name": "northing"}
    assert out.x.attrs == {"units": "km"}
    lat = x.lat.values[oy::sy, ox::sx][: out.sizes["y"], : out.sizes["x"]]
    np.testing.assert_array_equal(out.lat, lat)  # 2-D coords decimated the same way
    np.testing.assert_array_equal(out.time, x.time)
    assert out.member == 3
    assert out.attrs["scatflow_output_offset"] == [oy, ox]
    assert out.attrs["scatflow_output_step"] == [sy, sx]


@pytest.mark.parametrize("n, J", [(1000, 4), (777, 3)])
def test_1d_spike_at_a_coordinate_peaks_there(n, J):
    t = 100.0 + 0.5 * np.arange(n)
    S = describe("Scattering1D", (n,), J=J, Q=2)
    (offset, step), = S.core.output_grid
    k = S.core.array_shape[-1] // 2
    c = t[offset + k * step]
    x = xr.DataArray(np.where(t == c, 1.0, 0.0), dims="time", coords={"time": t})
    out = x.scat.scattering1d(J=J, Q=2)
    s0 = out.sel(coeff=out.order == 0).squeeze("coeff")
    assert float(s0.time[int(np.argmax(s0.values))]) == c
    np.testing.assert_array_equal(out.time, t[offset + step * np.arange(out.sizes["time"])])


def test_2d_spike_at_a_coordinate_peaks_there():
    x = images(shape=(1, 37, 40)) * 0
    S = describe("Scattering2D", (37, 40), J=2, L=4)
    (oy, sy), (ox, sx) = S.core.output_grid
    cy, cx = x.y.values[oy + 4 * sy], x.x.values[ox + 5 * sx]
    x.loc[dict(y=cy, x=cx)] = 1.0
    s0 = x.scat.scattering2d(J=2, L=4).isel(time=0, coeff=0)
    iy, ix = np.unravel_index(int(np.argmax(s0.values)), s0.shape)
    assert (float(s0.y[iy]), float(s0.x[ix])) == (cy, cx)


def test_coeff_coords_describe_the_paths_and_select():
    out = images(shape=(2, 32, 32)).scat.scattering2d(J=3, L=4)
    S = snp.Scattering2D(J=3, shape=(32, 32), L=4)
    meta = S.meta()
    for name, column in [("j1", meta["j"][:, 0]), ("j2", meta["j"][:, 1]),
                         ("theta1", meta["theta"][:, 0]), ("theta2", meta["theta"][:, 1])]:
        assert out[name].dtype == np.int64 and "long_name" in out[name].attrs
        np.testing.assert_array_equal(out[name], np.nan_to_num(column, nan=-1))
    np.testing.assert_array_equal(out.order, meta["order"])
    second = out.sel(coeff=out.order == 2)
    assert second.sizes["coeff"] == S.output_size(detail=True)[2] and (second.j2 > second.j1).all()
    assert "coeff" not in out.indexes  # plain coords: no MultiIndex (zarr cannot store one)


def test_1d_coeff_coords_hold_frequencies_and_nan():
    x = xr.DataArray(np.zeros((2, 1024)), dims=("b", "time"))
    out = x.scat.scattering1d(J=6, Q=(8, 2))
    S = snp.Scattering1D(J=6, shape=1024, Q=(8, 2))
    meta = S.meta()
    for name in ("xi", "sigma"):
        np.testing.assert_array_equal(out[f"{name}1"], meta[name][:, 0])
        np.testing.assert_array_equal(out[f"{name}2"], meta[name][:, 1])  # NaN where absent
    np.testing.assert_array_equal(out.n2, np.nan_to_num(meta["n"][:, 1], nan=-1))
    assert out.xi1.attrs["long_name"].startswith("centre frequency") and 0 < out.xi1.max() < 0.5
    # T="global": the time dim goes away, and so do coords along it
    y = x.assign_coords(tau=("time", np.arange(1024.0)))
    with pytest.warns(UserWarning, match="tau"):
        glob = y.scat.scattering1d(J=6, Q=8, T="global")
    assert glob.dims == ("b", "coeff") and "tau" not in glob.coords


def test_attrs_keep_the_input_and_record_the_transform():
    out = images().scat.scattering2d(J=2, L=4, max_order=1)
    assert out.attrs["units"] == "K" and out.attrs["source"] == "synthetic" and out.name == "sst"
    assert out.attrs["scatflow_transform"] == "scattering2d"
    assert out.attrs["scatflow_version"] == scatflow.__version__
    assert [out.attrs[f"scatflow_{k}"] for k in ("J", "L", "max_order")] == [2, 4, 1]
    assert out.attrs["scatflow_dims"] == ["y", "x"] and out.attrs["scatflow_chunking"] == "rechunk"
    json.dumps(out.attrs)
    signal = xr.DataArray(np.zeros(256), dims="time")
    one = signal.scat.scattering1d(J=3, Q=(4, 2), kymatio_compat="0.3")
    assert one.attrs["scatflow_Q"] == [4, 2] and one.attrs["scatflow_kymatio_compat"] == "0.3"
    json.dumps(one.attrs)


# -- Datasets -------------------------------------------------------------------------------------
def test_dataset_transforms_variables_with_all_dims():
    x = images(shape=(4, 32, 32))
    ds = xr.Dataset({"sst": x, "ssh": (x * 2).astype(np.float32),
                     "flag": ("time", np.arange(4)),           # none of (y, x): kept
                     "profile": (("time", "y"), np.zeros((4, 32)))},  # some: dropped
                    attrs={"title": "test"}).chunk({"time": 2})
    with pytest.warns(UserWarning, match="profile"), no_compute():
        out = ds.scat.scattering2d(J=2, L=4)
    assert set(out.data_vars) == {"sst", "ssh", "flag"} and out.attrs["title"] == "test"
    assert out.sst.dims == ("time", "coeff", "y", "x") and out.ssh.dtype == np.float32
    assert out.sst.attrs["units"] == "K" and out.attrs["scatflow_J"] == 2
    np.testing.assert_array_equal(out.flag, np.arange(4))
    np.testing.assert_allclose(out.ssh.values, 2 * out.sst.values, rtol=1e-5,
                               atol=1e-5 * float(abs(out.ssh).max()))
    np.testing.assert_allclose(out.sst.values, x.scat.scattering2d(J=2, L=4).values, rtol=1e-13)
    labels = ds.assign(label=(("time", "y", "x"), np.full((4, 32, 32), "a")))
    with pytest.raises(TypeError, match="'label'"):
        labels.scat.scattering2d(J=2, L=4)
    with pytest.raises(ValueError, match="no data variable has all"), pytest.warns(UserWarning):
        ds.drop_vars(["sst", "ssh"]).scat.scattering2d(J=2, L=4)


def test_default_dims():
    lat_lon = images(shape=(1, 16, 16)).drop_vars("lat").rename(y="lat", x="lon")
    assert lat_lon.scat.scattering2d(J=1, L=2).dims == ("time", "coeff", "lat", "lon")
    vol = xr.DataArray(np.zeros((8, 8, 8)), dims=("z", "y", "x"))
    assert vol.scat.harmonic_scattering3d(J=1, L=1).dims == ("coeff", "integral_power")
    with pytest.raises(ValueError, match=r"\['a', 'b'\]"):
        xr.DataArray(np.zeros((16, 16)), dims=("a", "b")).scat.scattering2d(J=1)


# -- laziness -------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda x: x.scat.scattering2d(J=2, L=4),
    lambda x: x.scat.scattering2d(J=2, L=4, chunking="halo", nan_policy=0),
    lambda x: x.scat.scattering1d(J=3, Q=2, dims="x", chunking="halo"),
    lambda x: x.to_dataset().scat.harmonic_scattering3d(J=1, L=1, dims=("time", "y", "x")),
])
def test_nothing_computes_while_building(call):
    x = images(shape=(8, 64, 256), chunks={"time": 4, "y": 32, "x": 128})
    x = x.assign_coords(lazy=(("y", "x"), x.lat.data + 0))
    with no_compute():
        out = call(x)
    variables = out.data_vars.values() if isinstance(out, xr.Dataset) else [out]
    assert all(dask.is_dask_collection(v.data) for v in variables)
    computed = out.compute()
    assert np.isfinite(computed.to_array() if isinstance(out, xr.Dataset) else computed).all()


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.scat.scattering2d(J=2, dims=("y", "lon")), ValueError,
     r"\['lon'\] not found.*\['time', 'y', 'x'\]"),
    (lambda x: x.scat.scattering2d(J=2, dims="y"), ValueError, "2 distinct dim names"),
    (lambda x: x.rename(time="t").scat.scattering1d(J=3), ValueError,
     r"default 'time' is not among the object's dims \['t', 'y', 'x'\]"),
    (lambda x: x.scat.scattering2d(J=6), ValueError,
     r"over dims \{'y': 37, 'x': 40\}: J must satisfy 2\*\*J <= min"),
    (lambda x: x.scat.scattering1d(J=9, dims="x"), ValueError, r"over dims \{'x': 40\}.*too large"),
    (lambda x: x.astype("datetime64[ns]").scat.scattering2d(J=2), TypeError, "dtype datetime64"),
    (lambda x: x.astype(complex).scat.scattering2d(J=2), TypeError, "real numeric"),
    (lambda x: x.scat.scattering2d(J=2, axes=(1, 2)), TypeError, "dims="),
    (lambda x: x.scat.scattering2d(J=2, L=0), ValueError, "L must be"),
    (lambda x: x.scat.scattering2d(J=2, chunking="tiles"), ValueError, "chunking must be"),
    (lambda x: x.scat.scattering2d(J=2, shape=(3, 3)), TypeError, "shape is not a keyword"),
    (lambda x: x.scat.harmonic_scattering3d(J=1, dims=("time", "y", "x"), chunking="halo"),
     ValueError, "halo"),
    (lambda x: x.scat.scattering1d(J=2, dims="x", T=0), ValueError, "T=0"),
    (lambda x: x.assign_coords(order=1).scat.scattering2d(J=2), ValueError, r"\['order'\]"),
])
def test_bad_input_is_refused_before_any_task_runs(call, error, match):
    x = images(chunks={"time": 2})
    with no_compute(), pytest.raises(error, match=match):
        call(x)


def test_non_xarray_input_is_refused():
    from scatflow.xarray import scattering2d

    with pytest.raises(TypeError, match="DataArray or Dataset"):
        scattering2d(np.zeros((16, 16)), J=2)


# -- NaN ------------------------------------------------------------------------------------------
def test_nan_policies():
    x = images(shape=(4, 32, 32), chunks={"time": 1})
    x[2, 5, 7] = np.nan
    out = x.scat.scattering2d(J=2, L=4).compute()
    finite = np.isfinite(out).all(dim=("coeff", "y", "x"))
    assert list(finite.values) == [True, True, False, True]
    assert np.isnan(out.isel(time=2)).all()
    filled = x.scat.scattering2d(J=2, L=4, nan_policy=0.0).compute()
    assert np.isfinite(filled).all() and filled.attrs["scatflow_nan_policy"] == 0.0
    np.testing.assert_array_equal(filled.isel(time=[0, 1, 3]), out.isel(time=[0, 1, 3]))
    raising = x.scat.scattering2d(J=2, L=4, nan_policy="raise")  # lazy: raises at compute
    with pytest.raises(ValueError, match="NaN"):
        raising.compute()


def test_nan_policy_mask():
    x = images(shape=(3, 32, 36), chunks={"time": 1})
    x[1, 4:16, 10:20] = np.nan
    with no_compute():
        out = x.scat.scattering2d(J=2, L=4, nan_policy="mask", min_valid=0.8)
    assert out.attrs["scatflow_nan_policy"] == "mask" and out.attrs["scatflow_min_valid"] == 0.8
    expected = snp.Scattering2D(J=2, shape=(32, 36), L=4, nan_policy="mask",
                                min_valid=0.8)(x.values)
    np.testing.assert_array_equal(out.values, expected)
    assert np.isnan(out.isel(time=1)).any() and np.isfinite(out.isel(time=[0, 2])).all()
    volumes = xr.DataArray(np.zeros((2, 8, 8, 8)), dims=("t", "z", "y", "x"))
    with pytest.raises(ValueError, match="nan_policy='mask' is not available"):
        volumes.scat.harmonic_scattering3d(J=1, nan_policy="mask")


# -- zarr -----------------------------------------------------------------------------------------
def _assert_same(a, b):
    xr.testing.assert_identical(a.drop_encoding() if hasattr(a, "drop_encoding") else a, b)


def test_zarr_round_trip_chunked_in_time(tmp_path):
    import zarr

    src, dst = tmp_path / "in.zarr", tmp_path / "out.zarr"
    x = images(shape=(24, 96, 128), dtype=np.float32, seed=5)
    x.to_dataset().chunk({"time": 8}).to_zarr(src)
    ds = xr.open_zarr(src)
    with no_compute():
        out = ds.scat.scattering2d(J=3)
    assert out.sst.chunks == ((8, 8, 8), (217,), (12,), (16,)) and out.sst.dtype == np.float32
    out.to_zarr(dst)  # no safe_chunks=False needed
    back = xr.open_zarr(dst)
    expected = out.compute()
    xr.testing.assert_identical(back.compute(), expected)
    assert back.sst.attrs == expected.sst.attrs and back.j1.attrs == expected.j1.attrs
    reference = snp.Scattering2D(J=3, shape=(96, 128))(x.values)
    np.testing.assert_allclose(back.sst.values, reference, rtol=1e-5,
                               atol=1e-5 * np.abs(reference).max())
    array = zarr.open_group(str(dst), mode="r")["sst"]
    assert array.chunks == (8, 217, 12, 16) and array.compressors  # zarr v3 default: zstd
    # open_zarr gives dask-backed non-index coords: select with their values
    assert back.sel(coeff=back.order.values == 1).sizes["coeff"] == 24


def test_zarr_chunked_in_space_halo_and_rechunk(tmp_path, caplog):
    src = tmp_path / "in.zarr"
    x = images(shape=(2, 256, 256), seed=6)
    x.to_dataset().chunk({"time": 1, "y": 64, "x": 64}).to_zarr(src)
    ds = xr.open_zarr(src)
    S = describe("Scattering2D", (256, 256), J=3, L=4)
    reference = S(x.values)
    # default: rechunked whole, with a logged warning; exact
    with caplog.at_level(logging.WARNING, logger="scatflow"):
        whole = ds.scat.scattering2d(J=3, L=4)
    assert "rechunked to one chunk per signal" in caplog.text
    whole.to_zarr(tmp_path / "whole.zarr")
    np.testing.assert_allclose(xr.open_zarr(tmp_path / "whole.zarr").sst.values, reference,
                               rtol=1e-12, atol=1e-12 * np.abs(reference).max())
    # halo: chunked output, aligned with zarr's chunks; equals the unchunked transform inside the
    # edge band with filter_levels="local" (Kymatio's levels: ~2e-4 at J=3, see scatflow.dask)
    halo = ds.scat.scattering2d(J=3, L=4, chunking="halo", filter_levels="local")
    assert halo.sst.chunks[-2:] == ((8, 8, 8, 8), (8, 8, 8, 8))
    halo.to_zarr(tmp_path / "halo.zarr")
    back = xr.open_zarr(tmp_path / "halo.zarr").sst
    assert back.attrs["scatflow_filter_levels"] == "local" and back.attrs["scatflow_chunking"] == "halo"
    np.testing.assert_array_equal(back.y, whole.y)
    np.testing.assert_array_equal(back.x, whole.x)
    local_reference = describe("Scattering2D", (256, 256), J=3, L=4, filter_levels="local")(x.values)
    h = halo_size(S)
    (oy, sy), (ox, sx) = S.core.output_grid
    py, px = oy + sy * np.arange(32), ox + sx * np.arange(32)
    iy = (py >= h[0]) & (py < 256 - h[0])
    ix = (px >= h[1]) & (px < 256 - h[1])
    scale = np.abs(local_reference).max(axis=(0, 2, 3), keepdims=True)
    error = (np.abs(back.values - local_reference) / scale)[:, :, iy][..., ix]
    assert error.size and error.max() < 1e-10


def test_zarr_1d_chunked_in_time_halo_equals_unchunked(tmp_path):
    src = tmp_path / "in.zarr"
    data = np.random.default_rng(7).standard_normal((3, 6000))
    t = np.datetime64("2021-01-01T00:00") + np.arange(6000).astype("timedelta64[s]")
    x = xr.Dataset({"v": (("station", "time"), data, {"units": "m/s"})}, coords={"time": t})
    x.chunk({"time": 1000}).to_zarr(src)
    out = xr.open_zarr(src).scat.scattering1d(J=6, Q=4, chunking="halo")
    chunks = out.v.chunks[-1]  # the halo blocks hold 15 or 16 samples: made regular for zarr
    assert len(chunks) > 1 and set(chunks[:-1]) == {chunks[0]} and chunks[-1] <= chunks[0]
    out.to_zarr(tmp_path / "out.zarr")
    back = xr.open_zarr(tmp_path / "out.zarr")
    reference = snp.Scattering1D(J=6, shape=6000, Q=4)(data)
    scale = np.abs(reference).max(axis=(0, 2), keepdims=True)
    assert (np.abs(back.v.values - reference) / scale).max() < 1e-12
    (offset, step), = describe("Scattering1D", (6000,), J=6, Q=4).core.output_grid
    np.testing.assert_array_equal(back.time, t[offset + step * np.arange(back.sizes["time"])])
    assert back.v.attrs["units"] == "m/s" and back.attrs["scatflow_chunking"] == "halo"


@pytest.mark.parametrize("imports", ["import xarray as xr, scatflow",
                                     "import scatflow; import xarray as xr",
                                     "import scatflow.numpy; from xarray import DataArray; import xarray as xr",
                                     # a probe for xarray (torch's profiler makes one) imports nothing
                                     "import scatflow, importlib.util; importlib.util.find_spec('xarray'); "
                                     "import xarray as xr"])
def test_import_scatflow_registers_the_accessor(imports):
    """Before or after xarray: scatflow defers importing xarray until xarray is imported, not
    merely looked for."""
    code = f"{imports}; print(hasattr(xr.DataArray, 'scat'), hasattr(xr.Dataset, 'scat'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True True"
