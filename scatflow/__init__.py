"""scatflow: wavelet scattering transforms with Kymatio's numbers, on any array library.

`import scatflow` imports NumPy and SciPy only and registers the `scat` accessor on xarray
objects: at once if xarray is loaded, else right after xarray's first import (xarray and pandas
cost ~45 MB and 0.4 s, which a NumPy or torch user need not pay). Frameworks load when their
frontend is used.
"""

import importlib.abc
import importlib.util
import sys

from ._version import __version__
from .entry import (  # noqa: E402
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)


class _RegisterAfterXarray(importlib.abc.MetaPathFinder):
    """Import hook: when `xarray` is first imported, import `scatflow.xarray` (which registers
    the accessor) right after xarray's own code has run; then step aside. A mere look for
    xarray (`importlib.util.find_spec`, as torch's profiler makes) leaves the hook in place."""

    def find_spec(self, name, path, target=None):
        if name != "xarray":
            return None
        sys.meta_path.remove(self)  # the other finders find xarray's own spec
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        run_xarray = spec.loader.exec_module

        def exec_module(module):
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            run_xarray(module)
            importlib.import_module("scatflow.xarray")

        spec.loader.exec_module = exec_module
        return spec


if "xarray" in sys.modules:
    from . import xarray as _registers_the_scat_accessor  # noqa: E402,F401
elif not any(isinstance(finder, _RegisterAfterXarray) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterXarray())

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering",
           "__version__"]
