"""Filter banks, NumPy only: built once per parameter set (lru_cache) and returned read-only."""

import numpy as np


def read_only(a):
    """`a` as a C-contiguous array that cannot be written (banks are shared through caches)."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
