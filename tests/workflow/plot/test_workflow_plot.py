"""`scatflow.workflow.plot.plot_scattering`: real transform outputs, written to zarr and reopened
(dask-backed coeff coords), drawn to PNGs that must have a sensible size and not be blank, with
no label over another or outside the figure and no panel without data; half-written stores plot
their first computed sample, empty ones and bad arguments raise."""

import itertools

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.colors import to_rgba

import scatflow.xarray as scat_xr
from scatflow.workflow.plot import draw_scattering, plot_scattering
from scatflow.workflow.plot.common import MISSING_COLOUR, degree_label


def reopen(out, tmp_path, name="out.zarr", chunks=None, encoding=None):
    """`out` (a DataArray or Dataset) written to a zarr store and opened again lazily."""
    ds = out.to_dataset() if isinstance(out, xr.DataArray) else out
    if chunks:
        ds = ds.chunk(chunks)
    ds.to_zarr(tmp_path / name, mode="w", consolidated=False, encoding=encoding)
    return xr.open_zarr(tmp_path / name, consolidated=False)


def check_png(path, width=(500, 3000), height=(300, 2000)):
    """The PNG's pixels (h, w, channels) once it is checked to exist, fit the size ranges and
    show something."""
    from matplotlib.image import imread

    assert path.is_file()
    pixels = imread(path)
    assert width[0] <= pixels.shape[1] <= width[1], pixels.shape
    assert height[0] <= pixels.shape[0] <= height[1], pixels.shape
    assert pixels[..., :3].var() > 1e-3, "blank image"
    return pixels


def shown_labels(fig):
    """The texts a reader sees once `fig` is drawn: titles, axis names, the tick labels within
    each axis' view (matplotlib keeps some outside it, undrawn), and the (sub)figures' titles
    and axis names."""
    texts = []
    for ax in fig.get_axes():
        if not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = (high - low) * 1e-9
            for locs, labels in ((axis.get_majorticklocs(), axis.get_majorticklabels()),
                                 (axis.get_minorticklocs(), axis.get_minorticklabels())):
                texts += [label for loc, label in zip(locs, labels)
                          if low - slack <= loc <= high + slack]
        texts += [ax.xaxis.label, ax.yaxis.label, ax.title]
    figures = [fig]
    while figures:
        figure = figures.pop()
        figures += figure.subfigs
        texts += [t for t in (figure._suptitle, figure._supxlabel, figure._supylabel) if t]
    return [t for t in texts if t.get_visible() and t.get_text()]


