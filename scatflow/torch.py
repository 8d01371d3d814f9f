"""Public import path: `from scatflow.torch import Scattering1D, Scattering2D, HarmonicScattering3D`."""

from .frontends.torch import HarmonicScattering3D, Scattering1D, Scattering2D

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D"]
