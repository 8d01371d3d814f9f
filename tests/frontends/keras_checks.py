"""The scatflow.keras checks for ONE Keras backend, run in a fresh process (Keras fixes its backend
at first import): `KERAS_BACKEND=torch python tests/frontends/keras_checks.py RESULTS.json`.

Every check in CHECKS runs for every layer; RESULTS.json maps each check's name to "ok" or
its traceback. `tests/frontends/test_keras.py` launches this script once per backend and turns
each entry into one test. Checks run in the order of CHECKS (`imports` before `save_load`:
Keras's own saving code imports TensorFlow when it is installed, as `from_config` does in
`kymatio_arguments`).
"""

import contextlib
import inspect
import json
import math
import sys
import tempfile
import traceback
from pathlib import Path
from unittest import mock

import numpy as np

from scatflow import registry

CHECKS = ("matches_numpy", "float64_layer", "output_shapes", "symbolic_shapes", "fit_one_step",
          "argument_errors", "unsupported_backend", "imports", "kymatio_arguments", "save_load",
          "nan_policy_mask")

# (layer name, layer kwargs, input signal shape, extra kwargs of the numpy frontend)
LAYERS = {
    "1d": ("Scattering1D", dict(J=3, Q=(2, 1), T=16), (128,), {}),
    "2d": ("Scattering2D", dict(J=2, L=4), (16, 20), {}),
    "3d": ("HarmonicScattering3D", dict(J=1, L=1), (8, 8, 8), {}),
    "jtfs": ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=(4, 2), format="joint"), (256,), {}),
}

# configurations whose compute_output_shape is compared with the real output
SHAPE_CONFIGS = [
    ("Scattering1D", dict(J=4), (256,)),
    ("Scattering1D", dict(J=4, max_order=1), (256,)),
    ("Scattering1D", dict(J=3, Q=(4, 2), T=32), (256,)),
    ("Scattering1D", dict(J=4, T=16, max_order=1), (200,)),
    ("Scattering1D", dict(J=3, oversampling=1), (128,)),
    ("Scattering1D", dict(J=4, T=64, stride=16), (512,)),
    ("Scattering1D", dict(J=3, T="global"), (128,)),
    ("Scattering1D", dict(J=3, Q=2, kymatio_compat="0.3", oversampling=1), (128,)),
    ("Scattering2D", dict(J=2), (16, 16)),
    ("Scattering2D", dict(J=2, L=6, max_order=1), (17, 23)),
    ("Scattering2D", dict(J=1, L=3), (9, 12)),
    ("Scattering2D", dict(J=2, L=4, pre_pad=True), (24, 28)),
    ("HarmonicScattering3D", dict(J=1, L=2, max_order=1), (8, 8, 8)),
    ("HarmonicScattering3D", dict(J=2, L=1, integral_powers=(1.0, 2.0)), (8, 10, 12)),
    ("HarmonicScattering3D", dict(J=1, L=0, rotation_covariant=False), (6, 6, 6)),
    ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=4), (256,)),
    ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=(4, 2), format="joint", F=8), (300,)),
    ("TimeFrequencyScattering", dict(J=3, J_fr=2, Q=2, T="global", F="global"), (128,)),
    ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=4, T=32, stride=8, stride_fr=2), (256,)),
]


def numpy_reference(name, kwargs, x):
    """scatflow.numpy's output for layer `name` with `kwargs` on `x` (shape from x)."""
    import scatflow.numpy as snp

    ndim = registry.get(name).ndim
    cls = getattr(snp, name)
    shape = cls.shape_for_input(x.shape[x.ndim - ndim:], **kwargs)
    return cls(shape=shape, **kwargs)(x)


def relative_error(ours, ref):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    return np.max(np.abs(ours - ref)) / np.max(np.abs(ref))


def check_matches_numpy(keras, layers):
    """float32 output within 1e-5 (relative to the max) of scatflow.numpy, with 2 batch dims."""
    rng = np.random.default_rng(0)
    for name, kwargs, shape, _ in LAYERS.values():
        x = rng.standard_normal((2, 3) + shape).astype(np.float32)
        out = getattr(layers, name)(**kwargs)(x)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        error = relative_error(keras.ops.convert_to_numpy(out), numpy_reference(name, kwargs, x))
        assert error <= 1e-5, (name, error)