def assert_legible(fig):
    """No two labels of `fig` closer than a pixel, none reaching outside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in shown_labels(fig)]
    assert len(boxes) > 5
    outside = [text for text, box in boxes
               if box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.x1 + 1
               or box.y1 > fig.bbox.y1 + 1]
    assert not outside, f"labels reaching outside the figure: {outside}"
    crowded = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
               if box_a.padded(0.5).overlaps(box_b.padded(0.5))]
    assert not crowded, f"labels over one another: {crowded}"


def assert_every_panel_shows_data(fig):
    """Each axes of `fig` (maps, heat maps, colour bars) shows an image or mesh of more than
    one finite cell: no blank panel, no single-cell one."""
    from matplotlib.collections import QuadMesh

    for ax in fig.get_axes():
        shown = [*ax.get_images(), *(c for c in ax.collections if isinstance(c, QuadMesh))]
        cells = [np.isfinite(np.ma.filled(np.asarray(a.get_array(), float), np.nan)).sum()
                 for a in shown]
        assert ax.axison and max(cells, default=0) > 1, f"panel {ax.get_title()!r}: {cells}"


def images(n=3, size=32, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    waves = [np.cos(2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / 6) for a in (0.2, 1.1, 2.4)]
    return np.stack([waves[k % 3] + 0.1 * rng.standard_normal((size, size)) for k in range(n)])


def maps(L):
    """The 2D output (J=2) of 4 images."""
    return scat_xr.scattering2d(xr.DataArray(images(4), dims=("sample", "y", "x"), name="img"),
                                2, L=L)


def scalograms():
    """The 1D output (J=5, Q=4) of 4 signals: quick to draw, used where any transform will do."""
    rng = np.random.default_rng(2)
    signals = xr.DataArray(rng.standard_normal((4, 512)), dims=("sample", "time"), name="sig")
    return scat_xr.scattering1d(signals, 5, Q=4)


def test_2d_maps_from_a_store(tmp_path):
    # zarr chunks split `coeff` for the data but not for its coords, as big outputs have them
    store = reopen(maps(L=4), tmp_path, encoding={"img": {"chunks": (1, 10, 8, 8)}})
    assert store["order"].chunks is not None  # the coeff coords really are dask-backed
    assert store["img"].chunks[1] != store["order"].chunks[0]
    path = plot_scattering(store, tmp_path / "maps.png")
    assert path == tmp_path / "maps.png"
    check_png(path)
    fig = draw_scattering(store)
    assert_every_panel_shows_data(fig)
    assert_legible(fig)


def lat_lon_field():
    """Two CF-style global maps, latitudes descending as many models store them."""
    lat, lon = np.linspace(80, -80, 32), np.linspace(0, 348.75, 32)
    field = xr.DataArray(images(2), dims=("time", "lat", "lon"), name="t2m",
                         coords={"time": pd.date_range("2020-01-01", periods=2),
                                 "lat": lat, "lon": lon})
    field.lat.attrs["units"] = "degrees_north"
    field.lon.attrs["units"] = "degrees_east"
    return field


def test_2d_lat_lon_with_descending_latitudes(tmp_path):
    out = reopen(scat_xr.scattering2d(lat_lon_field(), 2, L=4, max_order=1), tmp_path)
    check_png(plot_scattering(out, tmp_path / "latlon.png", index={"time": 1}))
    fig = draw_scattering(out, index={"time": 1})
    assert_legible(fig)
    order0 = fig.subfigs[0].get_axes()[0]
    assert (order0.get_xlabel(), order0.get_ylabel()) == ("lon", "lat")  # units: on the ticks
    ticks = {t.get_text() for t in shown_labels(fig)}
    assert {"45\N{DEGREE SIGN}N", "0\N{DEGREE SIGN}", "45\N{DEGREE SIGN}S",
            "180\N{DEGREE SIGN}"} <= ticks, ticks


@pytest.mark.parametrize("J, max_order, second_order_title", [
    (2, 2, "order-2 energy per (\u03b81, \u03b82), j1 = 0, j2 = 1"),  # one (j1, j2) pair
    (3, 2, "order-2 energy per (j1, j2)"),
    (2, 1, None)])
def test_2d_top_row_has_a_panel_per_order_with_data(J, max_order, second_order_title):
    fig = draw_scattering(scat_xr.scattering2d(lat_lon_field(), J, L=4, max_order=max_order))
    assert_every_panel_shows_data(fig)
    titles = [ax.get_title() for ax in fig.subfigs[0].get_axes() if ax.get_title()]
    assert titles == ["order 0 (low-pass)", "order-1 energy per (j1, \u03b81)",
                      *([second_order_title] if second_order_title else [])]
    assert_legible(fig)


def grey_pixels(pixels):
    """How many pixels of a PNG are the grey of missing data (matplotlib's lightgrey)."""
    from matplotlib.colors import to_rgb

    return int((np.abs(pixels[..., :3] - to_rgb(MISSING_COLOUR)) < 1.5 / 255).all(-1).sum())


def test_masked_2d_maps_grey_out_missing_data(tmp_path):
    """nan_policy="mask" on a field with a block of "land" (NaN): the maps draw the NaN
    coefficients grey (the colour map's bad colour), the finite ones in colour."""
    from matplotlib.collections import QuadMesh
    from matplotlib.image import imread

    field = lat_lon_field()
    field[:, 8:20, 4:16] = np.nan
    out = reopen(scat_xr.scattering2d(field, 2, L=4, nan_policy="mask"), tmp_path)
    missing = np.isnan(out.t2m.isel(time=0).values)
    assert missing.any() and not missing.all()
    fig = draw_scattering(out)
    order0 = next(c for c in fig.get_axes()[0].collections if isinstance(c, QuadMesh))
    assert order0.get_cmap().get_bad().tolist() == list(to_rgba(MISSING_COLOUR))
    shown = np.ma.getmaskarray(order0.get_array()).reshape(missing.shape[1:])
    assert np.array_equal(shown, missing[0])
    assert_every_panel_shows_data(fig)
    grey = grey_pixels(check_png(plot_scattering(out, tmp_path / "masked.png")))
    plain = reopen(scat_xr.scattering2d(field.fillna(0), 2, L=4), tmp_path, "plain.zarr")
    assert grey > 20 * grey_pixels(imread(plot_scattering(plain, tmp_path / "p.png")))  # ~60x


@pytest.mark.parametrize("value, direction, label", [
    (60, "N", "60\N{DEGREE SIGN}N"), (-30.5, "N", "30.5\N{DEGREE SIGN}S"),
    (0, "N", "0\N{DEGREE SIGN}"), (240, "E", "120\N{DEGREE SIGN}W"),
    (-60, "E", "60\N{DEGREE SIGN}W"), (30, "E", "30\N{DEGREE SIGN}E"),
    (180, "E", "180\N{DEGREE SIGN}"), (-180, "E", "180\N{DEGREE SIGN}"),
    (360, "E", "0\N{DEGREE SIGN}")])
def test_degree_labels_read_as_on_a_map(value, direction, label):
    assert degree_label(value, direction) == label


@pytest.mark.parametrize("T", [None, "global"])
def test_1d_scalogram_and_global_profile(tmp_path, T):
    t = np.arange(1024)
    chirp = np.sin(2 * np.pi * (0.02 + 0.2 * t / 1024) * t)
    signals = xr.DataArray(np.stack([chirp, chirp[::-1]]), dims=("channel", "time"),
                           coords={"time": pd.date_range("2024-05-01", periods=1024,
                                                         freq="min")}, name="signal")
    kwargs = {"T": T} if T else {}
    out = reopen(scat_xr.scattering1d(signals, 6, Q=4, **kwargs), tmp_path)
    assert ("time" in out.signal.dims) == (T is None)
    check_png(plot_scattering(out, tmp_path / "scalogram.png"))
    fig = draw_scattering(out)
    assert_legible(fig)
    # the frequencies in Hz (a sample a minute: at most 0.5 / 60 Hz), not cycles per sample
    axis = fig.axes[2].yaxis if T is None else fig.axes[0].xaxis
    assert axis.get_label_text() == "centre frequency (Hz)"
    assert 0 < min(axis.get_view_interval()) < max(axis.get_view_interval()) < 0.5 / 60


def test_3d_paths_across_samples(tmp_path):
    rng = np.random.default_rng(1)
    grid = np.mgrid[0:12, 0:12, 0:12]
    volumes = np.stack([np.exp(-((grid - rng.uniform(4, 8, (3, 1, 1, 1))) ** 2).sum(0) / 4)
                        for _ in range(5)])
    da = xr.DataArray(volumes, dims=("molecule", "z", "y", "x"), name="density")
    out = reopen(scat_xr.harmonic_scattering3d(da, 2, L=1), tmp_path, chunks={"molecule": 2})
    check_png(plot_scattering(out, tmp_path / "paths.png", index={"molecule": 3}))
    assert_legible(draw_scattering(out, index={"molecule": 3}))
    single = reopen(scat_xr.harmonic_scattering3d(da[0], 2, L=1), tmp_path, "one.zarr")
    check_png(plot_scattering(single, tmp_path / "one.png"))


@pytest.mark.parametrize("format", ["time", "joint"])
@pytest.mark.parametrize("T", [None, "global"])
def test_time_frequency_maps_per_spin_and_scale(tmp_path, format, T):
    from matplotlib.image import imread

    t = np.arange(2048) / 2048
    chirps = np.stack([np.cos(2 * np.pi * (40 + 300 * k * t) * t) for k in (1, -1)])
    da = xr.DataArray(chirps, dims=("take", "time"), name="chirp",
                      coords={"time": ("time", t, {"units": "s"})})
    out = reopen(scat_xr.time_frequency_scattering(da, J=6, J_fr=3, Q=(8, 2), format=format,
                                                   T=T), tmp_path)
    assert_legible(draw_scattering(out, index={"take": 0}))
    up = check_png(plot_scattering(out, tmp_path / "up.png", index={"take": 0}))
    down = imread(plot_scattering(out, tmp_path / "down.png", index={"take": 1}))
    assert up.shape == down.shape and not np.array_equal(up, down)


def template(out, path):
    """The store as a run leaves it before any region is written: metadata and coords, data
    chunks missing (read back as NaN), one chunk per sample."""
    import dask.array

    data = dask.array.from_array(out.values, chunks=(1,) + (-1,) * (out.ndim - 1))
    out.copy(data=data).to_dataset().to_zarr(path, mode="w", compute=False, consolidated=False)


def test_uncomputed_samples_are_skipped(tmp_path):
    from matplotlib.image import imread

    out = scalograms()
    template(out, tmp_path / "out.zarr")
    written = slice(2, 4)  # the regions a killed run got done
    region = out.isel(sample=written).to_dataset()
    region = region.drop_vars([c for c in region.coords if "sample" not in region[c].dims])
    region.to_zarr(tmp_path / "out.zarr", region={"sample": written}, consolidated=False)
    store = xr.open_zarr(tmp_path / "out.zarr", consolidated=False)
    default = plot_scattering(store, tmp_path / "default.png")
    chosen = plot_scattering(store, tmp_path / "chosen.png", index={"sample": 2})
    np.testing.assert_array_equal(imread(default), imread(chosen))
    with pytest.raises(ValueError, match=r"no computed sample at sample=0"):
        plot_scattering(store, tmp_path / "nan.png", index={"sample": 0})


def test_nothing_computed_is_a_clear_error(tmp_path):
    template(maps(L=2), tmp_path / "out.zarr")
    store = xr.open_zarr(tmp_path / "out.zarr", consolidated=False)
    with pytest.raises(ValueError, match=r"'img' has no computed sample: all its coefficients "
                                         r"are NaN"):
        plot_scattering(store, tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


def test_bad_variable_and_index_name_the_choices(tmp_path):
    store = reopen(scalograms(), tmp_path)
    both = store.assign(other=(store["sig"] * 2).assign_attrs(store["sig"].attrs),
                        flag=("sample", np.ones(4)))
    with pytest.raises(ValueError, match=r"variable='flag'.*\['sig', 'other'\]"):
        plot_scattering(both, tmp_path / "x.png", variable="flag")
    check_png(plot_scattering(both, tmp_path / "other.png", variable="other"))
    with pytest.raises(ValueError, match=r"\['time'\] are not loop dims.*\['sample'\]"):
        plot_scattering(store, tmp_path / "x.png", index={"time": 0})
    with pytest.raises(ValueError, match=r"index\['sample'\] must be an integer position in 0..3"):
        plot_scattering(store, tmp_path / "x.png", index={"sample": 4})
    with pytest.raises(ValueError, match=r"no variable with scatflow_transform attrs"):
        plot_scattering(both[["flag"]], tmp_path / "x.png")
