"""The one dispatch by array type: the library an object comes from, read from its type."""

import dask.array as da
import numpy as np
import pytest

from scatflow.dispatch import array_library, is_cupy, is_dask_array, type_name


def test_the_library_is_the_top_level_package_of_the_type():
    assert array_library(np.zeros(2)) == "numpy"
    assert array_library(np.float32(1)) == "numpy"
    assert array_library(da.zeros(2)) == "dask"
    assert array_library([1.0]) == "builtins"
    torch = pytest.importorskip("torch")
    assert array_library(torch.zeros(2)) == "torch"


def test_predicates_and_names():
    assert is_dask_array(da.zeros(2)) and not is_dask_array(np.zeros(2))
    assert not is_cupy(np.zeros(2)) and not is_cupy(None)
    assert type_name(np.zeros(2)) == "numpy.ndarray"
    assert type_name([]) == "builtins.list"
