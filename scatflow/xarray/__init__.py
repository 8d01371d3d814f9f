"""Scattering transforms of xarray objects: the functions of `api` and the `scat` accessor
(`da.scat.scattering2d(J=3)`), registered when this package is imported (`import scatflow`
imports it)."""

from . import accessor
from .api import (
    harmonic_scattering3d,
    scattering1d,
    scattering2d,
    time_frequency_scattering,
)

__all__ = ["scattering1d", "scattering2d", "harmonic_scattering3d", "time_frequency_scattering",
           "accessor"]
