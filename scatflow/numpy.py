"""Public import path: `from scatflow.numpy import Scattering1D, Scattering2D, HarmonicScattering3D,
TimeFrequencyScattering`."""

from .frontends.numpy import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
