"""`scatflow plot` for scattering1d: the order-0 curve over the order-1 scalogram (time x centre
frequency, log axis); with T='global', order-1 coefficients against the centre frequency. The
frequencies are in the time dim's units (`frequency1`, e.g. Hz: `scatflow.xarray.units`) where
the store has them, else xi1 in cycles per sample."""

import numpy as np

from .common import axis_label, axis_values, edges, missing_grey


def draw(fig, var, position, paths):
    """Order-0 curve over the order-1 scalogram; order 1 against xi1 where there is no time."""
    from matplotlib.colors import LogNorm

    sample = var.isel(position).transpose("coeff", ...).load()
    (tdim,) = var.attrs["scatflow_dims"]
    order = paths["order"]
    frequencies, xi_label = frequency_axis(var, paths)
    first = np.flatnonzero(order == 1)
    first = first[np.argsort(frequencies[first])]
    xi = frequencies[first]
    values = sample.values[first]
    zeroth = sample.values[order == 0]
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
    time = axis_values(sample, tdim)
    if zeroth.size:
        ax0.plot(time, zeroth[0], color="k", lw=1)
    ax0.set(ylabel="order 0", title="order 0 (low-pass)")
    ax0.sharex(ax1)
    ax0.tick_params(labelbottom=False)
    positive = values[np.isfinite(values) & (values > 0)]
    top = positive.max() if positive.size else 1.0
    floor = max(np.percentile(positive, 1), top * 1e-3) if positive.size else top * 1e-3
    mesh = ax1.pcolormesh(edges(time), np.exp(edges(np.log(xi))), values,
                          norm=LogNorm(vmin=floor, vmax=top, clip=True),
                          cmap=missing_grey("magma"))
    ax1.set_yscale("log")
    ax1.set(xlabel=axis_label(sample, tdim), ylabel=xi_label,
            title="order 1: scalogram (colour on a log scale)")
    fig.colorbar(mesh, cax=cax, label="order-1 coefficient")


def frequency_axis(var, paths):
    """The order-1 centre frequencies and their axis label: `frequency1` in its units where the
    store holds it (a regular time coordinate), else xi1 in cycles per sample."""
    if "frequency1" in paths:
        units = var.coords["frequency1"].attrs.get("units")
        return paths["frequency1"], "centre frequency" + (f" ({units})" if units else "")
    return paths["xi1"], "centre frequency \u03be1 (cycles per sample)"
