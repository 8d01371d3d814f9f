"""Physical units of the xarray results: the scales of each path in the transformed dims' units.

Where every transformed dim has a regularly spaced 1-D coordinate (numeric, datetime64 or
timedelta64), the result gains:

* 1D and joint time-frequency scattering: `frequency1`, `frequency2`, beside `xi1`, `xi2` (the
  filter bank's centre frequencies, cycles per sample) and on the same dim, in cycles per
  coordinate unit: `units` "Hz" for a coordinate in seconds or of datetimes/timedeltas, else
  "1/<the coordinate's units>" (no `units` when the coordinate has none).
* 2D scattering: `wavelength1`, `wavelength2` on `coeff`, the wavelength of each wavelet's
  centre frequency vector (`core.centre_frequencies`) with both dims' spacings applied, so it
  depends on the orientation where the spacings differ; in the dims' common units (CF's
  `degrees_north` and `degrees_east` are both degrees). Where the units differ, the
  wavelengths are left out and a note is logged.
* attrs `scatflow_averaging_scale` (per transformed dim: the low-pass width, `T` in 1D and JTFS
  and `2**J` in 2D, times the spacing) and `scatflow_averaging_scale_units` (seconds, "s", for
  datetimes and timedeltas; "" where the coordinate has no units), where the outputs are local
  averages.

NaN stays NaN (order 0, and orders a path does not have). Irregular or missing coordinates give
none of these, and no error. On a datetime or timedelta dim (or a numeric one in seconds), `T`
may be a duration (a string such as "6h", a `pandas.Timedelta`, a `numpy.timedelta64` or a
`datetime.timedelta`): it is converted with the coordinate's spacing to a whole number of
samples (`duration_T`), or refused with a ValueError where the coordinate is irregular or the
duration is not a whole number of samples.
"""

import datetime
import logging

import numpy as np

logger = logging.getLogger(__name__)

SECONDS = {"s", "sec", "secs", "second", "seconds"}
DEGREES = {"degree", "degrees", "deg", "degrees_north", "degree_north", "degrees_n", "degree_n",
           "degreesn", "degreen", "degrees_east", "degree_east", "degrees_e", "degree_e",
           "degreese", "degreee"}
RELATIVE_TOLERANCE = 1e-5  # of the step: coordinates within it of an even grid count as regular


def duration_T(transform, obj, dims, kwargs):
    """`kwargs` with a duration `T` replaced by its number of samples along the transformed
    dim (the transforms that take `T` have one), which must have a regular datetime64 or
    timedelta64 coordinate (or a numeric one in seconds); unchanged where `T` is not a
    duration. A ValueError where the coordinate is missing, of another kind or irregular, or
    where the duration is not a whole number of its steps."""
    T = kwargs.get("T")
    if not is_duration(T) or "T" not in [p.name for p in transform.parameters()]:
        return kwargs
    import pandas as pd

    name, (dim,) = transform.name, dims
    try:
        duration = pd.Timedelta(T)
    except ValueError:
        raise ValueError(f"{name}: T must be None, an int, 'global' or a duration such as '6h' "
                         f"(pandas.Timedelta's strings); got {T!r}") from None
    if pd.isna(duration):
        raise ValueError(f"{name}: T must be a finite duration; got {T!r}")
    coord = _coordinate(obj, dim)
    timed = coord is not None and coord.dtype.kind in "mM"
    in_seconds = coord is not None and _unit(coord.attrs.get("units")) == "s"
    if not (timed or in_seconds):
        kind = "no coordinate" if coord is None else f"a {coord.dtype} coordinate"
        raise ValueError(f"{name}: T={T!r} is a duration, which needs a datetime64 or "
                         f"timedelta64 coordinate along dim {dim!r} (or a numeric one with "
                         f"units 's'); it has {kind}")
    spacing = _spacing(obj, dim)
    if spacing is None:
        raise ValueError(f"{name}: T={T!r} is a duration, which needs the coordinate of dim "
                         f"{dim!r} to be regularly spaced; its steps vary ({_steps(coord)})")
    if timed:
        step = _time_step(coord.values)
        samples = duration / abs(pd.Timedelta(step))
        whole = duration.value % abs(pd.Timedelta(step)).value == 0
    else:
        step = pd.Timedelta(seconds=spacing[0])
        samples = duration.total_seconds() / spacing[0]
        whole = abs(samples - round(samples)) <= RELATIVE_TOLERANCE * max(samples, 1)
    if not whole:
        raise ValueError(f"{name}: T={T!r} is not a whole number of samples of dim {dim!r}, "
                         f"whose step is {pd.Timedelta(step)}: it is {samples:g} samples")
    return {**kwargs, "T": int(round(samples))}


def physical_scales(obj, dims, core, labels):
    """(coords, attrs) to add to the result of `core` over `dims` of `obj`, whose path labels
    are `labels` ({name: xarray Variable}): see the module docstring."""
    spacings = [_spacing(obj, d) for d in dims]
    if any(s is None for s in spacings):
        return {}, {}
    steps, units = zip(*spacings)
    coords = {**_frequencies(labels, steps, units), **_wavelengths(core, dims, steps, units)}
    attrs = {}
    if core.output_grid is not None:
        width = core.T if hasattr(core, "T") else 2**core.J  # 1D and JTFS cores: T; 2D: 2**J
        attrs = {"scatflow_averaging_scale": [float(width * s) for s in steps],
                 "scatflow_averaging_scale_units": [u or "" for u in units]}
    return coords, attrs