def check_float64_layer(keras, layers):
    """dtype='float64' computes in float64 (1e-12 of scatflow.numpy); on JAX with
    jax_enable_x64, without which JAX has no float64."""
    rng = np.random.default_rng(1)
    with float64_enabled(keras):
        for name, kwargs, shape, _ in LAYERS.values():
            x = rng.standard_normal((2,) + shape)
            out = getattr(layers, name)(dtype="float64", **kwargs)(x)
            assert keras.backend.standardize_dtype(out.dtype) == "float64"
            error = relative_error(keras.ops.convert_to_numpy(out),
                                   numpy_reference(name, kwargs, x))
            assert error <= 1e-12, (name, error)


def float64_enabled(keras):
    """A context with float64 available: jax_enable_x64 on the JAX backend, else nothing."""
    if keras.backend.backend() != "jax":
        return contextlib.nullcontext()
    import jax

    return jax.enable_x64(True)


def check_output_shapes(keras, layers):
    """compute_output_shape (before and after build) equals the output's shape, and the
    output equals scatflow.numpy's, for max_order=1, T != 2**J, L != 8, strides, pre_pad...
    On JAX the output is traced, not computed (`jax.eval_shape`): each configuration would be
    seconds of XLA compiling, for numbers the JAX frontend's fixtures and the other checks
    here already compare."""
    rng = np.random.default_rng(2)
    on_jax = keras.backend.backend() == "jax"
    for name, kwargs, shape in SHAPE_CONFIGS:
        layer = getattr(layers, name)(**kwargs)
        x = rng.standard_normal((2,) + shape).astype(np.float32)
        predicted = layer.compute_output_shape(x.shape)
        if on_jax:
            import jax

            out = jax.eval_shape(layer, jax.ShapeDtypeStruct(x.shape, x.dtype))
        else:
            out = keras.ops.convert_to_numpy(layer(x))
        assert predicted == out.shape == layer.compute_output_shape(x.shape), (name, kwargs, predicted, out.shape)
        axes = layer.scattering.core.output_axes
        paths = math.prod(n for a, n in zip(axes, out.shape[1:]) if a.kind == "path")
        assert paths == layer.output_size() == len(layer.meta()["order"]), (name, kwargs)
        if not on_jax:
            assert relative_error(out, numpy_reference(name, kwargs, x)) <= 1e-5, (name, kwargs)


def check_symbolic_shapes(keras, layers):
    """keras.Input with unknown batch dims and known signal dims gives the exact symbolic
    shape (no call is traced); unknown signal dims are a ValueError naming the input shape."""
    for name, kwargs, shape, _ in LAYERS.values():
        layer = getattr(layers, name)(**kwargs)
        expected = numpy_reference(name, kwargs, np.zeros((1,) + shape)).shape[1:]
        y = layer(keras.Input((None,) + shape))
        assert tuple(y.shape) == (None, None) + expected, (name, y.shape)
        assert keras.backend.standardize_dtype(y.dtype) == "float32"
        unknown = (None,) * len(shape)
        try:
            getattr(layers, name)(**kwargs)(keras.Input(unknown))
        except ValueError as error:
            assert "last" in str(error) and "known" in str(error), error
        else:
            raise AssertionError(f"{name}: an unknown signal shape was accepted")


def make_model(keras, layers, name, kwargs, shape):
    """Input -> Dense on the last axis (trainable, before the scattering: gradients must flow
    through it) -> scattering -> Flatten -> Dense."""
    inputs = keras.Input(shape)
    h = keras.layers.Dense(shape[-1], name="front")(inputs)
    h = getattr(layers, name)(**kwargs)(h)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(h))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    return model


def check_fit_one_step(keras, layers):
    """A functional model fits one step; the Dense before the layer gets finite, non-zero
    gradients through the scattering; the layer holds no weights."""
    rng = np.random.default_rng(3)
    for name, kwargs, shape, _ in LAYERS.values():
        model = make_model(keras, layers, name, kwargs, shape)
        scattering = model.layers[2]
        assert scattering.weights == [] and scattering.trainable_weights == []
        x = rng.standard_normal((4,) + shape).astype(np.float32)
        y = rng.standard_normal((4, 2)).astype(np.float32)
        before = keras.ops.convert_to_numpy(model.get_layer("front").kernel).copy()
        history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        after = keras.ops.convert_to_numpy(model.get_layer("front").kernel)
        assert np.isfinite(history.history["loss"][0]), name
        assert np.all(np.isfinite(after)) and not np.array_equal(before, after), name
        assert model.predict(x, verbose=0).shape == (4, 2)


