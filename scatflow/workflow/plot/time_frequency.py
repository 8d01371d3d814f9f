"""`scatflow plot` for time_frequency_scattering: joint-format maps (first-order frequency xi1
against time) per spin and frequential scale. On top: the order-0 curve, the order-1 map of the
frequential low-pass and the order-2 map of the frequential low-pass; below, one row per spin
(up, down), one column per frequential scale j_fr, each map the root mean square over the
second-order filters n2 of the order-2 coefficients. Time-format stores are regrouped into the
same maps (one row per n1). With T='global' (no time), the maps are xi1 against xi2 instead.
"""

import numpy as np

from .common import axis_label, axis_values, edges, log_ticks, missing_grey

MAP_INCHES = 3.2  # width of one map


def draw(fig, var, position, paths):
    """The maps of one sample (see the module docstring)."""
    sample = var.isel(position).load()
    (tdim,) = var.attrs["scatflow_dims"]
    timed = tdim in sample.dims
    maps = _joint_maps(sample, tdim)
    order, spin, j_fr = paths["order"], paths["spin"], paths["j_fr"]
    scales = sorted({int(j) for j, o, s in zip(j_fr, order, spin) if o == 2 and s != 0})
    columns = max(len(scales), 3)
    fig.set_size_inches(MAP_INCHES * columns + 1.5, 2.9 * 3 + 0.8)
    grid = fig.subplots(3, columns, squeeze=False)
    for ax in grid.ravel():
        ax.axis("off")
    x_label = axis_label(sample, tdim) if timed else "second-order centre frequency \u03be2"

    def display(key_maps):
        """(x, xi1, values) of `key_maps` on their common xi1 rows: their root mean square (with
        time), or side by side by increasing xi2 (T='global'); None without maps."""
        if not key_maps:
            return None
        xi1, stack = _aligned(key_maps)
        if timed:
            with np.errstate(invalid="ignore"):
                return axis_values(sample, tdim), xi1, np.sqrt(np.nanmean(stack ** 2, axis=0))
        xi2 = np.array([m[2] for m in key_maps])
        columns = np.argsort(xi2)
        return xi2[columns], xi1, stack[columns, :, 0].T

    def show(ax, shown, title, norm):
        x, xi1, values = shown
        ax.axis("on")
        mesh = ax.pcolormesh(edges(x) if timed else np.exp(edges(np.log(x))),
                             np.exp(edges(np.log(xi1))), values, norm=norm,
                             cmap=missing_grey("magma"))
        ax.set_yscale("log")
        log_ticks(ax.yaxis)
        if not timed:
            ax.set_xscale("log")
            log_ticks(ax.xaxis, most=3)
        ax.set_title(title, fontsize="medium")
        ax.set(xlabel=x_label, ylabel="\u03be1 (cycles per sample)")
        return mesh

    zeroth = sample.values[np.flatnonzero(order == 0)] if (order == 0).any() else None
    ax = grid[0, 0]
    if zeroth is not None and timed:
        ax.axis("on")
        ax.plot(axis_values(sample, tdim), np.ravel(zeroth[0]), color="k", lw=1)
        ax.set(title="order 0 (low-pass)", xlabel=axis_label(sample, tdim))
    else:
        text = ("order 0 (global average): " + f"{float(np.ravel(zeroth)[0]):.4g}"
                if zeroth is not None else "order 0 is not part of\nthe joint format")
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    low1 = [m for (o, _, s, _), ms in maps.items() if o == 1 and s == 0 for m in ms]
    if timed and low1:
        shown = display(low1)
        show(grid[0, 1], shown, "order 1, frequential low-pass", _norm(shown[2]))
    elif low1:
        grid[0, 1].axis("on")
        grid[0, 1].plot(low1[0][0], low1[0][1][:, 0], marker="o")
        grid[0, 1].set(xscale="log", xlabel="\u03be1", title="order 1, frequential low-pass")
        log_ticks(grid[0, 1].xaxis, most=3)
    low2 = display([m for (o, _, s, _), ms in maps.items() if o == 2 and s == 0 for m in ms])
    if low2:
        show(grid[0, 2], low2, "order 2, frequential low-pass", _norm(low2[2]))
    for row, (sign, name) in zip(grid[1:], ((1, "up"), (-1, "down"))):
        shown = {j: display([m for (o, _, s, jj), ms in maps.items()
                             if o == 2 and s == sign and jj == j for m in ms]) for j in scales}
        shown = {j: d for j, d in shown.items() if d is not None}
        if not shown:
            continue
        norm = _norm(np.concatenate([d[2].ravel() for d in shown.values()]))
        for ax, (j, d) in zip(row, shown.items()):
            mesh = show(ax, d, f"spin {name}, j_fr = {j}", norm)
        bar = fig.colorbar(mesh, ax=list(row[: len(shown)]), shrink=0.85,
                           label=f"order 2, spin {name}" + (" (RMS over n2)" if timed else ""))
        log_ticks(bar.ax.yaxis)


