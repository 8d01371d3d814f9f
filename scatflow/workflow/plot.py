"""A PNG of what an output store holds: coefficient maps, a scalogram or path profiles.

    scattering2d           on top the order-0 map and the mean energies per (j1, theta1) and
                           per (j1, j2); below the order-1 maps, one row per scale j1 (one
                           colour scale per row), one column per orientation theta1
    scattering1d           the order-0 curve over the order-1 scalogram (time x centre frequency
                           xi1, log axis); with T='global', order-1 coefficients against xi1
    harmonic_scattering3d  coefficients over the (j1[, j2]) paths, one line per degree l, one
                           panel per integral power; below, the first dozen computed samples
                           relative to their mean

One sample is drawn: the one `index` names or the first with finite coefficients, searched
chunk by chunk along the loop dims, so a half-written store (NaN where nothing was computed)
shows what it has without reading everything. matplotlib is imported only here and draws on
its Agg canvas directly, leaving pyplot and the session's backend alone.
"""

import itertools
import pathlib

import numpy as np

TITLE_PARAMS = ("J", "Q", "T", "L", "sigma_0", "max_order", "integral_powers")
SAMPLES_3D = 12  # samples compared in the lower 3D panel
PANEL_INCHES = 1.7  # side of one order-1 map in the 2D grid
TOP_ROW_INCHES = 14  # the 2D figure's narrowest width: its top row holds three panels


def plot_scattering(ds, path, *, variable=None, index=None):
    """Draw one sample of a transformed variable of `ds` to the PNG `path` and return its path.

    `ds`: a Dataset as opened from an output store, or the result of a `scatflow.xarray`
    transform (a DataArray is taken as a one-variable Dataset). `variable`: the variable to
    draw (default: the first with `scatflow_transform` attrs). `index`: {loop dim: integer
    position} for some or all loop dims; the others are searched for a computed sample."""
    var = _pick_variable(ds, variable)
    transform = var.attrs["scatflow_transform"]
    if transform not in DRAW:
        raise ValueError(f"variable {var.name!r}: scatflow_transform={transform!r} is not one of "
                         f"{sorted(DRAW)}")
    loop = [d for d in var.dims
            if d not in ("coeff", "integral_power", *var.attrs.get("scatflow_dims", ()))]
    position = _pick_sample(var, loop, index)
    paths = {name: np.asarray(coord.values) for name, coord in var.coords.items()
             if coord.dims == ("coeff",)}

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained", dpi=100)
    FigureCanvasAgg(fig)
    DRAW[transform](fig, var, position, paths)
    params = ", ".join(f"{p}={var.attrs['scatflow_' + p]}" for p in TITLE_PARAMS
                       if "scatflow_" + p in var.attrs)
    fig.suptitle(f"{var.name} \N{EM DASH} {transform} ({params})\n"
                 f"sample: {_describe(var, position)}", fontsize="large")
    path = pathlib.Path(path)
    fig.savefig(path, format="png")
    return path


def _pick_variable(ds, variable):
    """The DataArray to draw; a ValueError lists the transformed variables if none fits."""
    import xarray as xr

    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name="coefficients" if ds.name is None else ds.name)
    choices = [name for name, var in ds.data_vars.items() if "scatflow_transform" in var.attrs]
    if not choices:
        raise ValueError(f"ds has no variable with scatflow_transform attrs (not a scatflow "
                         f"output?); its variables: {list(ds.data_vars)}")
    if variable is None:
        return ds[choices[0]]
    if variable not in choices:
        raise ValueError(f"variable={variable!r} is not a transformed variable of ds; choose "
                         f"one of {choices}")
    return ds[variable]


def _pick_sample(var, loop, index):
    """{loop dim: position} of the sample to draw: `index`, completed by the first computed
    sample; a ValueError says so where nothing there is computed."""
    index = dict(index or {})
    unknown = [d for d in index if d not in loop]
    if unknown:
        raise ValueError(f"index: {unknown} are not loop dims of {var.name!r}; its loop dims "
                         f"are {loop}")
    for dim, pos in index.items():
        size = var.sizes[dim]
        if isinstance(pos, bool) or not isinstance(pos, (int, np.integer)) or not (
                -size <= pos < size):
            raise ValueError(f"index[{dim!r}] must be an integer position in 0..{size - 1}; "
                             f"got {pos!r}")
        index[dim] = int(pos) % size
    found = _computed_samples(var.isel(index), [d for d in loop if d not in index], 1)
    if not found:
        where = f" at {_describe(var, index)}" if index else ""
        raise ValueError(f"variable {var.name!r} has no computed sample{where}: all its "
                         f"coefficients are NaN (is the store still being written?)")
    chosen = {**index, **found[0]}
    return {d: chosen[d] for d in loop}


