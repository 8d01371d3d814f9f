"""Public import path (scikit-learn transformers):
`from scatflow.sklearn import Scattering1D, Scattering2D, HarmonicScattering3D,
TimeFrequencyScattering`."""

from .frontends.sklearn import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