def expect_error(kind, words, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except kind as error:
        assert all(w in str(error) for w in words), (words, str(error))
    else:
        raise AssertionError(f"no {kind.__name__} for {args} {kwargs}")


def check_argument_errors(keras, layers):
    """Shape-free arguments are checked in __init__, the rest in build; errors name them."""
    S1, S2, S3 = layers.Scattering1D, layers.Scattering2D, layers.HarmonicScattering3D
    expect_error(ValueError, ["J"], S1, J=-1)
    expect_error(TypeError, ["J"], S2, J=1.5)
    expect_error(ValueError, ["Q"], S1, J=2, Q=0)
    expect_error(ValueError, ["T=0", "list"], S1, J=2, T=0)
    expect_error(ValueError, ["T=0"], S1, J=2, average=False)
    expect_error(ValueError, ["average=False", "Keras layers", "out_type='list'"], S2, J=2,
                 average=False)
    expect_error(ValueError, ["average=False", "Keras layers"], S3, J=1, average=False)
    expect_error(ValueError, ["T"], S1, J=2, T=-4)
    expect_error(ValueError, ["max_order"], S1, J=2, max_order=3)
    expect_error(ValueError, ["kymatio_compat"], S1, J=2, kymatio_compat="0.2")
    expect_error(ValueError, ["L"], S2, J=2, L=0)
    expect_error(TypeError, ["pre_pad"], S2, J=2, pre_pad=1)
    expect_error(ValueError, ["sigma_0"], S3, J=1, sigma_0=-1)
    expect_error(ValueError, ["integral_powers"], S3, J=1, integral_powers=())
    expect_error(ValueError, ["method"], S3, J=1, method="standard")
    expect_error(ValueError, ["stride"], S1, J=2, stride=3)
    S4 = layers.TimeFrequencyScattering
    expect_error(ValueError, ["F=0", "joint"], S4, J=3, J_fr=2, Q=4, F=0, format="joint")
    expect_error(ValueError, ["format"], S4, J=3, J_fr=2, Q=4, format="frequency")
    expect_error(ValueError, ["J_fr"], S4, J=3, J_fr=-1, Q=4)
    # shape-dependent checks happen in build and say which input shape
    expect_error(ValueError, ["J must satisfy", "(2, 8, 8)"], S2(J=4), np.zeros((2, 8, 8), "float32"))
    expect_error(ValueError, ["T", "N=64"], S1(J=2, T=128), np.zeros((2, 64), "float32"))
    expect_error(ValueError, ["pre_pad", "multiples of 2**J"], S2(J=2, pre_pad=True),
                 np.zeros((2, 18, 24), "float32"))
    expect_error(ValueError, ["built for inputs of shape (..., 8, 8)"], _call_twice, S2(J=1), (8, 8), (8, 10))


def check_kymatio_arguments(keras, layers):
    """Kymatio's Keras code: NumPy scalars and 0-d arrays taken (and plain in the config), its
    error types and phrases; a parameter set after construction is checked, and refused once
    the layer is built; a config through JSON (lists for tuples) rebuilds the layer."""
    S1, S2 = layers.Scattering1D, layers.Scattering2D
    layer = S2(J=np.array(1), L=np.int64(2), pre_pad=np.bool_(False))
    x = np.random.default_rng(5).standard_normal((2, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)),
                               keras.ops.convert_to_numpy(S2(J=1, L=2)(x)))
    assert json.loads(json.dumps(layer.get_config()))["J"] == 1
    expect_error(ValueError, ["Q must be an integer or a tuple"], S1, J=2, Q=[8])
    expect_error(ValueError, ["Q should always be >= 1"], S1, J=2, Q=0.9)
    layer = S1(J=3, Q=(4, 2))
    clone = S1.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.Q == (4, 2)
    expect_error(ValueError, ["max_order"], setattr, layer, "max_order", 3)
    layer.max_order = 1
    signal = np.zeros((1, 128), np.float32)
    assert tuple(layer(signal).shape) == (1, 1 + len(layer.scattering.core.xi1), 16)
    expect_error(AttributeError, ["built"], setattr, layer, "max_order", 2)
    assert layer.max_order == 1
    expect_error(RuntimeError, ["built for inputs of shape"], _call_twice, S2(J=1), (8, 8),
                 (8, 10))


