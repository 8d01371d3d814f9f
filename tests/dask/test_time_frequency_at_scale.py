"""Joint time-frequency scattering at scale: Kymatio main's fixtures through `scatflow.dask` and
the xarray accessor, the labels a user filters on, and long recordings chunked in time with a
halo equal to the whole-signal transform away from the ends."""

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

import scatflow.dask as sd
from reference import fixture_files, scatflow_kwargs, worst_channel_error
from scatflow.dask import halo_size
from scatflow.frontends.numpy import TimeFrequencyScattering

ARRAY_FIXTURES = [p for p in fixture_files("main", "jtfs")
                  if scatflow_kwargs(p)[0].get("out_type", "array") == "array"]
TOL64 = 1e-8


def forbid_compute(*args, **kwargs):
    raise AssertionError("something was computed while the graph was built")


def _frontend_kwargs(path):
    kwargs, x, data = scatflow_kwargs(path)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("shape", "out_type")}
    return kwargs, x, data


def test_every_array_fixture_is_covered():
    assert len(ARRAY_FIXTURES) >= 8


@pytest.mark.parametrize("path", ARRAY_FIXTURES, ids=lambda p: p.stem)
def test_dask_matches_kymatio_with_the_batch_in_chunks(path):
    kwargs, x, data = _frontend_kwargs(path)
    batch = x.reshape((-1, x.shape[-1]))
    chunked = da.from_array(batch, chunks=(1, -1))
    with dask.config.set(scheduler=forbid_compute):
        y = sd.time_frequency_scattering(chunked, **kwargs)
    out = y.compute(scheduler="threads").reshape(x.shape[:-1] + y.shape[1:])
    assert worst_channel_error(out, data["S"], channel_axis=x.ndim - 1) <= TOL64


@pytest.mark.parametrize("path", ARRAY_FIXTURES, ids=lambda p: p.stem)
def test_xarray_matches_kymatio_and_labels_its_axes(path):
    kwargs, x, data = _frontend_kwargs(path)
    dims = tuple(f"b{i}" for i in range(x.ndim - 1)) + ("time",)
    out = xr.DataArray(x, dims=dims).scat.time_frequency_scattering(**kwargs)
    joint = kwargs.get("format") == "joint"
    frontend = TimeFrequencyScattering(shape=x.shape[-1], **kwargs)
    expected_dims = dims[:-1] + ("coeff",) + (("frequency",) if joint else ())
    if frontend.core.output_grid is not None:
        expected_dims += ("time",)
    assert out.dims == expected_dims
    reference = data["S"].reshape(out.shape)  # T='global' keeps no time axis
    assert worst_channel_error(out.values, reference, channel_axis=x.ndim - 1) <= TOL64
    meta = frontend.meta()
    np.testing.assert_array_equal(out.order.values, meta["order"])
    np.testing.assert_array_equal(out.n_fr.values[meta["order"] > 0],
                                  meta["n_fr"][meta["order"] > 0])
    if joint:
        rows = np.asarray(frontend.core.frequency_rows)
        np.testing.assert_array_equal(out.n1.values, rows)
        xi1 = out.xi1.values
        assert np.isnan(xi1[rows < 0]).all() and (xi1[rows >= 0] > 0).all()
        assert "n1" not in out.coeff.coords and "n2" in out.coords
    else:
        np.testing.assert_array_equal(out.n1.values[meta["order"] > 0],
                                      meta["n"][meta["order"] > 0, 0])


def test_coeff_coords_select_spins_and_scales():
    x = xr.DataArray(np.random.default_rng(0).standard_normal((2, 1024)), dims=("take", "time"))
    out = x.scat.time_frequency_scattering(J=6, J_fr=3, Q=(8, 2), format="joint")
    up = out.sel(coeff=(out.order == 2) & (out.spin == 1) & (out.j_fr == 1))
    assert up.sizes["coeff"] > 0 and set(np.unique(up.spin.values)) == {1}
    assert out.spin.dtype == np.float64 and np.isnan(out.spin.values[out.order.values == 0]).all()
    assert {"n2", "j2", "xi2", "xi_fr", "sigma_fr"} <= set(out.coords)
    assert out.attrs["scatflow_output_dims"] == ["coeff", "frequency", "time"]


@pytest.mark.parametrize("format", ["time", "joint"])
def test_halo_chunks_equal_the_whole_signal_away_from_the_ends(format):
    """A recording of 8192 samples in chunks of 1024: with chunking='halo' every output
    sample farther than the halo from both ends equals the whole-signal transform."""
    kwargs = dict(J=6, J_fr=2, Q=(8, 1), format=format)
    x = np.random.default_rng(3).standard_normal((2, 8192))
    whole = TimeFrequencyScattering(shape=8192, **kwargs)(x)
    y = sd.time_frequency_scattering(da.from_array(x, chunks=(2, 1024)), chunking="halo",
                                     **kwargs)
    assert y.shape == whole.shape and len(y.chunks[-1]) > 4
    out = y.compute(scheduler="threads")
    (offset, step), = TimeFrequencyScattering(shape=8192, **kwargs).core.output_grid
    halo = halo_size(TimeFrequencyScattering(shape=8192, **kwargs))[0]
    positions = offset + step * np.arange(whole.shape[-1])
    inside = (positions >= halo) & (positions < 8192 - halo)
    assert inside.sum() > whole.shape[-1] // 2
    scale = np.abs(whole).max(axis=-1, keepdims=True)
    error = np.abs(out - whole)[..., inside] / np.maximum(scale, 1e-12)
    assert error.max() <= 1e-12
