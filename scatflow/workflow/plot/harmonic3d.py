"""`scatflow plot` for harmonic_scattering3d: coefficients over the (j1[, j2]) paths, one line
per degree l, one panel per integral power; below, the first dozen computed samples relative
to their mean."""

import numpy as np

from .common import computed_samples, describe_position

SAMPLES_3D = 12  # samples compared in the lower panel


def draw(fig, var, position, paths):
    """Coefficients over the j paths, one line per l, one panel per integral power; below, the
    first dozen computed samples over all paths, relative to their mean."""
    sample = var.isel(position).transpose("coeff", "integral_power").load()
    order, degree, j1, j2 = paths["order"], paths["l"], paths["j1"], paths["j2"]
    powers = sample["integral_power"].values
    group = [(o, a, b) for o, a, b in zip(order, j1, j2)]  # paths come grouped, l innermost
    groups = list(dict.fromkeys(group))
    names = [f"{a}" if o == 1 else f"{a},{b}" for o, a, b in groups]
    others = computed_samples(var, list(position), SAMPLES_3D) if position else []
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
    ax.set_yticks(range(len(others)), [describe_position(var, o) for o in others], fontsize="small")
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