def _frequencies(labels, steps, units):
    """`frequency<i>` beside each `xi<i>` (cycles per sample along the one signal axis of the
    transforms that label paths with it): over the step."""
    import xarray as xr

    coords = {}
    for name, label in labels.items():
        order = name[2:]
        if not (name.startswith("xi") and order.isdigit()):
            continue
        (step,), (unit,) = steps, units
        frequency_units = None if unit is None else "Hz" if unit == "s" else _per(unit)
        attrs = {"long_name": f"centre frequency at order {order} (cycles per coordinate unit; "
                              f"NaN where not applicable)"}
        if frequency_units:
            attrs["units"] = frequency_units
        coords[f"frequency{order}"] = xr.Variable(label.dims, label.values / step, attrs=attrs)
    return coords


def _wavelengths(core, dims, steps, units):
    """`wavelength<i>` on `coeff`: 1 / |centre frequency vector / steps|, NaN beyond a path's
    order, for the cores that give their paths' centre frequency vectors (2D); none (with a
    logged note) where the dims' units differ."""
    import xarray as xr

    if not hasattr(core, "centre_frequencies"):
        return {}
    if len(set(units)) > 1:
        logger.info("wavelengths left out: dims %s have different units %s", list(dims),
                    list(units))
        return {}
    vectors = [core.centre_frequencies(p) for p in core.paths]
    orders = max(len(v) for v in vectors)
    table = np.full((len(vectors), orders), np.nan)
    for row, per_order in enumerate(vectors):
        for i, frequency in enumerate(per_order):
            table[row, i] = 1 / np.linalg.norm([f / s for f, s in zip(frequency, steps)])
    coords = {}
    for i in range(orders):
        attrs = {"long_name": f"wavelength of the centre frequency at order {i + 1} "
                              f"(NaN where not applicable)"}
        if units[0] is not None:
            attrs["units"] = units[0]
        coords[f"wavelength{i + 1}"] = xr.Variable(("coeff",), table[:, i], attrs=attrs)
    return coords


# -- coordinates ------------------------------------------------------------------------------
def is_duration(T):
    """Whether `T` is a duration (a string other than 'global', a timedelta of Python, NumPy or
    pandas): samples only once a time coordinate is known."""
    import pandas as pd

    if isinstance(T, str):
        return T != "global"
    return isinstance(T, (datetime.timedelta, np.timedelta64, pd.Timedelta))


def _coordinate(obj, dim):
    """The 1-D coordinate along `dim` named `dim`, or None."""
    if dim not in obj.coords or obj.coords[dim].dims != (dim,):
        return None
    return obj.coords[dim]


def _spacing(obj, dim):
    """(step as a positive float, unit or None) of a regularly spaced coordinate along `dim`;
    datetimes and timedeltas in seconds. None where there is no such coordinate."""
    coord = _coordinate(obj, dim)
    if coord is None or coord.size < 2:
        return _irregular(dim, "no coordinate" if coord is None else "a single value")
    values = coord.values
    if values.dtype.kind in "mM":
        step = _time_step(values)
        if step is None:
            return _irregular(dim, "steps that vary")
        return abs(step / np.timedelta64(1, "s")), "s"
    if values.dtype.kind not in "iuf":
        return _irregular(dim, f"a {values.dtype} coordinate")
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        return _irregular(dim, "values that are not finite")
    step = (values[-1] - values[0]) / (values.size - 1)
    resolution = np.finfo(coord.dtype if coord.dtype.kind == "f" else np.float64).eps
    tolerance = RELATIVE_TOLERANCE * abs(step) + 8 * resolution * np.abs(values).max()
    if step == 0 or np.abs(np.diff(values) - step).max() > tolerance:
        return _irregular(dim, "steps that vary")
    return abs(step), _unit(coord.attrs.get("units"))


def _time_step(values):
    """The common step of datetime64/timedelta64 `values` (a timedelta64), or None."""
    if np.isnat(values).any():
        return None
    steps = np.diff(values)
    return steps[0] if steps.size and steps[0] and (steps == steps[0]).all() else None


def _irregular(dim, why):
    logger.debug("no physical scales: dim %r has %s", dim, why)
    return None


def _steps(coord):
    import pandas as pd

    steps = np.diff(coord.values)
    if not steps.size:
        return "a single value"
    return f"from {pd.Timedelta(steps.min())} to {pd.Timedelta(steps.max())}"


def _unit(units):
    """A coordinate's `units` attr, normalized: seconds as "s", CF's degrees as "degrees";
    the unit of a "<unit> since <date>" time; None where there is none."""
    if not isinstance(units, str) or not units.strip():
        return None
    unit = units.split(" since ")[0].strip()
    if unit.lower() in SECONDS:
        return "s"
    if unit.lower() in DEGREES:
        return "degrees"
    return unit


def _per(unit):
    return f"1/{unit}" if unit.isidentifier() else f"1/({unit})"
