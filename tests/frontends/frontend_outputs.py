"""Run one Kymatio fixture through one scatflow frontend; the agreement test's single code path.

`python tests/frontends/frontend_outputs.py OUT.npz FIXTURE...` computes every fixture with the
Keras layers (float32) in this process, whose Keras backend is fixed by KERAS_BACKEND, and saves
the outputs in OUT.npz keyed by fixture name: Keras must be imported in a fresh process per
backend.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: reference.py
from reference import scatflow_kwargs  # noqa: E402

SIGNAL_NDIM = {"1d": 1, "2d": 2, "3d": 3}
TRANSFORMS = {"1d": "Scattering1D", "2d": "Scattering2D", "3d": "HarmonicScattering3D"}


def transform_of(path):
    """'1d', '2d' or '3d' from a fixture's file name."""
    return Path(path).name.split("-")[2]


def as_numpy(out):
    """Coefficients as NumPy: an array, or the list of 'list' output coefficients."""
    if isinstance(out, list):
        return [np.asarray(item["coef"]) for item in out]
    return np.asarray(out)


def run(frontend, path, dtype):
    """scatflow's coefficients for a fixture's input cast to `dtype`, with `frontend`."""
    kwargs, x, _ = scatflow_kwargs(path)
    kind = transform_of(path)
    name = TRANSFORMS[kind]
    x = x.astype(dtype)
    if frontend == "numpy":
        import scatflow.numpy as module

        return as_numpy(getattr(module, name)(**kwargs)(x))
    if frontend == "torch":
        import torch

        import scatflow.torch as module

        return as_numpy(getattr(module, name)(**kwargs)(torch.from_numpy(x)))
    if frontend == "tensorflow":
        import tensorflow as tf

        import scatflow.tensorflow as module

        return as_numpy(getattr(module, name)(**kwargs)(tf.constant(x)))
    if frontend == "jax":
        import jax

        import scatflow.jax as module

        S = getattr(module, name)(**kwargs)
        with jax.enable_x64(dtype == "float64"):  # JAX has float64 only with x64
            return as_numpy(S(jax.numpy.asarray(x)))
    if frontend == "sklearn":
        import scatflow.sklearn as module

        signal_shape = x.shape[x.ndim - SIGNAL_NDIM[kind]:]
        rows = x.reshape(-1, int(np.prod(signal_shape)))
        kwargs.pop("out_type", None)  # transformers always give the flattened array
        estimator = getattr(module, name)(**kwargs).fit(rows)
        out = estimator.transform(rows)
        return out.reshape(x.shape[: x.ndim - len(signal_shape)] + estimator.scattering_.core.array_shape)
    raise ValueError(f"unknown frontend {frontend!r}")


def keras_supports(path):
    """Keras layers give arrays only (no T=0 list output)."""
    kwargs, _, _ = scatflow_kwargs(path)
    return kwargs.get("T") != 0 and kwargs.get("out_type", "array") == "array"


def run_keras(path):
    """The Keras layer's float32 output for a fixture (batch dims flattened and restored)."""
    import keras

    import scatflow.keras as module

    kwargs, x, _ = scatflow_kwargs(path)
    kind = transform_of(path)
    signal_ndim = SIGNAL_NDIM[kind]
    batch_shape = x.shape[: x.ndim - signal_ndim]
    for key in ("shape", "out_type", "backend"):
        kwargs.pop(key, None)
    layer = getattr(module, TRANSFORMS[kind])(**kwargs)
    flat = x.reshape((-1,) + x.shape[x.ndim - signal_ndim:]).astype(np.float32)
    out = keras.ops.convert_to_numpy(layer(flat))
    return out.reshape(batch_shape + out.shape[1:])


if __name__ == "__main__":
    target, *paths = sys.argv[1:]
    np.savez(target, **{Path(p).name: run_keras(p) for p in paths})
