"""Public import path: `from scatflow.tensorflow import Scattering1D, Scattering2D,
HarmonicScattering3D` (tf.Module frontends; see `scatflow.frontends.tensorflow`)."""

from .frontends.tensorflow import HarmonicScattering3D, Scattering1D, Scattering2D

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D"]
