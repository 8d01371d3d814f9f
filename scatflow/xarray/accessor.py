"""The `scat` accessor on xarray DataArrays and Datasets (registered by `import scatflow`).

    da.scat.scattering1d(J=8, Q=8, dims="time")
    ds.scat.scattering2d(J=3)                                   # dims (y, x), (lat, lon), ...
    ds.scat.harmonic_scattering3d(J=2, L=2, dims=("z", "y", "x"))

A thin shim: one method per transform of `scatflow.registry`, each calling the function of the
same name in `scatflow.xarray.api` with the object (see that module for dims, coords, attrs,
Datasets and laziness). The accessor keeps no state, so derived objects need nothing copied
onto them.
"""

import inspect

import xarray as xr

from . import api


def _method(name):
    """The accessor method calling `api.<name>` on the accessor's object."""
    function = getattr(api, name)
    signature = inspect.signature(function)

    def method(self, *args, **kwargs):
        return function(self._obj, *args, **kwargs)

    parameters = list(signature.parameters.values())
    method.__signature__ = signature.replace(
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + parameters[1:])
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"`scatflow.xarray.api.{name}` of this object: {function.__doc__}"
    return method


class _ScatAccessor:
    """Shared by the DataArray and Dataset accessors: every method delegates to `api`."""

    def __init__(self, obj):
        self._obj = obj

    scattering1d = _method("scattering1d")
    scattering2d = _method("scattering2d")
    harmonic_scattering3d = _method("harmonic_scattering3d")
    time_frequency_scattering = _method("time_frequency_scattering")


@xr.register_dataarray_accessor("scat")
class ScatDataArrayAccessor(_ScatAccessor):
    """`DataArray.scat`: scattering transforms returning a DataArray with a `coeff` dim."""


@xr.register_dataset_accessor("scat")
class ScatDatasetAccessor(_ScatAccessor):
    """`Dataset.scat`: transforms every data variable that has all of `dims` (those with none
    of them are kept, those with some are dropped with a warning)."""