def _call_twice(layer, first, second):
    layer(np.zeros((1,) + first, "float32"))
    layer(np.zeros((1,) + second, "float32"))


def check_unsupported_backend(keras, layers):
    """On another Keras backend (numpy, openvino), making a layer raises a RuntimeError naming
    the supported backends (simulated: openvino is not installed)."""
    for other in ("numpy", "openvino"):
        with mock.patch.object(keras.backend, "backend", return_value=other):
            for name in layers.__all__:
                required = {p: 1 for p in registry.get(name).required()}
                expect_error(RuntimeError, [repr(other), "'tensorflow'", "'torch'", "'jax'"],
                             getattr(layers, name), **required)


FRAMEWORKS_KERAS_IMPORTS = set()  # frameworks `import keras` itself loaded (jax, where installed)


def check_imports(keras, layers):
    """The layers imported no framework beyond the active Keras backend's and those Keras
    itself imports."""
    others = {"tensorflow", "torch", "jax"} - {keras.backend.backend()} - FRAMEWORKS_KERAS_IMPORTS
    imported = sorted(others & set(sys.modules))
    assert not imported, f"{imported} imported"


def check_save_load(keras, layers):
    """model.save(.keras) + load_model: same config, identical predictions; no weights stored
    for the scattering layer."""
    rng = np.random.default_rng(4)
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs, shape, _ in LAYERS.values():
            model = make_model(keras, layers, name, kwargs, shape)
            x = rng.standard_normal((3,) + shape).astype(np.float32)
            model.fit(x, rng.standard_normal((3, 2)).astype(np.float32), epochs=1, verbose=0)
            path = Path(tmp) / f"{name}.keras"
            model.save(path)
            loaded = keras.saving.load_model(path)
            assert type(loaded.layers[2]) is type(model.layers[2])
            assert loaded.layers[2].get_config() == model.layers[2].get_config()
            np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # every constructor argument is in the config, JSON-ready, and rebuilds the same layer
    for name, kwargs, shape in SHAPE_CONFIGS:
        layer = getattr(layers, name)(**kwargs)
        config = json.loads(json.dumps(layer.get_config()))
        clone = type(layer).from_config(config)
        x = rng.standard_normal((1,) + shape).astype(np.float32)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x)),
                                      keras.ops.convert_to_numpy(layer(x)))
        arguments = [p for p in inspect.signature(type(layer).__init__).parameters
                     if p not in ("self", "kwargs")]
        assert set(arguments) <= set(config), (name, set(arguments) - set(config))


def check_nan_policy_mask(keras, layers):
    """nan_policy="mask" (1D, 2D, JTFS): NaN where scatflow.numpy's is, the rest within 1e-5 of
    its maximum; in the config (a saved layer masks too); 3D refuses it."""
    rng = np.random.default_rng(2)
    for key in ("1d", "2d", "jtfs"):
        name, kwargs, shape, _ = LAYERS[key]
        kwargs = dict(kwargs, nan_policy="mask", min_valid=0.6)
        x = rng.standard_normal((2,) + shape).astype(np.float32)
        x[(0,) + tuple(slice(n // 4, n // 2) for n in shape)] = np.nan
        layer = getattr(layers, name)(**kwargs)
        out = keras.ops.convert_to_numpy(layer(x))
        expected = numpy_reference(name, kwargs, x)
        missing = np.isnan(expected)
        assert missing.any() and np.array_equal(np.isnan(out), missing), name
        assert np.max(np.abs(out - expected)[~missing]) <= 1e-5 * np.nanmax(np.abs(expected))
        assert layer.get_config()["nan_policy"] == "mask"
    expect_error(ValueError, ["nan_policy='mask' is not available"], layers.HarmonicScattering3D,
                 J=1, L=1, nan_policy="mask")


def main(target):
    import keras

    FRAMEWORKS_KERAS_IMPORTS.update({"tensorflow", "torch", "jax"} & set(sys.modules))
    import scatflow.keras as layers

    results = {}
    for name in CHECKS:
        try:
            globals()[f"check_{name}"](keras, layers)
            results[name] = "ok"
        except Exception:
            results[name] = traceback.format_exc()
    Path(target).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
