"""`padding_mode=` reaches every frontend through the shared bases: each framework's numbers
equal the NumPy frontend's for every mode (the backends' own padding primitives included),
and the entry classes and Keras layers take it too."""

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import scatflow
import scatflow.numpy

FRAMEWORKS = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax", "sklearn": "sklearn"}
CASES = [("Scattering1D", dict(J=4, shape=128, Q=2), (2, 128), "symmetric"),
         ("Scattering1D", dict(J=4, shape=128, Q=2), (2, 128), "zero"),
         ("Scattering1D", dict(J=4, shape=128, Q=2), (2, 128), "periodic"),
         ("Scattering2D", dict(J=2, shape=(16, 20), L=4), (2, 16, 20), ("zero", "periodic")),
         ("Scattering2D", dict(J=2, shape=(16, 20), L=4), (2, 16, 20), "symmetric"),
         ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=4, shape=128), (2, 128), "periodic"),
         ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=4, shape=128), (2, 128), "zero")]


def run(frontend, name, kwargs, x):
    """The coefficients of `frontend`'s transform `name` on the float64 batch x, as NumPy."""
    module = importlib.import_module(f"scatflow.{frontend}")
    if frontend == "sklearn":
        estimator = getattr(module, name)(**kwargs).fit(x.reshape(len(x), -1))
        return estimator.transform(x.reshape(len(x), -1)).reshape(
            (len(x),) + estimator.scattering_.core.array_shape)
    S = getattr(module, name)(**kwargs)
    if frontend == "torch":
        import torch

        return S(torch.from_numpy(x)).numpy()
    if frontend == "tensorflow":
        import tensorflow as tf

        return S(tf.constant(x)).numpy()
    import jax

    with jax.enable_x64(True):
        return np.asarray(S(jax.numpy.asarray(x)))


@pytest.mark.parametrize("frontend", sorted(FRAMEWORKS))
@pytest.mark.parametrize("name, kwargs, shape, mode", CASES)
def test_every_frontend_takes_padding_mode(frontend, name, kwargs, shape, mode):
    pytest.importorskip(FRAMEWORKS[frontend])
    x = np.random.default_rng(7).standard_normal(shape)
    kwargs = dict(kwargs, padding_mode=mode)
    expected = getattr(scatflow.numpy, name)(**kwargs)(x)
    default = getattr(scatflow.numpy, name)(**dict(kwargs, padding_mode="reflect"))(x)
    assert np.abs(expected - default).max() > 1e-6 * np.abs(default).max()
    out = run(frontend, name, kwargs, x)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10 * np.abs(expected).max())


def test_entry_classes_and_bad_modes_on_a_framework_frontend():
    pytest.importorskip("torch")
    S = scatflow.Scattering2D(J=2, shape=(16, 16), L=4, frontend="torch",
                              padding_mode=("reflect", "periodic"))
    assert S.core.padding_modes == ("reflect", "periodic")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        scatflow.Scattering1D(J=2, shape=64, frontend="torch", padding_mode="wrap")


def test_keras_layers_take_padding_mode():
    """A Keras layer (torch backend, in its own process: Keras fixes its backend at import)
    equals the NumPy frontend with padding_mode, and keeps it in its config."""
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    code = """
import numpy as np, scatflow.keras as k, scatflow.numpy as n
x = np.random.default_rng(3).standard_normal((2, 16, 20)).astype("float32")
layer = k.Scattering2D(J=2, L=4, padding_mode=("zero", "periodic"))
out = np.asarray(layer(x))
ref = n.Scattering2D(J=2, L=4, shape=(16, 20), padding_mode=("zero", "periodic"))(x)
print(float(np.abs(out - ref).max() / np.abs(ref).max()), layer.get_config()["padding_mode"])
"""
    env = dict(os.environ, KERAS_BACKEND="torch")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=600)
    error, *mode = out.stdout.strip().splitlines()[-1].split(maxsplit=1)
    assert float(error) < 1e-5
    assert "periodic" in mode[0]