def _norm(values):
    """A shared logarithmic colour scale: the 5th to 99.5th percentiles of the positive values
    (None where there are none)."""
    from matplotlib.colors import LogNorm

    positive = values[np.isfinite(values) & (values > 0)]
    if not positive.size:
        return None
    low, high = np.percentile(positive, [5, 99.5])
    return LogNorm(vmin=max(low, high * 1e-4), vmax=high, clip=True)


def _aligned(key_maps):
    """(xi1 rows, (maps, rows, columns) with NaN where a map has no such row): maps of one
    kind on the union of their rows, xi1 decreasing (n1 increasing)."""
    xi1 = np.unique(np.concatenate([m[0] for m in key_maps]))[::-1]
    width = key_maps[0][1].shape[-1]
    stack = np.full((len(key_maps), len(xi1), width), np.nan)
    for k, (rows, values, _) in enumerate(key_maps):
        stack[k, np.searchsorted(-xi1, -rows)] = values
    return xi1, stack


def _joint_maps(sample, tdim):
    """{(order, n2, spin, j_fr): [(xi1 per row, values (rows, time or 1), xi2)]}: one map per
    path of a joint-format store, or per group of time-format channels with the same (order,
    n2, n_fr), rows sorted by n1; padding rows and rows without a first-order filter left out."""
    coords = sample.coords
    joint = "frequency" in sample.dims
    order = coords["order"].values
    n2 = coords["n2"].values if "n2" in coords else np.full(order.shape, -1)
    xi2 = coords["xi2"].values if "xi2" in coords else np.full(order.shape, np.nan)
    n_fr, spin, j_fr = (coords[c].values for c in ("n_fr", "spin", "j_fr"))
    data = sample.transpose("coeff", *(("frequency",) if joint else ()), ...).values
    if data.ndim == 1 + joint:  # T='global': one value per row
        data = data[..., None]
    groups = {}
    if joint:
        rows = coords["n1"].values >= 0
        xi1 = coords["xi1"].values[rows]
        for i in np.flatnonzero(order > 0):
            key = (int(order[i]), int(n2[i]), int(spin[i]), int(j_fr[i]))
            groups.setdefault(key, []).append((xi1, data[i][rows], xi2[i]))
        return groups
    n1, xi1 = coords["n1"].values, coords["xi1"].values
    channels = {}
    for i in np.flatnonzero(order > 0):
        group = (int(order[i]), int(n2[i]), int(n_fr[i]))
        channels.setdefault(group, []).append(i)
    for (o, m2, _), members in channels.items():
        members = sorted(members, key=lambda i: n1[i])
        i = members[0]
        key = (o, m2, int(spin[i]), int(j_fr[i]))
        groups.setdefault(key, []).append((xi1[members], data[members], xi2[i]))
    return groups
