"""Scattering transforms of xarray objects: the functional core behind the `scat` accessor.

    scattering1d(obj, J, dims="time")               (..., time)    -> (..., coeff, time)
    scattering2d(obj, J, dims=("y", "x"))           (..., y, x)    -> (..., coeff, y, x)
    harmonic_scattering3d(obj, J, dims=("z", "y", "x"))
                                                    (..., z, y, x) -> (..., coeff, integral_power)

`obj` is a DataArray or a Dataset. The numbers are `scatflow.dask`'s (and so `scatflow.numpy`'s):
every keyword of those functions passes through (the frontend's: Q, T, L, max_order, stride,
kymatio_compat, integral_powers, min_valid, ...; and `chunking`, `nan_policy`, `backend`).
`nan_policy="mask"` takes NaN as missing data (land in a sea-surface field): see `scatflow.dask`;
coefficients whose low-passed valid fraction is under `min_valid` are NaN.

Dims. `dims` is a name or a tuple of names. Left out, the first of these present is used:
1D `time`; 2D `(y, x)`, `(lat, lon)`, `(latitude, longitude)`; 3D `(z, y, x)`; otherwise a
ValueError lists the object's dims. The output has the other ("loop") dims first, in their
original order, then `coeff` (3D: `coeff`, `integral_power`), then the transformed dims in the
order of `dims`. 1D `T='global'` and 3D outputs have no positions: their transformed dims go away.

Coords. `coeff` has plain (non-index) coords describing each path, so that
`out.sel(coeff=out.order == 2)` works and the result writes to zarr: `order`; 1D `n1, n2, j1,
j2, xi1, xi2` (centre frequencies, cycles per sample), `sigma1, sigma2`; 2D `j1, theta1, j2,
theta2`; 3D `l, j1, j2` (-1 for ints, NaN for floats, where a path has no such entry).
`xr.open_zarr` gives them back dask-backed: select with `out.order.values == 2` there, or
`.load()` them first; `out.set_xindex(["order", "j1", ...])` builds an index for `sel(order=...,
j1=...)`.

A transformed dim keeps its name; its coordinate holds the input coordinate values at the input
samples the outputs stand for (`core.output_grid`: index `offset + k * step`, not `[::2**J]` in
general), with the input coord's attrs. Every other coord that depends on a transformed dim is
decimated the same way (a 2-D `lat(y, x)` too); where the outputs have no positions (3D, 1D
`T='global'`) such coords are dropped, with a warning for non-index ones. Coords on loop dims
and the input's attrs are kept; the transform's parameters are added as attrs `scatflow_*`
(`scatflow_transform`, `scatflow_version`, `scatflow_dims`, `scatflow_output_dims` (the dims
the transform gives, after the loop dims), `scatflow_J`, ..., every frontend parameter with its
default filled in, JSON values only, so zarr stores them).

Units. Where the transformed dims have regularly spaced coordinates, `coeff` (and JTFS's
`frequency`) also holds the scales in their units: `frequency1, frequency2` in 1D and JTFS,
`wavelength1, wavelength2` in 2D, with attrs `scatflow_averaging_scale` and its units; on a
time coordinate `T` may be a duration ("6h"). See `scatflow.xarray.units`.

Boundaries. `padding_mode` is the frontends' ("reflect" by default, "symmetric", "zero",
"periodic"; in 2D one per dim too) or "auto": "periodic" for each transformed dim whose
coordinate spans a full circle (`spans_full_circle`: numeric, evenly spaced, step * size = 360,
a longitude covering the globe once) where its size allows exact periodic subsampling (2D: a
multiple of 2**J), "reflect" for the others. The modes chosen are the attr
`scatflow_padding_mode` (one per dim in 2D, in the order of `scatflow_dims`), and
`scatflow_padding_mode_requested` is "auto".

Datasets. Variables that have all of `dims` are transformed; variables with none of them are
kept unchanged (e.g. a `flag(time)` beside images `(time, y, x)`); variables with some but not
all of them are dropped with a warning. A transformed variable with a non-numeric dtype is a
TypeError naming it.

Laziness. Dask-backed input gives a dask-backed result and nothing is computed while it is
built. NumPy-backed input is computed eagerly (numpy in, numpy out, as xarray's own operations
do): it is wrapped in a dask array (one chunk per signal) and computed with the current dask
scheduler. Output dask chunks along the transformed dims are regular (all equal but the last;
`scatflow.dask`), so `to_zarr` accepts them without `safe_chunks=False`.
"""

import inspect
import numbers
import warnings

import numpy as np

