"""scatflow: wavelet scattering transforms with Kymatio's numbers, on any array library.

`import scatflow` imports NumPy, SciPy, xarray and Dask only, and registers the `scat` accessor
on xarray objects; frameworks load when their frontend is used.
"""

__version__ = "0.1.0"

from . import xarray as _registers_the_scat_accessor  # noqa: E402,F401
from .entry import HarmonicScattering3D, Scattering1D, Scattering2D  # noqa: E402

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "__version__"]
