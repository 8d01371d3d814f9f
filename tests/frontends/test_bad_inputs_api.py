"""The API half of the generated bad-input suite (issue 16): every public parameter of every
transform of `scatflow.registry`, in every frontend (the entry classes'
`scatflow.<Class>(..., frontend=...)`), in `scatflow.dask` and in `scatflow.xarray` (its
functions and the `scat` accessor), gets a bad value of each kind that applies to it: wrong
type, out of range, unknown name, missing. Each call must raise `ValueError` or `TypeError`
(scatflow's own error classes derive from them) with a message that names the parameter, and
do it before any work: no filter bank built, nothing computed by Dask.

The cases are generated from the registry and the signatures: a parameter's bad values follow
from its default (an int, a bool, a real, a name, a sequence or None; `sigma_0`'s default 1 is
a real); only the options of the Dask and xarray functions (axes, dims, chunking, nan_policy,
backend) list theirs here. A scale far beyond any signal (J=10**6) is tried where the call
knows the signal's shape (a Keras layer learns it when built).
"""

import inspect
import math
import re
import signal
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

import scatflow
from scatflow import entry, registry
from scatflow import dask as scat_dask
from scatflow.frontends import numpy as numpy_frontend
from scatflow.xarray import api

HANG_GUARD = 60  # seconds a call may take before it counts as a hang

# (kind, value) pairs, by the type of a parameter's default.
INT_BAD = [("wrong type", "2"), ("wrong type", 1.5), ("out of range", -1)]
TOO_LARGE = [("out of range", 10**6)]  # J: a scale beyond any signal
BOOL_BAD = [("wrong type", "yes"), ("wrong type", 2)]
REAL_BAD = [("wrong type", "1"), ("out of range", -1.0), ("out of range", math.nan)]
NAME_BAD = [("wrong type", 3), ("unknown name", "bogus")]
SEQUENCE_BAD = [("wrong type", "bogus"), ("out of range", (-1.0,)), ("out of range", ())]
OPTIONAL_BAD = [("wrong type", object()), ("unknown name", "bogus"), ("out of range", -1)]

# Valid small arguments per transform (every other parameter keeps its default).
GOOD = {
    "scattering1d": {"J": 2, "shape": (64,)},
    "scattering2d": {"J": 1, "shape": (8, 8), "L": 2},
    "harmonic_scattering3d": {"J": 1, "shape": (8, 8, 8), "L": 1},
    "time_frequency_scattering": {"J": 3, "J_fr": 1, "Q": 2, "shape": (64,)},
}


REAL_DEFAULTS = {"sigma_0"}  # parameters whose default (an int) stands for a real


def bad_values(parameter, ndim, shape_known=True):
    """The (kind, value) pairs for one constructor parameter, from its name and default."""
    default = parameter.default
    if parameter.name == "shape":
        return [("wrong type", "bogus"), ("out of range", (0,) * ndim),
                ("out of range", (8,) * (ndim + 1))]
    if default is inspect.Parameter.empty:  # J, J_fr, Q: required integers
        return INT_BAD + (TOO_LARGE if parameter.name == "J" and shape_known else [])
    if parameter.name in REAL_DEFAULTS:
        return REAL_BAD
    if isinstance(default, bool):
        return BOOL_BAD
    if isinstance(default, int):
        return INT_BAD
    if isinstance(default, float):
        return REAL_BAD
    if isinstance(default, str):
        return NAME_BAD
    if isinstance(default, tuple):
        return SEQUENCE_BAD
    assert default is None, f"no bad values for {parameter}"
    return OPTIONAL_BAD


def option_bad_values(name, ndim):
    """Bad values of the options the Dask and xarray functions add to the frontend's."""
    if name == "axis":
        return [("wrong type", "bogus"), ("wrong type", 1.5), ("out of range", 7)]
    if name == "axes":
        return [("wrong type", "bogus"), ("out of range", (7,) * ndim),
                ("out of range", (-1,) * ndim), ("out of range", (-1,) * (ndim + 1))]
    if name == "dims":
        return [("wrong type", 3), ("unknown name", "bogus"), ("out of range", ("bogus",) * 4)]
    if name == "chunking":
        return NAME_BAD
    if name == "nan_policy":
        return [("wrong type", object()), ("unknown name", "bogus"), ("out of range", math.inf)]
    if name == "backend":
        return NAME_BAD
    raise AssertionError(f"no bad values for option {name}")


@dataclass
class Case:
    id: str
    call: object  # () -> anything: the bad call
    parameter: str  # what the message must name


