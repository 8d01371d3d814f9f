"""Scattering transforms of xarray objects: the functions of `api` and the `scat` accessor
(`da.scat.scattering2d(J=3)`), registered when this package is imported (`import scatflow`
imports it). One function per transform of `scatflow.registry`, named as its entry
(`scatflow.xarray.scattering2d`)."""

from .. import registry
from . import accessor, api

globals().update({name: getattr(api, name) for name in registry.TRANSFORMS})

__all__ = list(registry.TRANSFORMS) + ["accessor"]
