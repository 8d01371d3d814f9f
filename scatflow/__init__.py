"""scatflow: wavelet scattering transforms with Kymatio's numbers, on any array library.

`import scatflow` imports NumPy and SciPy only; frameworks load when their frontend is used.
"""

from .entry import HarmonicScattering3D, Scattering1D, Scattering2D

__version__ = "0.1.0"

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "__version__"]
