"""Scattering paths and output axes: what every output format, `meta()` and label reads.

A core enumerates its paths once, in Kymatio's output order. Each path carries its order, the
key used by `out_type='dict'`, and named fields (tuples with one entry per order, such as the
filter indices `n` or scales `j`, or plain scalars, such as the 3D degree `l`).

A core also says what each axis of its array output (after the batch axes) holds, as a tuple
of `OutputAxis` (`core.output_axes`, aligned with `core.array_shape`): labelled outputs (the
xarray dims and coords, scikit-learn's feature names) are read from it.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Path:
    order: int
    key: tuple
    fields: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class OutputAxis:
    """One axis of a core's array output.

    `kind`: "path" (indexes the paths; consecutive path axes flatten to the path list, in path
    order), "signal" (output samples along signal axis `index`, at `core.output_grid[index]`),
    "single" (length one without a position, e.g. a global average: dropped from labelled
    outputs) or "named" (its own dim `name`, with `coords`: {coord name: (values, attrs)}).
    `letter` names positions along the axis in scikit-learn feature names (t, y, x, p, ...)."""

    kind: str
    index: int = None
    name: str = None
    letter: str = None
    coords: dict = field(default_factory=dict, compare=False, hash=False)


def meta_from_paths(paths, max_order):
    """Kymatio-style metadata: `order` (C,), `key` (list), tuple fields as (C, max_order) arrays
    padded with NaN, scalar fields as (C,) arrays."""
    meta = {"order": np.array([p.order for p in paths]), "key": [p.key for p in paths]}
    names = list(dict.fromkeys(name for p in paths for name in p.fields))
    for name in names:
        values = [p.fields.get(name) for p in paths]
        if any(isinstance(v, tuple) for v in values):
            table = np.full((len(paths), max_order), np.nan)
            for row, v in enumerate(values):
                table[row, : len(v)] = v
            meta[name] = table
        else:
            meta[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
    return meta


def count_by_order(paths, orders):
    """Number of paths of each order in `orders`, as a tuple."""
    counts = Counter(p.order for p in paths)
    return tuple(counts.get(o, 0) for o in orders)
