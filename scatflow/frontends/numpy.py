"""NumPy frontend: the per-transform bases run as they are on the NumPy backend."""

from .harmonic3d import HarmonicScattering3DBase
from .scattering1d import Scattering1DBase
from .scattering2d import Scattering2DBase


class Scattering1D(Scattering1DBase):
    """1D Morlet scattering on NumPy arrays (Kymatio's `kymatio.numpy.Scattering1D`)."""


class Scattering2D(Scattering2DBase):
    """2D Morlet scattering on NumPy arrays (Kymatio's `kymatio.numpy.Scattering2D`)."""


class HarmonicScattering3D(HarmonicScattering3DBase):
    """3D solid-harmonic scattering on NumPy arrays (Kymatio's
    `kymatio.numpy.HarmonicScattering3D`)."""


__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D"]
