"""Scattering paths: the one list every output format, `meta()` and coordinate label reads.

A core enumerates its paths once, in Kymatio's output order. Each path carries its order, the
key used by `out_type='dict'`, and named fields (tuples with one entry per order, such as the
filter indices `n` or scales `j`, or plain scalars, such as the 3D degree `l`).
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Path:
    order: int
    key: tuple
    fields: dict = field(default_factory=dict, compare=False, hash=False)


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