def _computed_samples(var, free, limit):
    """Up to `limit` {dim: position} over the `free` dims whose coefficients are not all NaN,
    in storage order, reading one chunk of the free dims at a time."""
    others = [d for d in var.dims if d not in free]
    chunks = dict(zip(var.dims, var.chunks)) if var.chunks else {}
    bounds = [np.cumsum((0, *chunks.get(d, (var.sizes[d],)))) for d in free]
    found = []
    for block in itertools.product(*(range(len(b) - 1) for b in bounds)):
        starts = [int(b[k]) for b, k in zip(bounds, block)]
        window = {d: slice(s, int(b[k + 1])) for d, s, b, k in zip(free, starts, bounds, block)}
        finite = np.isfinite(var.isel(window)).any(others).transpose(*free).values
        for hit in np.argwhere(finite):
            found.append({d: s + int(h) for d, s, h in zip(free, starts, hit)})
            if len(found) == limit:
                return found
    return found


def _describe(var, position):
    """`dim=value` (with the position where the dim has coordinate values) per loop dim."""
    if not position:
        return "the only one (no loop dims)"
    parts = []
    for dim, pos in position.items():
        if dim in var.coords and var[dim].ndim == 1:
            value = var[dim].values[pos]
            if isinstance(value, np.datetime64):
                value = str(value.astype("datetime64[s]")).removesuffix("T00:00:00")
            elif isinstance(value, np.floating):
                value = f"{value:.6g}"
            parts.append(f"{dim}={value} (#{pos})")
        else:
            parts.append(f"{dim}={pos}")
    return ", ".join(parts)


def _axis(obj, dim):
    """Plot positions along `dim`: its 1-D coordinate values where it has some, else indices."""
    if dim in obj.coords and obj[dim].ndim == 1 and obj.sizes[dim] > 1 and (
            obj[dim].dtype.kind in "iufM"):
        return np.asarray(obj[dim].values)
    return np.arange(obj.sizes[dim])


def _label(obj, dim):
    units = obj[dim].attrs.get("units") if dim in obj.coords else None
    return f"{dim} [{units}]" if units else dim


def _edges(centres):
    """Cell edges around sorted centres (midpoints, ends mirrored), for pcolormesh."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = centres[:-1] + (centres[1:] - centres[:-1]) / 2
    return np.concatenate([[centres[0] - (mid[0] - centres[0])], mid,
                           [centres[-1] + (centres[-1] - mid[-1])]])


def _limits(values):
    """A robust shared colour range (0.5 and 99.5 percentiles), None where nothing is finite."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    return tuple(np.percentile(finite, [0.5, 99.5]))


