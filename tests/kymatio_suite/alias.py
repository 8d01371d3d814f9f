"""A `kymatio` name over scatflow's public modules, made at test time so that Kymatio's own test
files run against scatflow (see run.py). It lives in `sys.modules` of one pytest process only:
no package named `kymatio` is installed or shipped.

What each Kymatio import path gives:

* `kymatio.Scattering1D` / `Scattering2D` / `HarmonicScattering3D` (+ any other transform
  scatflow has, e.g. `TimeFrequencyScattering`): scatflow's entry classes.
* `kymatio.<framework>` (numpy, torch, tensorflow, jax, keras, sklearn): `scatflow.<framework>`.
* `kymatio.scattering<d>.frontend.<framework>_frontend.<Kymatio class name>`, e.g.
  `ScatteringNumPy2D`, `TimeFrequencyScatteringTorch`, `ScatteringJax1D`: the scatflow class of
  that transform and framework.
* `kymatio.scattering<d>.backend.<name>_backend.backend`: scatflow's backend of that name
  (Kymatio's tests pass it as `backend=`).
* Any other `kymatio.*` module (Kymatio's filter banks, cores, utilities, base frontends) is a
  placeholder whose names raise NotImplementedError when called: test files import them at
  module level, and the tests that call them are deselected (deselected.py). A package the
  environment lacks (JAX, which Kymatio main's JTFS test file imports, where it is not
  installed) gets the same stand-in.

With `compat="0.3"` every Scattering1D (entry class and framework classes) defaults to
`kymatio_compat="0.3"`, Kymatio 0.3.0's 1D numbers; Kymatio main's files run with scatflow's
defaults (main's numbers).
"""

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import types

FRAMEWORKS = ("numpy", "torch", "tensorflow", "jax", "keras", "sklearn")
# Kymatio's frontend class names put one of these between the transform's name and its
# dimension: ScatteringNumPy2D, HarmonicScatteringTorch3D, TimeFrequencyScatteringTensorFlow.
CLASS_INFIXES = {"NumPy": "numpy", "Torch": "torch", "TensorFlow": "tensorflow", "Jax": "jax",
                 "Keras": "keras", "Transformer": "sklearn"}
BACKEND_MODULE = re.compile(r"kymatio\.scattering[123]d\.backend\.(\w+)_backend$")
FRONTEND_MODULE = re.compile(r"kymatio\.scattering[123]d\.frontend\.(\w+)_frontend$")
PACKAGE = re.compile(r"kymatio(\.scattering[123]d(\.(backend|frontend|core))?)?$")


class _Placeholder(types.ModuleType):
    """A Kymatio module scatflow has no counterpart for: every name is a function that says so."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def internal(*args, **kwargs):
            raise NotImplementedError(f"{self.__name__}.{name} is Kymatio's own code, which "
                                      f"scatflow does not provide")
        return internal


def _with_compat(obj, compat):
    """`obj` with `kymatio_compat=compat` as its default where it is a Scattering1D."""
    if compat is None or getattr(obj, "__name__", "") != "Scattering1D":
        return obj
    return functools.partial(obj, kymatio_compat=compat)


class _Framework(types.ModuleType):
    """`kymatio.<framework>`: the names of `scatflow.<framework>`."""

    def __init__(self, name, framework, compat):
        super().__init__(name)
        self._framework, self._compat = framework, compat

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        module = importlib.import_module(f"scatflow.{self._framework}")
        return _with_compat(getattr(module, name), self._compat)


class _FrontendModule(types.ModuleType):
    """`kymatio.scattering<d>.frontend.<framework>_frontend`: Kymatio's class names mapped to
    scatflow's classes."""

    def __init__(self, name, framework, compat):
        super().__init__(name)
        self._framework, self._compat = framework, compat

    def __getattr__(self, name):
        for infix, framework in CLASS_INFIXES.items():
            if framework == self._framework and infix in name:
                module = importlib.import_module(f"scatflow.{framework}")
                return _with_compat(getattr(module, name.replace(infix, "", 1)), self._compat)
        raise AttributeError(f"{self.__name__} has no {name!r} in scatflow")


class _Top(types.ModuleType):
    """`kymatio`: scatflow's entry classes; `kymatio.<framework>` as attributes too."""

    def __init__(self, compat):
        super().__init__("kymatio")
        self._compat = compat
        self.__path__ = []

    def __getattr__(self, name):
        if name in FRAMEWORKS:
            return importlib.import_module(f"kymatio.{name}")
        if name.startswith("_"):
            raise AttributeError(name)
        import scatflow

        return _with_compat(getattr(scatflow, name), self._compat)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes the `kymatio` modules above when they are first imported."""

    def __init__(self, compat):
        self.compat = compat

    def find_spec(self, name, path, target=None):
        if name != "kymatio" and not name.startswith("kymatio."):
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=bool(PACKAGE.match(name)))

    def create_module(self, spec):
        name = spec.name
        if name == "kymatio":
            return _Top(self.compat)
        framework = name.removeprefix("kymatio.")
        if framework in FRAMEWORKS:
            return _Framework(name, framework, self.compat)
        if match := FRONTEND_MODULE.match(name):
            if match[1] in FRAMEWORKS:
                return _FrontendModule(name, match[1], self.compat)
        if match := BACKEND_MODULE.match(name):
            return self._backend_module(name, match[1])
        if PACKAGE.match(name):
            module = types.ModuleType(name)
            module.__path__ = []
            return module
        return _Placeholder(name)

    @staticmethod
    def _backend_module(name, backend_name):
        from scatflow.backends import BACKEND_MODULES, get_backend

        if backend_name not in BACKEND_MODULES:
            raise ImportError(f"scatflow has no backend {backend_name!r} ({name})", name=name)
        module = types.ModuleType(name)
        module.backend = get_backend(backend_name)
        return module

    def exec_module(self, module):
        pass


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Placeholder modules for a package this environment lacks (`_Placeholder`: its names
    raise NotImplementedError when called), so that a test file importing it at module level
    is collected; the tests that use it are deselected."""

    def __init__(self, package):
        self.package = package

    def find_spec(self, name, path, target=None):
        if name != self.package and not name.startswith(self.package + "."):
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = _Placeholder(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def stand_in_for_missing(package):
    """Stand in for `package` (see `_StandIn`) where it is not installed."""
    if importlib.util.find_spec(package) is None:
        sys.meta_path.append(_StandIn(package))


def install(compat=None):
    """Make `import kymatio...` give scatflow's modules in this process (see the module
    docstring); `compat="0.3"` for Kymatio 0.3.0's test files."""
    if any(isinstance(finder, _Finder) for finder in sys.meta_path):
        raise RuntimeError("the kymatio alias is installed already")
    if "kymatio" in sys.modules:
        raise RuntimeError("a real kymatio is imported already; run Kymatio's tests in a "
                           "process of their own")
    sys.meta_path.insert(0, _Finder(compat))
