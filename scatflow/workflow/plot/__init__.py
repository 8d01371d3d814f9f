"""A PNG of what an output store holds: one sample drawn by its transform's plotter.

Each transform of `scatflow.registry` names its plotter (a `draw(fig, var, position, paths)`
in a module of this package: `scattering1d`, `scattering2d`, `harmonic3d`, ...).

One sample is drawn: the one `index` names or the first with finite coefficients, searched
chunk by chunk along the loop dims, so a half-written store (NaN where nothing was computed)
shows what it has without reading everything. matplotlib is imported only here and draws on
its Agg canvas directly, leaving pyplot and the session's backend alone.
"""

import pathlib

import numpy as np

from .common import computed_samples, describe_position

TITLE_PARAMS = ("J", "J_fr", "Q", "Q_fr", "T", "F", "L", "sigma_0", "max_order",
                "integral_powers", "format")


def plot_scattering(ds, path, *, variable=None, index=None):
    """Draw one sample of a transformed variable of `ds` to the PNG `path` and return its path.

    `ds`: a Dataset as opened from an output store, or the result of a `scatflow.xarray`
    transform (a DataArray is taken as a one-variable Dataset). `variable`: the variable to
    draw (default: the first with `scatflow_transform` attrs). `index`: {loop dim: integer
    position} for some or all loop dims; the others are searched for a computed sample."""
    fig = draw_scattering(ds, variable=variable, index=index)
    path = pathlib.Path(path)
    fig.savefig(path, format="png")
    return path


def draw_scattering(ds, *, variable=None, index=None):
    """The matplotlib Figure (on an Agg canvas) that `plot_scattering` saves, with the same
    arguments: what a caller embeds elsewhere, or a test inspects."""
    var = _pick_variable(ds, variable)
    from ... import registry

    transform = var.attrs["scatflow_transform"]
    if transform not in registry.TRANSFORMS:
        raise ValueError(f"variable {var.name!r}: scatflow_transform={transform!r} is not one of "
                         f"{sorted(registry.TRANSFORMS)}")
    draw = registry.get(transform).load("plotter")
    loop = [d for d in var.dims if d not in var.attrs["scatflow_output_dims"]]
    position = _pick_sample(var, loop, index)
    paths = {name: np.asarray(coord.values) for name, coord in var.coords.items()
             if coord.dims == ("coeff",)}

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained", dpi=100)
    FigureCanvasAgg(fig)
    draw(fig, var, position, paths)
    params = ", ".join(f"{p}={var.attrs['scatflow_' + p]}" for p in TITLE_PARAMS
                       if "scatflow_" + p in var.attrs)
    fig.suptitle(f"{var.name} \N{EM DASH} {transform} ({params})\n"
                 f"sample: {describe_position(var, position)}", fontsize="large")
    return fig


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
    found = computed_samples(var.isel(index), [d for d in loop if d not in index], 1)
    if not found:
        where = f" at {describe_position(var, index)}" if index else ""
        raise ValueError(f"variable {var.name!r} has no computed sample{where}: all its "
                         f"coefficients are NaN (is the store still being written?)")
    chosen = {**index, **found[0]}
    return {d: chosen[d] for d in loop}
