"""Which array library an object comes from: the one dispatch by array type the package uses.

Read from the object's type (the top-level package its class is defined in), so that no array
library is imported to ask: a NumPy-only process never imports CuPy or torch to learn that an
input is not theirs. This module imports nothing, so every layer may call it (as dask-image's
`dispatch/` chooses an implementation by chunk type).
"""


def array_library(x):
    """The top-level package that defines `type(x)`: "numpy", "cupy", "torch", "tensorflow",
    "dask", "jax", "xarray", ... ("builtins" for lists, numbers and None)."""
    return type(x).__module__.partition(".")[0]


def is_cupy(x):
    """Whether `x` is a CuPy array (or other CuPy object)."""
    return array_library(x) == "cupy"


def is_dask_array(x):
    """Whether `x` is a dask array (a dask object with chunks)."""
    return array_library(x) == "dask" and hasattr(x, "chunks")


def type_name(x):
    """`x`'s type as `module.QualifiedName`, for error messages that say what was given."""
    return f"{type(x).__module__}.{type(x).__qualname__}"
