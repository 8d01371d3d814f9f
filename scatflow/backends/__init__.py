"""Array-library backends: the primitives the scattering cores call, one small file per library.

A backend knows nothing about scattering. `get_backend(name)` returns the shared instance;
`backend_for(x)` picks one from an array's type. Modules are imported only when asked for.
"""

from importlib import import_module

BACKEND_MODULES = {"numpy": "scatflow.backends.numpy"}


def get_backend(name):
    """Return the backend instance registered as `name` (imports its array library lazily)."""
    if name not in BACKEND_MODULES:
        raise ValueError(f"backend must be one of {sorted(BACKEND_MODULES)}; got {name!r}")
    return import_module(BACKEND_MODULES[name]).backend
