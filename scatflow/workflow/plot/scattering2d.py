"""`scatflow plot` for scattering2d: on top the order-0 map and the mean energies per (j1,
theta1) and per (j1, j2); below the order-1 maps, one row per scale j1 (one colour scale per
row), one column per orientation theta1."""

import numpy as np

from .common import axis_label, axis_values, limits

PANEL_INCHES = 1.7  # side of one order-1 map in the grid
TOP_ROW_INCHES = 14  # the figure's narrowest width: its top row holds three panels


def draw(fig, var, position, paths):
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
    x, y = axis_values(sample, xdim), axis_values(sample, ydim)

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
    ax0.set(title="order 0 (low-pass)", xlabel=axis_label(sample, xdim), ylabel=axis_label(sample, ydim))
    _energy(top, ax1, sample.values, order == 1, j1, theta1, "\u03b81",
            "order-1 energy per (j1, \u03b81)", "mean of S1\N{SUPERSCRIPT TWO} over positions")
    _energy(top, ax2, sample.values, order == 2, j1, paths["j2"], "j2",
            "order-2 energy per (j1, j2)",
            "mean of S2\N{SUPERSCRIPT TWO} over \u03b81, \u03b82, positions")

    axes = bottom.subplots(len(scales), len(angles), sharex=True, sharey=True, squeeze=False)
    for row, scale in zip(axes, scales):
        maps = [sample.values[(order == 1) & (j1 == scale) & (theta1 == angle)][0]
                for angle in angles]
        low, high = limits(np.stack(maps))
        for ax, angle, field in zip(row, angles, maps):
            mesh = show(ax, field, vmin=low, vmax=high, cmap="viridis")
            ax.label_outer()
        row[0].set_ylabel(f"j1 = {scale}\n{axis_label(sample, ydim)}")
        bottom.colorbar(mesh, ax=list(row), shrink=0.9, pad=0.01)
    for ax, angle in zip(axes[0], angles):
        ax.set_title(f"\u03b81 = {angle}")
    for ax in axes[-1]:
        ax.set_xlabel(axis_label(sample, xdim))
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