from .. import dask as scat_dask
from .. import registry
from .._version import __version__
from ..dispatch import type_name
from . import units

LONG_NAMES = {
    "order": "scattering order",
    "n": "filter index at order {i}",
    "j": "scale index j at order {i}",
    "xi": "centre frequency at order {i} (cycles per sample)",
    "sigma": "frequency width at order {i} (cycles per sample)",
    "theta": "orientation index at order {i}",
    "l": "degree l of the solid harmonics",
    "n_fr": "frequential filter index (0: the low-pass of width 2**J_fr)",
    "j_fr": "frequential scale index j_fr",
    "xi_fr": "frequential centre frequency (cycles per first-order filter; < 0: spin down)",
    "sigma_fr": "frequential width (cycles per first-order filter)",
    "spin": "spin: +1 up, -1 down, 0 the frequential low-pass",
}

FULL_CIRCLE = 360.0  # degrees: the span of a coordinate that wraps around
CIRCLE_TOLERANCE = 1e-3  # of a step: float32 longitudes round their steps by ~1e-4 of one
MAX_ORDER = 2  # tuple-valued path fields get one coord per order up to this
OPTIONS = (("dims", None), ("chunking", "rechunk"), ("nan_policy", "propagate"),
           ("backend", "auto"))


def transform_function(name):
    """The function of the registry's transform `name`: `(obj, <required parameters>, *, dims,
    chunking, nan_policy, backend, **frontend keywords)`."""
    transform = registry.get(name)
    P = inspect.Parameter
    signature = inspect.Signature(
        [P(n, P.POSITIONAL_OR_KEYWORD) for n in ["obj"] + transform.required()]
        + [P(n, P.KEYWORD_ONLY, default=d) for n, d in OPTIONS]
        + [P("kwargs", P.VAR_KEYWORD)])

    def run(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        params = dict(arguments.arguments)
        frontend_kwargs = params.pop("kwargs")
        options = [params.pop(n) for n, _ in OPTIONS]
        obj = params.pop("obj")
        return _transform(transform, obj, *options, {**frontend_kwargs, **params})

    defaults = " or ".join(str(d[0] if len(d) == 1 else d) for d in transform.default_dims)
    run.__signature__ = signature
    run.__name__ = run.__qualname__ = transform.name
    run.__module__ = __name__
    run.__doc__ = (f"{transform.summary} of a DataArray or Dataset over `dims` (default "
                   f"{defaults}). Keywords: `scatflow.numpy.{transform.class_name}`'s and "
                   f"`scatflow.dask.{transform.name}`'s. See the module docstring for dims, "
                   f"coords, attrs and laziness.")
    return run


scattering1d = transform_function("scattering1d")
scattering2d = transform_function("scattering2d")
harmonic_scattering3d = transform_function("harmonic_scattering3d")
time_frequency_scattering = transform_function("time_frequency_scattering")


def _warn(message):
    """A UserWarning attributed to the first caller outside this package (accessor or not)."""
    import os
    import sys

    here, level, frame = os.path.dirname(__file__), 2, sys._getframe(1)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == here:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


# -- checks ----------------------------------------------------------------------------------
def _resolve_dims(obj, name, ndim, defaults, dims):
    present = tuple(obj.dims)
    if dims is None:
        for candidate in defaults:
            if all(d in present for d in candidate):
                return candidate
        shown = " or ".join(repr(c[0] if len(c) == 1 else c) for c in defaults)
        raise ValueError(f"{name}: pass dims= ({ndim} dim name{'s' if ndim > 1 else ''}); the "
                         f"default {shown} is not among the object's dims {list(present)}")
    if isinstance(dims, str) or not isinstance(dims, (tuple, list)):
        dims = (dims,)
    dims = tuple(dims)
    if len(dims) != ndim or len(set(dims)) != ndim:
        raise ValueError(f"{name}: dims must be {ndim} distinct dim name{'s' if ndim > 1 else ''} "
                         f"of the object; got {dims!r} (the object's dims: {list(present)})")
    missing = [d for d in dims if d not in present]
    if missing:
        raise ValueError(f"{name}: dims {missing} not found; the object's dims are {list(present)}")
    return dims


def _check_dtype(var, label):
    if var.dtype.kind not in "biuf":
        raise TypeError(f"{label} has dtype {var.dtype}; scattering needs a real numeric dtype "
                        f"(drop or convert that variable)")


def _variables(obj, dims, name):
    """[(var name, DataArray)] to transform, {var name: Variable} to keep as they are."""
    import xarray as xr

    if isinstance(obj, xr.DataArray):
        label = "the DataArray" + (f" {obj.name!r}" if obj.name is not None else "")
        _check_dtype(obj, label)
        return [(obj.name, obj)], {}
    transform, keep, dropped = [], {}, []
    for var_name, var in obj.data_vars.items():
        has = [d in var.dims for d in dims]
        if all(has):
            _check_dtype(var, f"the variable {var_name!r}")
            transform.append((var_name, var))
        elif any(has):
            dropped.append(var_name)
        else:
            keep[var_name] = var.variable
    if dropped:
        _warn(f"{name}: variables {dropped} have some but not all of dims {list(dims)} and are "
              f"dropped")
    if not transform:
        listing = {k: list(v.dims) for k, v in obj.data_vars.items()}
        raise ValueError(f"{name}: no data variable has all of dims {list(dims)}; variables: "
                         f"{listing}")
    return transform, keep


def _describe(transform, dims, sizes, kwargs):
    name = transform.name
    for bad in ("axis", "axes"):
        if bad in kwargs:
            raise TypeError(f"{name}: {bad}= is not a keyword here; name the dims with dims=")
    try:
        return scat_dask.describe(transform.class_name, sizes, **kwargs)
    except (ValueError, TypeError) as error:
        where = ", ".join(f"{d!r}: {n}" for d, n in zip(dims, sizes))
        raise type(error)(f"{name} over dims {{{where}}}: {error}") from error


def _grid_indices(frontend, dims, sizes, name):
    """{dim: input indices of the output samples}, or None where outputs have no positions."""
    grid = frontend.core.output_grid
    if grid is None:
        return None
    counts = frontend.core.array_shape[-len(dims):]
    indices = {}
    for d, n, (offset, step), count in zip(dims, sizes, grid, counts):
        index = offset + step * np.arange(count)
        if count and (index[0] < 0 or index[-1] >= n):
            raise ValueError(f"{name}: output samples of dim {d!r} stand for input samples "
                             f"{index[0]}..{index[-1]} outside 0..{n - 1}; cannot label them")
        indices[d] = index
    return indices


def spans_full_circle(coord):
    """Whether a coordinate wraps around: one-dimensional, numeric, evenly spaced, and its step
    times its size is 360 (degrees), so that the sample after the last is the first again (to
    CIRCLE_TOLERANCE of a step)."""
    values = np.asarray(coord.values)
    if values.ndim != 1 or values.size < 2 or values.dtype.kind not in "iuf":
        return False
    steps = np.diff(values.astype(np.float64))
    step = (values[-1] - float(values[0])) / (values.size - 1)
    tolerance = CIRCLE_TOLERANCE * abs(step)
    return bool(step != 0 and np.abs(steps - step).max() <= tolerance
                and abs(abs(step) * values.size - FULL_CIRCLE) <= tolerance)


def resolve_from_coordinates(name, obj, dims, kwargs):
    """The frontend keywords `kwargs` of the registry's transform `name` over `dims` of `obj`,
    with what obj's coordinates decide resolved: a duration `T` as a number of samples
    (`units.duration_T`), then padding_mode="auto" (`_auto_padding_mode`)."""
    transform = registry.get(name)
    kwargs = units.duration_T(transform, obj, dims, kwargs)
    if kwargs.get("padding_mode") != "auto":
        return kwargs
    sizes = tuple(obj.sizes[d] for d in dims)
    return _auto_padding_mode(transform, obj, dims, sizes, kwargs)


def _auto_padding_mode(transform, obj, dims, sizes, kwargs):
    """`kwargs` with padding_mode="auto" resolved (see the module docstring): "periodic" along
    each dim whose coordinate spans a full circle and whose size the transform can subsample
    periodically, else "reflect"; one mode in 1D, one per dim otherwise."""
    modes = ["reflect"] * len(dims)
    for i, dim in enumerate(dims):
        if dim in obj.coords and spans_full_circle(obj.coords[dim]):
            trial = modes[:i] + ["periodic"] + modes[i + 1:]
            if _subsamples(transform, sizes, dict(kwargs, padding_mode=_mode_value(trial))):
                modes = trial
    return dict(kwargs, padding_mode=_mode_value(modes))


def _mode_value(modes):
    return modes[0] if len(modes) == 1 else tuple(modes)


def _subsamples(transform, sizes, kwargs):
    """Whether the transform's core accepts these parameters for these sizes (a periodic
    size it cannot subsample exactly is a ValueError there); no filter is built."""
    try:
        core_kwargs = transform.load("base").check_parameters(shape=sizes, **kwargs)
        transform.load("core")(**core_kwargs)
    except (TypeError, ValueError):  # the frontend raises it again, explained
        return False
    return True


# -- coords and attrs ------------------------------------------------------------------------
def _coeff_coords(paths):
    """Plain coords on `coeff`, one per path field (tuples split per order: j1, j2, ...);
    -1 (int fields that never hold -1) or NaN (others) where a path has no such entry (None, or
    NaN: a field that another axis labels, e.g. n1 in a joint time-frequency array). A column
    that is NaN in every path is left out (the other axis has it)."""
    import xarray as xr

    coords = {"order": xr.Variable(("coeff",), np.array([p.order for p in paths], dtype=np.int64),
                                   attrs={"long_name": LONG_NAMES["order"]})}
    columns = {}  # (name, field, order or None) -> values; scalar fields first, then by order
    for field in dict.fromkeys(n for p in paths for n in p.fields):
        values = [p.fields.get(field) for p in paths]
        if any(isinstance(v, tuple) for v in values):
            for i in range(MAX_ORDER):
                columns[(f"{field}{i + 1}", field, i + 1)] = [
                    v[i] if isinstance(v, tuple) and len(v) > i else None for v in values]
        else:
            columns[(field, field, None)] = values
    for key, col in list(columns.items()):
        if all(_is_nan(v) for v in col):
            del columns[key]
        else:
            columns[key] = [None if _is_nan(v) else v for v in col]
    flat = {}
    for (_, field, _), col in columns.items():
        flat.setdefault(field, []).extend(v for v in col if v is not None)
    for column, field, i in sorted(columns, key=lambda key: (key[2] or 0)):
        col = columns[(column, field, i)]
        integer = all(isinstance(v, numbers.Integral) for v in flat[field])
        if integer and -1 not in flat[field]:
            missing, dtype, shown = -1, np.int64, "-1"
        else:
            missing, dtype, shown = np.nan, np.float64, "NaN"
        data = np.array([missing if v is None else v for v in col], dtype=dtype)
        long_name = LONG_NAMES.get(field, field + (" at order {i}" if i else "")).format(i=i)
        if any(v is None for v in col):
            long_name += f" ({shown} where not applicable)"
        coords[column] = xr.Variable(("coeff",), data, attrs={"long_name": long_name})
    return coords


def _is_nan(value):
    return isinstance(value, float) and value != value


def _new_coords(obj, dims, indices, name):
    """Coords of the output: untouched where they do not depend on a transformed dim, decimated
    along transformed dims where outputs have positions, dropped otherwise."""
    coords, dropped = {}, []
    for coord_name, coord in obj.coords.items():
        var = coord.variable
        along = [d for d in dims if d in var.dims]
        if not along:
            coords[coord_name] = var
        elif indices is None:
            if coord_name not in dims:
                dropped.append(coord_name)
        else:
            new = var.isel({d: indices[d] for d in along})
            new.encoding = {k: v for k, v in var.encoding.items()
                            if k not in ("chunks", "preferred_chunks", "shards", "chunksizes")}
            coords[coord_name] = new
    if dropped:
        _warn(f"{name}: coords {dropped} depend on the transformed dims {list(dims)}, which the "
              f"output does not have; dropped")
    return coords


def _json(value):
    if isinstance(value, np.ndarray):
        return _json(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _attrs(name, frontend, dims, chunking, nan_policy, backend):
    attrs = {"scatflow_transform": name, "scatflow_version": __version__,
             "scatflow_dims": list(dims),
             "scatflow_output_dims": list(_output_dims(frontend, (), dims)[0])}
    for param, value in frontend.parameters().items():
        if param in ("shape", "out_type", "backend"):
            continue
        if value is not None:
            attrs[f"scatflow_{param}"] = _json(value)
    attrs.update(scatflow_chunking=chunking, scatflow_nan_policy=_json(nan_policy),
                 scatflow_backend="auto" if backend is None else _json(backend))
    grid = frontend.core.output_grid
    if grid is not None:
        attrs["scatflow_output_offset"] = [int(g[0]) for g in grid]
        attrs["scatflow_output_step"] = [int(g[1]) for g in grid]
    return attrs


# -- the transform ------------------------------------------------------------------------------
def _output_dims(frontend, loop, dims):
    """The output's dims: loop dims, `coeff` (all path axes), named axes, the transformed dims
    where outputs have positions; and the array's shape with path axes merged and singletons
    dropped (`core.output_axes`)."""
    out_dims, shape = list(loop), []
    for axis, size in zip(frontend.core.output_axes, frontend.core.array_shape):
        if axis.kind == "path":
            if out_dims and out_dims[-1] == "coeff":
                shape[-1] *= size
                continue
            out_dims.append("coeff")
        elif axis.kind == "signal":
            out_dims.append(dims[axis.index])
        elif axis.kind == "named":
            out_dims.append(axis.name)
        else:
            continue
        shape.append(size)
    return tuple(out_dims), tuple(shape)


def _run(transform, var, dims, chunking, nan_policy, backend, kwargs, frontend):
    """The dask array of one variable's coefficients, with its output dims."""
    import dask.array as da
    from dask.base import is_dask_collection

    data = var.data
    axes = tuple(var.dims.index(d) for d in dims)
    if not is_dask_collection(data):
        chunks = {a: (-1 if a in axes else "auto") for a in range(var.ndim)}
        data = da.from_array(data, chunks=chunks)
    fn = getattr(scat_dask, transform.name)
    out = fn(data, chunking=chunking, nan_policy=nan_policy, backend=backend,
             **{transform.axes_keyword: axes}, **kwargs)
    loop = tuple(d for d in var.dims if d not in dims)
    out_dims, shape = _output_dims(frontend, loop, dims)
    return out.reshape(out.shape[: len(loop)] + shape), out_dims


def _named_coords(frontend):
    """Coords of the named output axes (3D `integral_power`, ...)."""
    import xarray as xr

    coords = {}
    for axis in frontend.core.output_axes:
        for coord_name, (values, attrs) in axis.coords.items():
            coords[coord_name] = xr.Variable((axis.name,), np.asarray(values), attrs=attrs)
    return coords


def _transform(transform, obj, dims, chunking, nan_policy, backend, kwargs):
    import dask
    import xarray as xr

    name = transform.name
    if not isinstance(obj, (xr.DataArray, xr.Dataset)):
        raise TypeError(f"{name}: obj must be an xarray DataArray or Dataset; got "
                        f"{type_name(obj)}")
    dims = _resolve_dims(obj, name, transform.ndim, transform.default_dims, dims)
    scat_dask.check_options(transform, chunking, nan_policy, backend)
    to_transform, keep = _variables(obj, dims, name)
    sizes = tuple(obj.sizes[d] for d in dims)
    auto = kwargs.get("padding_mode") == "auto"
    kwargs = resolve_from_coordinates(transform.name, obj, dims, kwargs)
    masked = dict(nan_policy="mask") if nan_policy == "mask" else {}  # the frontends mask
    frontend = _describe(transform, dims, sizes, dict(kwargs, **masked))
    new_dims = ["coeff"] + [a.name for a in frontend.core.output_axes if a.kind == "named"]
    taken = [d for d in new_dims if d in obj.dims]
    if taken:
        raise ValueError(f"{name}: the object already has dims {taken}, which the output "
                         f"adds; rename them first")
    indices = _grid_indices(frontend, dims, sizes, name)
    coords = _new_coords(obj, dims, indices, name)
    labels = {**_coeff_coords(frontend.core.paths), **_named_coords(frontend)}
    scale_coords, scale_attrs = units.physical_scales(obj, dims, frontend.core, labels)
    labels.update(scale_coords)
    names = set(obj.coords) | (set(obj.data_vars) if isinstance(obj, xr.Dataset) else set())
    clash = sorted(str(n) for n in names if n in labels)
    if clash:
        raise ValueError(f"{name}: the object already has variables or coords named {clash}, "
                         f"which label the output's paths; rename them first")
    coords.update(labels)
    attrs = {**_attrs(name, frontend, dims, chunking, nan_policy, backend), **scale_attrs}
    if auto:
        attrs["scatflow_padding_mode_requested"] = "auto"

    results = [_run(transform, var, dims, chunking, nan_policy, backend, kwargs, frontend)
               for _, var in to_transform]
    eager = [not dask.is_dask_collection(var.data) for _, var in to_transform]
    if any(eager):
        computed = iter(dask.compute(*[r[0] for r, e in zip(results, eager) if e]))
        results = [(next(computed), d) if e else (r, d) for (r, d), e in zip(results, eager)]

    if isinstance(obj, xr.DataArray):
        (data, out_dims), = results
        used = {k: v for k, v in coords.items() if set(v.dims) <= set(out_dims)}
        return xr.DataArray(data, dims=out_dims, coords=used, name=obj.name,
                            attrs={**obj.attrs, **attrs})
    data_vars = {var_name: xr.Variable(out_dims, data, attrs={**var.attrs, **attrs})
                 for (var_name, var), (data, out_dims) in zip(to_transform, results)}
    data_vars.update(keep)
    return xr.Dataset(data_vars, coords=coords, attrs={**obj.attrs, **attrs})