def _draw_2d(fig, var, position, paths):
    """Order-0 map and order-1/2 energies on top, order-1 maps by (j1 rows, theta1 columns)
    below."""
    sample = var.isel(position).transpose("coeff", ...).load()
    ydim, xdim = var.attrs["scatflow_dims"]
    order, j1, theta1 = paths["order"], paths["j1"], paths["theta1"]
    scales = np.unique(j1[order == 1])
    angles = np.unique(theta1[order == 1])
    ny, nx = sample.sizes[ydim], sample.sizes[xdim]
    cell = PANEL_INCHES * min(max(nx / ny, 1), 2.5)  # wide maps get wider panels
    grid_width, grid_height = cell * len(angles) + 1.6, (cell * ny / nx + 0.4) * len(scales)
    width, top_height = max(grid_width, TOP_ROW_INCHES), PANEL_INCHES * 1.6 + 0.8
    fig.set_size_inches(width, top_height + grid_height + 0.5)
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_height, grid_height])
    if grid_width < width:  # few orientations: keep the maps together, centred
        margin = (width - grid_width) / 2
        bottom = bottom.subfigures(1, 3, width_ratios=[margin, grid_width, margin])[1]
    x, y = _axis(sample, xdim), _axis(sample, ydim)

    def show(ax, field, **style):
        mesh = ax.pcolormesh(x, y, field, shading="nearest", **style)
        ax.set_box_aspect(field.shape[0] / field.shape[1])
        ax.locator_params(integer=True)
        if ydim not in sample.coords:  # plain image rows: row 0 on top
            ax.yaxis.set_inverted(True)
        return mesh

    ax0, ax1, ax2 = top.subplots(1, 3)
    zeroth = sample.values[order == 0][0]
    bound = np.nanmax(np.abs(zeroth))
    signed = np.nanmin(zeroth) < 0 < np.nanmax(zeroth)
    mesh = show(ax0, zeroth, cmap="RdBu_r" if signed else "viridis",
                **({"vmin": -bound, "vmax": bound} if signed else {}))
    top.colorbar(mesh, ax=ax0, shrink=0.9)
    ax0.set(title="order 0 (low-pass)", xlabel=_label(sample, xdim), ylabel=_label(sample, ydim))
    _energy(top, ax1, sample.values, order == 1, j1, theta1, "\u03b81",
            "order-1 energy per (j1, \u03b81)", "mean of S1\N{SUPERSCRIPT TWO} over positions")
    _energy(top, ax2, sample.values, order == 2, j1, paths["j2"], "j2",
            "order-2 energy per (j1, j2)",
            "mean of S2\N{SUPERSCRIPT TWO} over \u03b81, \u03b82, positions")

    axes = bottom.subplots(len(scales), len(angles), sharex=True, sharey=True, squeeze=False)
    for row, scale in zip(axes, scales):
        maps = [sample.values[(order == 1) & (j1 == scale) & (theta1 == angle)][0]
                for angle in angles]
        low, high = _limits(np.stack(maps))
        for ax, angle, field in zip(row, angles, maps):
            mesh = show(ax, field, vmin=low, vmax=high, cmap="viridis")
            ax.label_outer()
        row[0].set_ylabel(f"j1 = {scale}\n{_label(sample, ydim)}")
        bottom.colorbar(mesh, ax=list(row), shrink=0.9, pad=0.01)
    for ax, angle in zip(axes[0], angles):
        ax.set_title(f"\u03b81 = {angle}")
    for ax in axes[-1]:
        ax.set_xlabel(_label(sample, xdim))
    bottom.suptitle("order 1: one row per scale j1 (shared colour scale), one column per "
                    "orientation \u03b81", fontsize="medium")


def _energy(fig, ax, values, chosen, rows_of, cols_of, col_name, title, label):
    """A heat map of the mean square of `values[chosen]` per (row, column) path label pair."""
    from matplotlib.colors import LogNorm

    pairs = sorted({(int(r), int(c)) for r, c in zip(rows_of[chosen], cols_of[chosen])})
    if not pairs:
        ax.axis("off")
        ax.text(0.5, 0.5, f"no paths for {title}", ha="center", va="center",
                transform=ax.transAxes)
        return
    rows, cols = sorted({r for r, _ in pairs}), sorted({c for _, c in pairs})
    energy = np.full((len(rows), len(cols)), np.nan)
    for r, c in pairs:
        energy[rows.index(r), cols.index(c)] = np.nanmean(
            values[chosen & (rows_of == r) & (cols_of == c)] ** 2)
    positive = bool(np.nanmin(energy) > 0)
    image = ax.imshow(energy, cmap="magma", norm=LogNorm() if positive else None)
    if energy.size <= 64:
        for (r, c), value in np.ndenumerate(energy):
            if np.isfinite(value):
                dark = image.norm(value) < 0.6
                ax.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set(title=title, xlabel=col_name, ylabel="j1")
    fig.colorbar(image, ax=ax, shrink=0.9, label=label)


