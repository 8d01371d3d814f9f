"""Public import path: `from scatflow.keras import Scattering1D, Scattering2D,
HarmonicScattering3D, TimeFrequencyScattering` (Keras 3 layers on the tensorflow, torch or jax
Keras backend; see `scatflow.frontends.keras`)."""

from .frontends.keras import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
