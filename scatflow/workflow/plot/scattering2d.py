"""`scatflow plot` for scattering2d: on top the order-0 map and the mean energies of orders 1
and 2; below the order-1 maps, one row per scale j1 (one colour scale per row), one column per
orientation theta1. Latitude and longitude axes (by their CF units) read 60°N, 120°W. NaN
cells (too little valid data under nan_policy="mask": land in a sea field) are grey."""

import numpy as np

from .common import (axis_label, axis_values, compass, degree_label, limits, missing_grey,
                     tick_locator)

PANEL_INCHES = 1.7  # side of one order-1 map in the grid
TOP_ROW_INCHES = 14  # the figure's narrowest width: its top row holds three panels
GRID_HEADROOM_INCHES = 1.1  # the grid's title, column titles, tick labels and axis name
ROW_GAP_INCHES = 0.3  # between two rows of the grid
TICK_POINTS = (40, 20)  # room a tick label needs along x ("120°W") and along y, in points
ANNOTATED_CELLS = (5, 8)  # energy maps up to these (rows, columns) print each cell's value


def draw(fig, var, position, paths):
    """The order-0 map and the energies of orders 1 and 2 (the latter where there are order-2
    paths) on top, order-1 maps by (j1 rows, theta1 columns) below."""
    from matplotlib.ticker import FuncFormatter

    sample = var.isel(position).transpose("coeff", ...).load()
    ydim, xdim = var.attrs["scatflow_dims"]
    order, j1, theta1 = paths["order"], paths["j1"], paths["theta1"]
    scales = np.unique(j1[order == 1])
    angles = np.unique(theta1[order == 1])
    ny, nx = sample.sizes[ydim], sample.sizes[xdim]
    cell = PANEL_INCHES * min(max(nx / ny, 1), 2.5)  # wide maps get wider panels
    grid_width = cell * len(angles) + 1.6
    grid_height = ((cell * ny / nx + ROW_GAP_INCHES) * len(scales) - ROW_GAP_INCHES
                   + GRID_HEADROOM_INCHES)
    width, top_height = max(grid_width, TOP_ROW_INCHES), PANEL_INCHES * 1.6 + 0.8
    fig.set_size_inches(width, top_height + grid_height + 0.5)
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_height, grid_height])
    if grid_width < width:  # few orientations: keep the maps together, centred
        margin = (width - grid_width) / 2
        bottom = bottom.subfigures(1, 3, width_ratios=[margin, grid_width, margin])[1]
    x, y = axis_values(sample, xdim), axis_values(sample, ydim)
    ticks_x = max(int(cell * 72 / TICK_POINTS[0]), 2)  # as many as the grid's maps hold
    ticks_y = max(int(cell * ny / nx * 72 / TICK_POINTS[1]), 2)

    def show(ax, field, cmap, **style):
        """`field` drawn on its axes, NaN cells (missing data) grey."""
        mesh = ax.pcolormesh(x, y, np.ma.masked_invalid(field), shading="nearest",
                             cmap=missing_grey(cmap), **style)
        ax.set_box_aspect(field.shape[0] / field.shape[1])
        for axis, dim, values, most in ((ax.xaxis, xdim, x, ticks_x), (ax.yaxis, ydim, y, ticks_y)):
            direction = compass(sample, dim)
            span = abs(float(values[-1] - values[0])) * len(values) / max(len(values) - 1, 1)
            axis.set_major_locator(tick_locator(span, most, degrees=direction is not None))
            if direction:
                axis.set_major_formatter(FuncFormatter(
                    lambda value, _, direction=direction: degree_label(value, direction)))
        if ydim not in sample.coords:  # plain image rows: row 0 on top
            ax.yaxis.set_inverted(True)
        return mesh

    second = order == 2
    ax0, ax1, *ax2 = top.subplots(1, 3 if second.any() else 2)
    zeroth = sample.values[order == 0][0]
    bound = np.nanmax(np.abs(zeroth))
    signed = np.nanmin(zeroth) < 0 < np.nanmax(zeroth)
    mesh = show(ax0, zeroth, cmap="RdBu_r" if signed else "viridis",
                **({"vmin": -bound, "vmax": bound} if signed else {}))
    top.colorbar(mesh, ax=ax0, shrink=0.9)
    ax0.set(title="order 0 (low-pass)", xlabel=axis_label(sample, xdim),
            ylabel=axis_label(sample, ydim))
    _energy(top, ax1, sample.values, order == 1, (j1, "j1"), (theta1, "\u03b81"),
            "order-1 energy per (j1, \u03b81)", "mean of S1\N{SUPERSCRIPT TWO} over positions")
    if ax2:
        _second_order_energy(top, ax2[0], sample.values, second, paths)

    axes = bottom.subplots(len(scales), len(angles), sharex=True, sharey=True, squeeze=False)
    for row, scale in zip(axes, scales):
        maps = [sample.values[(order == 1) & (j1 == scale) & (theta1 == angle)][0]
                for angle in angles]
        low, high = limits(np.stack(maps))
        for ax, angle, field in zip(row, angles, maps):
            mesh = show(ax, field, vmin=low, vmax=high, cmap="viridis")
            ax.label_outer()
        row[0].set_ylabel(f"j1 = {scale}")
        bottom.colorbar(mesh, ax=list(row), shrink=0.9, pad=0.01)
    for ax, angle in zip(axes[0], angles):
        ax.set_title(f"\u03b81 = {angle}")
    bottom.supxlabel(axis_label(sample, xdim), fontsize="medium")
    bottom.supylabel(axis_label(sample, ydim), fontsize="medium")
    bottom.suptitle("order 1: one row per scale j1 (shared colour scale), one column per "
                    "orientation \u03b81", fontsize="medium")


