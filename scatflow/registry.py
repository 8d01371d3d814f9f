"""The transforms scatflow computes: the one list that every layer reads.

An entry says what a transform is called at each layer (Kymatio's class name for the
frontends and entry classes; a snake_case name for the `scat` accessor, `scatflow.dask`, the
workflow's `transform.kind`), how many signal dims it transforms and which dim names it takes
by default, and where its parts live: filter bank, core, framework-independent frontend base
(whose constructor signature and `check_parameters` are the transform's parameters
everywhere) and the plotter of `scatflow plot`. What an output array holds (path axes, signal
axes, named axes such as 3D's `integral_power`) is told by the core (`core.output_axes`), and
the halo a chunk needs by its filters (`core.halo_filters()`), so no layer branches on a
transform.

Parts are named by dotted path and imported on demand (`Transform.load`): reading the registry
imports nothing heavy, and the layers below the workflow never import the plotters.
Adding a transform: its filter, core and frontend-base modules, one entry here, and the
one-line declarations each public module makes per entry (checked by tests/test_registry.py).
"""

import inspect
from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Transform:
    name: str  # accessor method, scatflow.dask / scatflow.xarray function, workflow kind
    class_name: str  # Kymatio's class name: every framework module and the entry class
    summary: str  # one line, for docstrings and messages
    ndim: int  # signal dims transformed
    default_dims: tuple  # candidate dim-name tuples: the first the object has is used
    axes_keyword: str  # scatflow.dask's keyword naming the signal axes ("axis": one int)
    default_axes: object  # its default
    filters: str  # module of the NumPy filter bank
    core: str  # "module:Class" of the algorithm
    base: str  # "module:Class" of the framework-independent frontend base
    plotter: str  # "module:function" drawing one sample for `scatflow plot`
    no_halo: str = None  # why chunking="halo" does not apply, where it does not

    def load(self, part):
        """The object a dotted `part` field names ("core", "base", "plotter"), imported now."""
        module, _, attribute = getattr(self, part).partition(":")
        loaded = import_module(module)
        return getattr(loaded, attribute) if attribute else loaded

    def parameters(self):
        """The frontend base's constructor parameters (inspect.Parameter), in order."""
        init = self.load("base").__init__
        return [p for p in inspect.signature(init).parameters.values() if p.name != "self"]

    def required(self):
        """Names of the parameters without default, `shape` excepted (it comes from the data
        outside the frontends)."""
        return [p.name for p in self.parameters()
                if p.default is inspect.Parameter.empty and p.name != "shape"]


TRANSFORMS = {t.name: t for t in (
    Transform(
        name="scattering1d", class_name="Scattering1D", summary="1D Morlet scattering",
        ndim=1, default_dims=(("time",),), axes_keyword="axis", default_axes=-1,
        filters="scatflow.filters.morlet1d",
        core="scatflow.core.scattering1d:Scattering1DCore",
        base="scatflow.frontends.scattering1d:Scattering1DBase",
        plotter="scatflow.workflow.plot.scattering1d:draw"),
    Transform(
        name="scattering2d", class_name="Scattering2D", summary="2D Morlet scattering",
        ndim=2, default_dims=(("y", "x"), ("lat", "lon"), ("latitude", "longitude")),
        axes_keyword="axes", default_axes=(-2, -1),
        filters="scatflow.filters.morlet2d",
        core="scatflow.core.scattering2d:Scattering2DCore",
        base="scatflow.frontends.scattering2d:Scattering2DBase",
        plotter="scatflow.workflow.plot.scattering2d:draw"),
    Transform(
        name="harmonic_scattering3d", class_name="HarmonicScattering3D",
        summary="3D solid-harmonic scattering", ndim=3, default_dims=(("z", "y", "x"),),
        axes_keyword="axes", default_axes=(-3, -2, -1),
        filters="scatflow.filters.harmonic3d",
        core="scatflow.core.harmonic3d:HarmonicScattering3DCore",
        base="scatflow.frontends.harmonic3d:HarmonicScattering3DBase",
        plotter="scatflow.workflow.plot.harmonic3d:draw",
        no_halo="its outputs are integrals over the whole volume"),
    Transform(
        name="time_frequency_scattering", class_name="TimeFrequencyScattering",
        summary="Joint time-frequency scattering", ndim=1, default_dims=(("time",),),
        axes_keyword="axis", default_axes=-1,
        filters="scatflow.filters.time_frequency",
        core="scatflow.core.time_frequency:TimeFrequencyScatteringCore",
        base="scatflow.frontends.time_frequency:TimeFrequencyScatteringBase",
        plotter="scatflow.workflow.plot.time_frequency:draw"),
)}

BY_CLASS = {t.class_name: t for t in TRANSFORMS.values()}


def get(name):
    """The entry named `name` (snake_case or class name), or a ValueError listing them."""
    found = TRANSFORMS.get(name) or BY_CLASS.get(name)
    if found is None:
        raise ValueError(f"transform must be one of {list(TRANSFORMS)}; got {name!r}")
    return found
