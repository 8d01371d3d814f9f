"""average=False (2D, 3D) on every frontend: torch, TensorFlow and JAX give NumPy's unaveraged
maps (list and dict, float64 and float32, JAX under jit); the frontends that return one array
(Keras's, checked in keras_checks.py, scikit-learn's transform, the checks every array-only
consumer runs) refuse it, naming where the maps are."""

import importlib

import numpy as np
import pytest

import scatflow.numpy as snp
from scatflow import registry

CONFIGS = {
    "2d": ("Scattering2D", dict(J=2, shape=(21, 26), L=2), (21, 26)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(8, 10, 12), L=2), (8, 10, 12)),
}
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}


def as_numpy(framework, out):
    """A list or dict output with its coefficients as NumPy arrays."""
    def convert(c):
        return c.detach().cpu().numpy() if framework == "torch" else np.asarray(c)

    if isinstance(out, dict):
        return {key: convert(c) for key, c in out.items()}
    return [dict(item, coef=convert(item["coef"])) for item in out]


def run(framework, kind, x, out_type):
    """The framework's transform of the NumPy signal x, as NumPy arrays in `out_type`."""
    name, kwargs, _ = CONFIGS[kind]
    module = importlib.import_module(f"scatflow.{framework}")
    S = getattr(module, name)(**kwargs, average=False, out_type=out_type)
    if framework == "jax":
        import jax

        with jax.enable_x64(x.dtype == np.float64):
            return as_numpy(framework, S(jax.numpy.asarray(x)))
    if framework == "torch":
        import torch

        return as_numpy(framework, S(torch.from_numpy(x)))
    import tensorflow as tf

    return as_numpy(framework, S(tf.constant(x)))


@pytest.mark.parametrize("framework", ["torch", "tensorflow", "jax"])
@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("out_type", ["list", "dict"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_frameworks_give_numpys_maps(framework, kind, out_type, dtype):
    pytest.importorskip(framework)
    name, kwargs, shape = CONFIGS[kind]
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype(dtype)
    expected = getattr(snp, name)(**kwargs, average=False, out_type=out_type)(x)
    ours = run(framework, kind, x, out_type)
    if out_type == "dict":
        assert ours.keys() == expected.keys()
        pairs = [(ours[k], expected[k]) for k in expected]
    else:
        assert [{k: v for k, v in o.items() if k != "coef"} for o in ours] == [
            {k: v for k, v in e.items() if k != "coef"} for e in expected]
        pairs = [(o["coef"], e["coef"]) for o, e in zip(ours, expected)]
    for mine, theirs in pairs:
        assert mine.dtype == dtype and mine.shape == theirs.shape
        scale = np.abs(theirs).max()
        assert np.abs(mine - theirs).max() <= TOLERANCE[dtype] * scale


def test_jax_jit_compiles_the_unaveraged_maps():
    jax = pytest.importorskip("jax")
    import scatflow.jax as sjax

    x = np.random.default_rng(1).standard_normal((1, 16, 16)).astype(np.float32)
    S = sjax.Scattering2D(2, (16, 16), L=2, average=False, out_type="dict")
    expected = snp.Scattering2D(2, (16, 16), L=2, average=False, out_type="dict")(x)
    ours = jax.jit(lambda v: S(v))(jax.numpy.asarray(x))
    for key in expected:
        np.testing.assert_allclose(np.asarray(ours[key]), expected[key], rtol=0,
                                   atol=1e-4 * np.abs(expected[key]).max())


@pytest.mark.parametrize("kind", ["scattering2d", "harmonic_scattering3d"])
def test_array_only_consumers_refuse_average_false(kind):
    """Keras layers, scikit-learn and workflow specs check the parameters for the array
    output: average=False is refused there, saying to use a frontend with list/dict."""
    base = registry.get(kind).load("base")
    with pytest.raises(ValueError, match="use a frontend"):
        base.check_parameters(J=1, shape=None, out_type="array", average=False)


@pytest.mark.parametrize("name, shape", [("Scattering2D", (8, 8)),
                                         ("HarmonicScattering3D", (6, 6, 6))])
def test_sklearn_transform_refuses_average_false(name, shape):
    pytest.importorskip("sklearn")
    import scatflow.sklearn as ssk

    X = np.zeros((2, int(np.prod(shape))))
    for out_type in ("array", "list"):
        est = getattr(ssk, name)(J=1, shape=shape, average=False, out_type=out_type)
        with pytest.raises(ValueError, match="scikit-learn's transform"):
            est.fit_transform(X)
    # its Kymatio-style call gives the maps, as the NumPy frontend does
    est = getattr(ssk, name)(J=1, shape=shape, average=False, out_type="list")
    x = np.random.default_rng(2).standard_normal(shape)
    expected = getattr(snp, name)(J=1, shape=shape, average=False, out_type="list")(x)
    for mine, theirs in zip(est.scattering(x), expected):
        np.testing.assert_array_equal(mine["coef"], theirs["coef"])
