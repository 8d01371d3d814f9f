"""The transform registry is the one list of transforms: every public module declares each entry,
and nothing else in the package names a transform or branches on it."""

import ast
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import scatflow
import scatflow.dask
import scatflow.numpy
import scatflow.xarray
import scatflow.xarray.api
from scatflow import registry
from scatflow.frontends.base import ScatteringBase

PACKAGE = Path(scatflow.__file__).parent
ENTRIES = list(registry.TRANSFORMS.values())
FRAMEWORK_MODULES = ["numpy", "torch", "tensorflow", "jax", "sklearn"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_each_entry_loads_its_parts(entry):
    base, core = entry.load("base"), entry.load("core")
    assert issubclass(base, ScatteringBase) and base.core_class is core
    assert callable(entry.load("plotter"))
    assert entry.load("filters").__name__ == entry.filters
    assert inspect.ismethod(base.check_parameters)
    assert len(entry.default_dims) >= 1 and all(len(d) == entry.ndim for d in entry.default_dims)
    assert "J" in entry.required() and "shape" not in entry.required()


@pytest.mark.parametrize("module", FRAMEWORK_MODULES)
def test_every_framework_module_declares_every_entry(module):
    public = __import__(f"scatflow.{module}", fromlist=["__all__"])
    for entry in ENTRIES:
        assert entry.class_name in public.__all__, (module, entry.class_name)
        cls = getattr(public, entry.class_name)
        if module != "sklearn":
            assert issubclass(cls, entry.load("base")), (module, entry.class_name)


def test_keras_declares_every_entry_in_a_keras_process():
    code = ("import json, scatflow.keras as k; "
            "print(json.dumps({n: getattr(k, n).signal_ndim for n in k.__all__}))")
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=env, timeout=300)
    declared = json.loads(result.stdout.strip().splitlines()[-1])
    assert declared == {e.class_name: e.ndim for e in ENTRIES}


def test_entry_classes_accessor_dask_and_xarray_functions_exist_for_every_entry():
    import xarray as xr

    accessor = xr.DataArray([0.0]).scat
    for entry in ENTRIES:
        assert entry.class_name in scatflow.__all__
        assert getattr(scatflow, entry.class_name).transform == entry.class_name
        for module in (scatflow.dask, scatflow.xarray.api, scatflow.xarray):
            function = getattr(module, entry.name)
            assert function.__name__ == entry.name, module
        assert entry.name in scatflow.xarray.__all__
        assert list(inspect.signature(getattr(accessor, entry.name)).parameters)[
            : 1 + len(entry.required())] == entry.required() + ["dims"]
        dask_signature = inspect.signature(scatflow.dask.__dict__[entry.name])
        assert dask_signature.parameters[entry.axes_keyword].default == entry.default_axes


def test_sklearn_and_keras_parameters_come_from_the_base():
    import scatflow.sklearn

    for entry in ENTRIES:
        names = [p.name for p in entry.parameters()]
        estimator = getattr(scatflow.sklearn, entry.class_name)
        assert list(estimator._get_param_names()) == sorted(names)


def test_no_module_names_a_transform_outside_the_registry_and_declarations():
    """A transform's names appear only in the registry and in one-line declarations (a class
    or function bound to the entry, `__all__`, imports, docstrings and comments)."""
    names = {n for e in ENTRIES for n in (e.name, e.class_name)}
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "registry.py":
            continue
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if pattern.fullmatch(node.value) and not _is_declaration(node, parents):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_no_module_branches_on_the_number_of_signal_dims():
    """Dispatch on a transform's dims (`ndim == 3`, `len(dims) == 1`) belongs to no layer above
    the cores: their output axes and halo filters say what differs."""
    offenders = []
    for layer in ("dask.py", "xarray", "workflow", "frontends/keras.py", "frontends/sklearn.py",
                  "entry.py", "cli.py"):
        for path in sorted((PACKAGE / layer).rglob("*.py")) if (PACKAGE / layer).is_dir() \
                else [PACKAGE / layer]:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if DIMS_BRANCH.search(line):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


DIMS_BRANCH = re.compile(  # `ndim == 3`, `core.ndim != 1`, `len(dims) == 2` (not `x.ndim`)
    r"((?<![\w\].])ndim|\b(transform|core|entry)\.ndim|\bsignal_ndim"
    r"|\blen\((dims|axes|signal_shape|sizes)\))\s*(==|!=)\s*\d")


def _is_declaration(node, parents):
    """`transform="scattering1d"` in a class statement, `operator("scattering1d")` and the
    like (a call with the name as its only argument), an item of `__all__`, or a docstring."""
    parent = parents.get(node)
    if isinstance(parent, ast.keyword) and parent.arg == "transform":
        return True
    if isinstance(parent, ast.Call) and parent.args == [node] and not parent.keywords:
        return True
    if isinstance(parent, ast.List):
        assign = parents.get(parent)
        return isinstance(assign, ast.Assign) and [getattr(t, "id", None)
                                                   for t in assign.targets] == ["__all__"]
    return isinstance(parent, ast.Expr)  # a docstring
