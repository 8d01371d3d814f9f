"""The `scat` accessor on xarray DataArrays and Datasets (registered by `import scatflow`).

    da.scat.scattering1d(J=8, Q=8, dims="time")
    ds.scat.scattering2d(J=3)                                   # dims (y, x), (lat, lon), ...
    ds.scat.harmonic_scattering3d(J=2, L=2, dims=("z", "y", "x"))

A thin shim: each method calls the function of the same name in `scatflow.xarray.api` with the
object (see that module for dims, coords, attrs, Datasets and laziness). The accessor keeps no
state, so derived objects need nothing copied onto them.
"""

import xarray as xr

from . import api


class _ScatAccessor:
    """Shared by the DataArray and Dataset accessors: every method delegates to `api`."""

    def __init__(self, obj):
        self._obj = obj

    def scattering1d(self, J, *, dims=None, chunking="rechunk", nan_policy="propagate",
                     backend="auto", **kwargs):
        """1D Morlet scattering along `dims` (default "time"); see
        `scatflow.xarray.api.scattering1d`."""
        return api.scattering1d(self._obj, J, dims=dims, chunking=chunking,
                                nan_policy=nan_policy, backend=backend, **kwargs)

    def scattering2d(self, J, *, dims=None, chunking="rechunk", nan_policy="propagate",
                     backend="auto", **kwargs):
        """2D Morlet scattering over `dims` (default (y, x), (lat, lon) or (latitude,
        longitude)); see `scatflow.xarray.api.scattering2d`."""
        return api.scattering2d(self._obj, J, dims=dims, chunking=chunking,
                                nan_policy=nan_policy, backend=backend, **kwargs)

    def harmonic_scattering3d(self, J, *, dims=None, chunking="rechunk", nan_policy="propagate",
                              backend="auto", **kwargs):
        """3D solid-harmonic scattering over `dims` (default (z, y, x)); see
        `scatflow.xarray.api.harmonic_scattering3d`."""
        return api.harmonic_scattering3d(self._obj, J, dims=dims, chunking=chunking,
                                         nan_policy=nan_policy, backend=backend, **kwargs)


@xr.register_dataarray_accessor("scat")
class ScatDataArrayAccessor(_ScatAccessor):
    """`DataArray.scat`: scattering transforms returning a DataArray with a `coeff` dim."""


@xr.register_dataset_accessor("scat")
class ScatDatasetAccessor(_ScatAccessor):
    """`Dataset.scat`: transforms every data variable that has all of `dims` (those with none
    of them are kept, those with some are dropped with a warning)."""
