"""The exceptions scatflow raises where Kymatio raises another built-in type.

Each derives from scatflow's type and from Kymatio's, so that code written against either
catches it: `except ValueError` (scatflow's contract) and `except RuntimeError` (Kymatio's) both
catch a `ShapeError`. This module imports nothing, so every layer may raise them.

Each takes `Exception.__init__` (one message), which makes TensorFlow re-raise it as it is when
it comes out of a `tf.function` trace (AutoGraph keeps the types it can rebuild from a message;
others become a StagingError).
"""


class ShapeError(ValueError, RuntimeError):
    """An input of the wrong rank or trailing shape, or a signal too small for `J`
    (Kymatio: RuntimeError)."""

    __init__ = Exception.__init__


class ParameterTypeError(TypeError, ValueError):
    """A parameter of the wrong type, such as a float where an integer is needed (Kymatio:
    ValueError)."""

    __init__ = Exception.__init__


class OrderNotImplementedError(ValueError, NotImplementedError):
    """Scattering orders beyond 2 asked for, e.g. a 3-tuple `Q` (Kymatio: NotImplementedError)."""

    __init__ = Exception.__init__


class BackendError(ImportError, ValueError):
    """An unknown backend, or one the chosen frontend does not run (Kymatio: ImportError)."""

    __init__ = Exception.__init__


class FrontendError(ValueError, RuntimeError):
    """An unknown frontend name (Kymatio: RuntimeError)."""

    __init__ = Exception.__init__