def _constructor_parameters(cls, transform):
    """The parameters a frontend class takes by name: its own signature, or the transform's
    (the base's) where its __init__ forwards *args to it."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return transform.parameters()
    return [p for p in parameters if p.name != "self" and p.kind is not p.VAR_KEYWORD]


def _variants(parameters, good, ndim, bad_for):
    """(parameter, kind, keyword arguments) for each bad value of each parameter, each missing
    required parameter and one unknown keyword."""
    names = {p.name for p in parameters}
    base = {k: v for k, v in good.items() if k in names}
    for p in parameters:
        for kind, value in bad_for(p):
            yield p.name, kind, dict(base, **{p.name: value})
        if p.default is inspect.Parameter.empty:
            yield p.name, "missing", {k: v for k, v in base.items() if k != p.name}
    yield "bogus_parameter", "unknown name", dict(base, bogus_parameter=1)


def frontend_cases():
    for transform in registry.TRANSFORMS.values():
        good = GOOD[transform.name]
        entry_class = getattr(scatflow, transform.class_name)
        for frontend in entry.FRONTENDS:
            module = {"sklearn": "sklearn", "keras": "keras"}.get(frontend, frontend)
            if frontend != "numpy" and not _installed(module):
                continue
            cls = entry.frontend_class(transform.class_name, frontend)
            parameters = _constructor_parameters(cls, transform)
            shape_known = any(p.name == "shape" for p in parameters)
            for name, kind, kwargs in _variants(
                    parameters, good, transform.ndim,
                    lambda p: bad_values(p, transform.ndim, shape_known)):
                yield Case(f"{frontend}-{transform.class_name}-{name}-{kind}-{_show(kwargs, name)}",
                           _bind(entry_class, frontend=frontend, **kwargs), name)
        for kind, value in NAME_BAD:
            yield Case(f"entry-{transform.class_name}-frontend-{kind}-{value!r}",
                       _bind(entry_class, frontend=value, **good), "frontend")


def dask_cases():
    for transform in registry.TRANSFORMS.values():
        good = {k: v for k, v in GOOD[transform.name].items() if k != "shape"}
        x = da.zeros((2,) + GOOD[transform.name]["shape"])
        function = getattr(scat_dask, transform.name)
        parameters = _function_parameters(function, transform, "x")
        for name, kind, kwargs in _variants(parameters, good, transform.ndim,
                                            lambda p: _any_bad(p, transform.ndim)):
            yield Case(f"dask-{transform.name}-{name}-{kind}-{_show(kwargs, name)}",
                       _bind(function, x, **kwargs), name)
        yield Case(f"dask-{transform.name}-x-wrong type-numpy",
                   _bind(function, np.zeros((2,) + GOOD[transform.name]["shape"]), **good), "x")
        yield Case(f"dask-{transform.name}-x-wrong type-complex",
                   _bind(function, x.astype(complex), **good), "x")


def xarray_cases():
    for transform in registry.TRANSFORMS.values():
        good = {k: v for k, v in GOOD[transform.name].items() if k != "shape"}
        shape = GOOD[transform.name]["shape"]
        obj = xr.DataArray(np.zeros((2,) + shape),
                           dims=("sample",) + transform.default_dims[0])
        function = getattr(api, transform.name)
        parameters = _function_parameters(function, transform, "obj")
        for name, kind, kwargs in _variants(parameters, good, transform.ndim,
                                            lambda p: _any_bad(p, transform.ndim)):
            label = f"{transform.name}-{name}-{kind}-{_show(kwargs, name)}"
            yield Case(f"xarray-{label}", _bind(function, obj, **kwargs), name)
            yield Case(f"accessor-{label}",
                       _bind(getattr(obj.scat, transform.name), **kwargs), name)
        yield Case(f"xarray-{transform.name}-obj-wrong type-numpy",
                   _bind(function, np.zeros((2,) + shape), **good), "obj")


def _function_parameters(function, transform, first):
    """A Dask or xarray function's parameters: its own (but `first`, the data) and the
    frontend keywords it passes on (the base's but `shape` and `out_type`)."""
    own = [p for p in inspect.signature(function).parameters.values()
           if p.name != first and p.kind is not p.VAR_KEYWORD]
    taken = {p.name for p in own} | {"shape", "out_type"}
    return own + [p for p in transform.parameters() if p.name not in taken]


def _any_bad(parameter, ndim):
    if parameter.name in ("axis", "axes", "dims", "chunking", "nan_policy") or (
            parameter.name == "backend" and parameter.default == "auto"):
        return option_bad_values(parameter.name, ndim)
    return bad_values(parameter, ndim)


def _bind(function, *args, **kwargs):
    return lambda: function(*args, **kwargs)


def _show(kwargs, name):
    value = kwargs.get(name, "<missing>")
    return "object" if type(value) is object else repr(value)


def _installed(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


CASES = [*frontend_cases(), *dask_cases(), *xarray_cases()]


def test_the_suite_tries_at_least_100_bad_calls():
    assert len(CASES) >= 100
    assert len({case.id for case in CASES}) == len(CASES)


class Hang(Exception):
    """A bad call that gave no answer within the hang guard."""


@pytest.fixture
def no_work(monkeypatch):
    """Records every filter bank built (the cache of frontends emptied first, so that none is
    skipped) and forbids Dask computing anything; yields the list of banks built."""
    numpy_frontend._cached.cache_clear()
    made = []
    for transform in registry.TRANSFORMS.values():
        core = transform.load("core")
        original = core.filters

        def record(self, *args, _original=original, **kwargs):
            made.append(type(self).__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(core, "filters", record)

    def forbidden(*args, **kwargs):
        raise AssertionError("Dask computed something for a bad call")

    def hang(signum, frame):
        raise Hang(f"no answer in {HANG_GUARD} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_GUARD)
    try:
        with dask.config.set(scheduler=forbidden):
            yield made
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_call_is_refused_naming_the_parameter_before_any_work(case, no_work):
    with pytest.raises((ValueError, TypeError)) as refused:
        case.call()
    message = str(refused.value)
    assert re.search(rf"(?<![\w]){re.escape(case.parameter)}(?![\w])", message), message
    assert no_work == [], f"filters were built before the refusal: {no_work}"