def _draw_1d(fig, var, position, paths):
    """Order-0 curve over the order-1 scalogram; order 1 against xi1 where there is no time."""
    from matplotlib.colors import LogNorm

    sample = var.isel(position).transpose("coeff", ...).load()
    (tdim,) = var.attrs["scatflow_dims"]
    order, xi1 = paths["order"], paths["xi1"]
    first = np.flatnonzero(order == 1)
    first = first[np.argsort(xi1[first])]
    xi = xi1[first]
    values = sample.values[first]
    zeroth = sample.values[order == 0]
    xi_label = "centre frequency \u03be1 (cycles per sample)"
    if tdim not in sample.dims:
        fig.set_size_inches(9, 5.5)
        ax = fig.subplots()
        ax.plot(xi, values, marker="o")
        ax.set_xscale("log")
        if np.nanmin(values) > 0:
            ax.set_yscale("log")
        ax.set(xlabel=xi_label, ylabel="order-1 coefficient (global average)")
        if zeroth.size:
            ax.set_title(f"order 0 (global average): {zeroth[0]:.4g}", fontsize="medium")
        ax.grid(True, which="both", alpha=0.3)
        return
    fig.set_size_inches(11, 7)
    (ax0, blank), (ax1, cax) = fig.subplots(2, 2, width_ratios=[40, 1], height_ratios=[1, 3])
    blank.axis("off")
    time = _axis(sample, tdim)
    if zeroth.size:
        ax0.plot(time, zeroth[0], color="k", lw=1)
    ax0.set(ylabel="order 0", title="order 0 (low-pass)")
    ax0.sharex(ax1)
    ax0.tick_params(labelbottom=False)
    positive = values[np.isfinite(values) & (values > 0)]
    top = positive.max() if positive.size else 1.0
    floor = max(np.percentile(positive, 1), top * 1e-3) if positive.size else top * 1e-3
    mesh = ax1.pcolormesh(_edges(time), np.exp(_edges(np.log(xi))), values,
                          norm=LogNorm(vmin=floor, vmax=top, clip=True), cmap="magma")
    ax1.set_yscale("log")
    ax1.set(xlabel=_label(sample, tdim), ylabel=xi_label,
            title="order 1: scalogram (colour on a log scale)")
    fig.colorbar(mesh, cax=cax, label="order-1 coefficient")


def _draw_3d(fig, var, position, paths):
    """Coefficients over the j paths, one line per l, one panel per integral power; below, the
    first dozen computed samples over all paths, relative to their mean."""
    sample = var.isel(position).transpose("coeff", "integral_power").load()
    order, degree, j1, j2 = paths["order"], paths["l"], paths["j1"], paths["j2"]
    powers = sample["integral_power"].values
    group = [(o, a, b) for o, a, b in zip(order, j1, j2)]  # paths come grouped, l innermost
    groups = list(dict.fromkeys(group))
    names = [f"{a}" if o == 1 else f"{a},{b}" for o, a, b in groups]
    others = _computed_samples(var, list(position), SAMPLES_3D) if position else []
    fig.set_size_inches(max(4.5 * len(powers), 10), 8.5 if len(others) > 1 else 4.8)
    top, bottom = fig.subfigures(2, 1) if len(others) > 1 else (fig, None)
    split = sum(g[0] == 1 for g in groups) - 0.5
    for ax, p, column in zip(top.subplots(1, len(powers), squeeze=False)[0], powers,
                             sample.values.T):
        for l in np.unique(degree):
            line = {group[k]: column[k] for k in np.flatnonzero(degree == l)}
            ax.plot([line.get(g, np.nan) for g in groups], marker="o", label=f"l = {l}")
        ax.set_xticks(range(len(groups)), names, rotation=90 if len(groups) > 12 else 0)
        ax.set(title=f"integral power p = {p:g}", xlabel="j1 (order 1) | j1,j2 (order 2, shaded)",
               ylabel="coefficient", yscale="log" if np.nanmin(column) > 0 else "linear")
        ax.axvspan(split, len(groups) - 0.5, color="0.5", alpha=0.08, lw=0)  # order 2
        ax.grid(True, alpha=0.3)
    ax.legend(title="degree", fontsize="small")
    if bottom is None:
        return
    p_index = int(np.argmin(np.abs(powers - 1.0)))
    rows = np.stack([var.isel(o).transpose("coeff", "integral_power").values[:, p_index]
                     for o in others])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log10(rows / np.nanmean(rows, axis=0))
    bound = max(np.nanmax(np.abs(ratio)), 1e-12)
    ax = bottom.subplots()
    image = ax.imshow(ratio, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                      interpolation="nearest")
    ax.set_yticks(range(len(others)), [_describe(var, o) for o in others], fontsize="small")
    starts = [k for k in range(len(group)) if k == 0 or group[k] != group[k - 1]]
    for start in starts[1:]:
        ax.axvline(start - 0.5, color="k", lw=0.5)
    ax.set_xticks([(a + b - 1) / 2 for a, b in zip(starts, starts[1:] + [len(group)])],
                  [names[groups.index(group[k])] for k in starts])
    ax.set(xlabel="path j1 | j1,j2 (columns within a group: l = 0, 1, ...)",
           title=f"first {len(others)} computed samples at p = {powers[p_index]:g}, relative "
                 f"to their mean")
    if position in others:
        ax.get_yticklabels()[others.index(position)].set_fontweight("bold")
    bottom.colorbar(image, ax=ax, label="log10(coefficient / mean over these samples)")


DRAW = {"scattering1d": _draw_1d, "scattering2d": _draw_2d, "harmonic_scattering3d": _draw_3d}
