"""`scatflow.Scattering2D(..., frontend="numpy")`: Kymatio's dynamic entry classes.

Calling an entry class returns an instance of the named frontend's class, so
`scatflow.Scattering1D(J=6, shape=1024)` is a `scatflow.numpy.Scattering1D` and
`scatflow.Scattering2D(J=2, shape=(32, 32), frontend="torch")` a `scatflow.torch.Scattering2D`.
The framework is imported only then. Keras layers take no `shape` (they infer it in `build`).
The parameters are checked at once for every frontend, as Kymatio's entry classes do, the
scikit-learn transformers included (`validate()`; made directly, they check in `fit` and
`transform`, as scikit-learn asks).
"""

from importlib import import_module

from . import registry
from .errors import FrontendError

FRONTENDS = {
    "numpy": "scatflow.frontends.numpy",
    "torch": "scatflow.frontends.torch",
    "tensorflow": "scatflow.frontends.tensorflow",
    "jax": "scatflow.frontends.jax",
    "keras": "scatflow.frontends.keras",
    "sklearn": "scatflow.frontends.sklearn",
}


def frontend_class(transform, frontend):
    """The class implementing `transform` in `frontend`, imported on demand."""
    if not isinstance(frontend, str) or frontend not in FRONTENDS:
        raise FrontendError(f"The frontend {frontend!r} is not valid: frontend must be one of "
                            f"{sorted(FRONTENDS)}")
    return getattr(import_module(FRONTENDS[frontend]), transform)


class Entry:
    """An entry class, declared with its registry entry: `class Scattering1D(Entry,
    transform="scattering1d")`; calling it builds the frontend given by `frontend=`."""

    transform = None  # Kymatio's class name, the same in every frontend module

    def __init_subclass__(cls, transform=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if transform is not None:
            cls.transform = registry.get(transform).class_name

    def __new__(cls, *args, frontend="numpy", **kwargs):
        scattering = frontend_class(cls.transform, frontend)(*args, **kwargs)
        if frontend == "sklearn":  # checked at once, as Kymatio's (scikit-learn's own: in fit)
            scattering.validate()
        return scattering


class Scattering1D(Entry, transform="scattering1d"):
    """1D scattering with the frontend given by `frontend=` (default "numpy")."""


class Scattering2D(Entry, transform="scattering2d"):
    """2D scattering with the frontend given by `frontend=` (default "numpy")."""


class HarmonicScattering3D(Entry, transform="harmonic_scattering3d"):
    """3D solid-harmonic scattering with the frontend given by `frontend=` (default "numpy")."""


class TimeFrequencyScattering(Entry, transform="time_frequency_scattering"):
    """Joint time-frequency scattering with the frontend given by `frontend=` (default
    "numpy")."""