def _second_order_energy(fig, ax, values, second, paths):
    """The order-2 energy per (j1, j2); per (theta1, theta2) where there is one (j1, j2) pair
    only (J=2), so that the panel is not a single cell."""
    j1, j2 = paths["j1"], paths["j2"]
    scale_pairs = sorted({(int(a), int(b)) for a, b in zip(j1[second], j2[second])})
    if len(scale_pairs) > 1:
        _energy(fig, ax, values, second, (j1, "j1"), (j2, "j2"), "order-2 energy per (j1, j2)",
                "mean of S2\N{SUPERSCRIPT TWO} over \u03b81, \u03b82, positions")
        return
    (a, b), = scale_pairs
    _energy(fig, ax, values, second, (paths["theta1"], "\u03b81"), (paths["theta2"], "\u03b82"),
            f"order-2 energy per (\u03b81, \u03b82), j1 = {a}, j2 = {b}",
            "mean of S2\N{SUPERSCRIPT TWO} over positions")


def _energy(fig, ax, values, chosen, rows, columns, title, label):
    """A heat map of the mean square of `values[chosen]` per (row, column) path label pair;
    `rows` and `columns`: (the label of each path, its name)."""
    from matplotlib.colors import LogNorm

    (rows_of, row_name), (cols_of, col_name) = rows, columns
    pairs = sorted({(int(r), int(c)) for r, c in zip(rows_of[chosen], cols_of[chosen])})
    row_labels, col_labels = sorted({r for r, _ in pairs}), sorted({c for _, c in pairs})
    energy = np.full((len(row_labels), len(col_labels)), np.nan)
    for r, c in pairs:
        energy[row_labels.index(r), col_labels.index(c)] = np.nanmean(
            values[chosen & (rows_of == r) & (cols_of == c)] ** 2)
    positive = bool(np.nanmin(energy) > 0)
    image = ax.imshow(energy, cmap="magma", norm=LogNorm() if positive else None)
    if energy.shape[0] <= ANNOTATED_CELLS[0] and energy.shape[1] <= ANNOTATED_CELLS[1]:
        for (r, c), value in np.ndenumerate(energy):
            if np.isfinite(value):
                dark = image.norm(value) < 0.6
                ax.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set(title=title, xlabel=col_name, ylabel=row_name)
    fig.colorbar(image, ax=ax, shrink=0.9, label=label)
