"""Public import path: `from scatflow.torch import Scattering1D, Scattering2D, HarmonicScattering3D,
TimeFrequencyScattering`."""

from .frontends.torch import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
