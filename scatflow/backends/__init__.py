"""Array-library backends: the primitives the scattering cores call, one small file per library.

A backend knows nothing about scattering. `get_backend(name)` returns the shared instance;
modules (and their array libraries) are imported only when asked for. `base.Backend` holds the
primitives that follow from the others; `numpy.NumpyBackend` is the reference implementation.
"""

from importlib import import_module

from ..errors import BackendError

BACKEND_MODULES = {
    "numpy": "scatflow.backends.numpy",
    "cupy": "scatflow.backends.cupy",
    "torch": "scatflow.backends.torch",
    "tensorflow": "scatflow.backends.tensorflow",
    "jax": "scatflow.backends.jax",
}


def get_backend(name):
    """Return the backend instance registered as `name` (imports its array library lazily)."""
    if name not in BACKEND_MODULES:
        raise BackendError(f"The backend {name!r} is not supported: backend must be one of "
                           f"{sorted(BACKEND_MODULES)}")
    try:
        return import_module(BACKEND_MODULES[name]).backend
    except ImportError as error:
        extra = "gpu" if name == "cupy" else name
        raise ImportError(f"backend {name!r} needs {error.name or name}, which is not installed "
                          f"(pip install 'scatflow[{extra}]')") from error
