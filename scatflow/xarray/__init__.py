"""Scattering transforms of xarray objects: the functions of `api` and the `scat` accessor
(`da.scat.scattering2d(J=3)`), registered when this package is imported (`import scatflow`
imports it)."""

from . import accessor
from .api import harmonic_scattering3d, scattering1d, scattering2d

__all__ = ["scattering1d", "scattering2d", "harmonic_scattering3d", "accessor"]
