"""What the per-transform drawings share: finding computed samples, axis values, labels and
tick formats, cell edges, colour ranges and the grey of missing data."""

import itertools
import re

import numpy as np


def computed_samples(var, free, limit):
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


def describe_position(var, position):
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


def axis_values(obj, dim):
    """Plot positions along `dim`: its 1-D coordinate values where it has some, else indices."""
    if dim in obj.coords and obj[dim].ndim == 1 and obj.sizes[dim] > 1 and (
            obj[dim].dtype.kind in "iufM"):
        return np.asarray(obj[dim].values)
    return np.arange(obj.sizes[dim])


def axis_label(obj, dim):
    """`dim [units]`, or only `dim` where the ticks carry the units (latitude, longitude)."""
    units = obj[dim].attrs.get("units") if dim in obj.coords else None
    return f"{dim} [{units}]" if units and not compass(obj, dim) else dim


# CF's spellings of the units of latitude and longitude: degrees_north, degree_N, degreesE, ...
_COMPASS_UNITS = re.compile(r"degrees?_?(north|n|east|e)", re.IGNORECASE)


def compass(obj, dim):
    """"N" where `dim` holds latitudes, "E" where it holds longitudes (by its CF units), else
    None."""
    units = obj[dim].attrs.get("units") if dim in obj.coords else None
    found = _COMPASS_UNITS.fullmatch(units) if isinstance(units, str) else None
    return found.group(1)[0].upper() if found else None


DEGREE_SPACINGS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 180)  # a map's tick spacings


def tick_locator(span, most, degrees):
    """A major tick locator putting at most `most` ticks over `span` (the axis' extent): in
    degrees, the finest of a map's spacings (10°, 15°, 30°, 90°, ...) that fits; otherwise
    round steps (integers but for degrees)."""
    from matplotlib.ticker import MaxNLocator, MultipleLocator

    fitting = [s for s in DEGREE_SPACINGS if s <= span and span / s + 1 <= most]
    if degrees and fitting:
        return MultipleLocator(fitting[0])
    return MaxNLocator(nbins=max(most - 1, 1), integer=not degrees)


def degree_label(value, direction):
    """A latitude ("N") or longitude ("E") tick as a map prints it: 60°N, 30°S, 120°W, 0°,
    180°."""
    if direction == "E":
        value = 180 - (180 - value) % 360  # into (-180, 180]
        hemisphere = "E" if 0 < value < 180 else "W" if value < 0 else ""
    else:
        hemisphere = "N" if value > 0 else "S" if value < 0 else ""
    return f"{abs(value):g}\N{DEGREE SIGN}{hemisphere}"


def edges(centres):
    """Cell edges around sorted centres (midpoints, ends mirrored), for pcolormesh."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = centres[:-1] + (centres[1:] - centres[:-1]) / 2
    return np.concatenate([[centres[0] - (mid[0] - centres[0])], mid,
                           [centres[-1] + (centres[-1] - mid[-1])]])


MISSING_COLOUR = "lightgrey"  # NaN cells: missing data (nan_policy="mask"), as maps grey out land


def missing_grey(name):
    """The colour map `name` drawing NaN (masked by the plots) in MISSING_COLOUR: where
    `nan_policy="mask"` found too little valid data, a map shows grey, not the background."""
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad=MISSING_COLOUR)


def limits(values):
    """A robust shared colour range (0.5 and 99.5 percentiles), None where nothing is finite."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    return tuple(np.percentile(finite, [0.5, 99.5]))


def log_ticks(axis, most=4):
    """At most `most` labelled ticks on a logarithmic `axis` (1, 2 and 5 times powers of ten,
    thinned to fit), no minor labels: matplotlib labels minor ticks on a range under a decade,
    which crowds a small panel."""
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=most + 1))
    axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    axis.set_minor_formatter(NullFormatter())
