"""Public import path: `from scatflow.jax import Scattering1D, Scattering2D, HarmonicScattering3D,
TimeFrequencyScattering` (transforms on JAX arrays, jit/grad/vmap-able; see
`scatflow.frontends.jax`)."""

from .frontends.jax import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    TimeFrequencyScattering,
)

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering"]
