"""Public import path: `from scatflow.tensorflow import Scattering1D, Scattering2D,
HarmonicScattering3D, TimeFrequencyScattering` (tf.Module frontends; see `scatflow.frontends.tensorflow`)."""

from .frontends.tensorflow import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
