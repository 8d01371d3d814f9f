"""scatflow.tensorflow: tf.Module frontends equal to scatflow.numpy, eagerly and in tf.function
(also with unknown batch dims), with finite, correct gradients, filters made once per dtype."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import scatflow.numpy as snp  # noqa: E402
import scatflow.tensorflow as stf  # noqa: E402
from reference import transform_error as error  # noqa: E402

# small configurations of each transform: (name, kwargs, shape)
CONFIGS = {
    "1d": ("Scattering1D", dict(J=4, shape=(512,), Q=(4, 2), T=32), (512,)),
    "2d": ("Scattering2D", dict(J=2, shape=(24, 32), L=4), (24, 32)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(12, 12, 12), L=2), (12, 12, 12)),
}
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def make(kind, module, **extra):
    name, kwargs, _ = CONFIGS[kind]
    return getattr(module, name)(**(kwargs | extra))


def signal(kind, batch=(2,), seed=0):
    return np.random.default_rng(seed).standard_normal(batch + CONFIGS[kind][2])


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("mode", ["eager", "function", "unknown-batch"])
def test_matches_numpy(kind, dtype, mode):
    x = signal(kind).astype(dtype)
    ref = make(kind, snp)(x)
    S = make(kind, stf)
    if mode == "eager":
        run = S
    elif mode == "function":
        run = tf.function(S)
    else:
        spec = tf.TensorSpec([None, *x.shape[1:]], tf.as_dtype(dtype))
        run = tf.function(S, input_signature=[spec])
        traced = run.get_concrete_function().structured_outputs
        assert traced.shape.as_list() == [None, *ref.shape[1:]]
    out = run(tf.constant(x))
    assert isinstance(out, tf.Tensor) and out.dtype == tf.as_dtype(dtype)
    assert tuple(out.shape) == ref.shape
    assert error(out.numpy(), ref, kind) <= TOLERANCE[dtype]


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_several_unknown_batch_dims(kind):
    x = signal(kind, batch=(2, 3))
    ref = make(kind, snp)(x)
    S = make(kind, stf)
    spec = tf.TensorSpec([None, None, *x.shape[2:]], tf.float64)
    out = tf.function(S, input_signature=[spec])(tf.constant(x))
    assert tuple(out.shape) == ref.shape
    assert error(out.numpy(), ref, kind, batch_ndim=2) <= 1e-12
    # and in the list / dict formats, each coefficient gets its batch dims back
    items = tf.function(make(kind, stf, out_type="list"), input_signature=[spec])(tf.constant(x))
    expected = make(kind, snp, out_type="list")(x)
    assert [tuple(i["coef"].shape) for i in items] == [i["coef"].shape for i in expected]


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("out_type", ["list", "dict"])
def test_list_and_dict_outputs(kind, out_type):
    x = signal(kind)
    ref = make(kind, snp, out_type=out_type)(x)
    out = tf.function(make(kind, stf, out_type=out_type))(tf.constant(x))
    assert type(out) is type(ref) and len(out) == len(ref)
    if out_type == "dict":
        assert list(out) == list(ref)
        pairs = [(out[k], ref[k]) for k in ref]
    else:
        for ours, theirs in zip(out, ref):
            assert {k: v for k, v in ours.items() if k != "coef"} == \
                   {k: v for k, v in theirs.items() if k != "coef"}
        pairs = [(o["coef"], r["coef"]) for o, r in zip(out, ref)]
    for ours, theirs in pairs:
        assert isinstance(ours, tf.Tensor)
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-12, atol=1e-12 * np.abs(theirs).max())


def test_1d_without_averaging_gives_lists_of_tensors():
    x = np.random.default_rng(1).standard_normal((2, 256))
    kwargs = dict(J=3, shape=256, Q=1, T=0, out_type="dict")
    ref = snp.Scattering1D(**kwargs)(x)
    out = stf.Scattering1D(**kwargs)(tf.constant(x))
    assert list(out) == list(ref)
    for key in ref:
        np.testing.assert_allclose(out[key].numpy(), ref[key], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="out_type"):
        stf.Scattering1D(J=3, shape=256, T=0)


def test_numpy_input_is_accepted_and_gives_tensors():
    """Kymatio's TF frontend accepts NumPy input; so does this one (tf.convert_to_tensor)."""
    S = make("2d", stf)
    x = signal("2d")
    out = S(x)
    assert isinstance(out, tf.Tensor) and out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), make("2d", snp)(x), rtol=1e-12, atol=1e-14)
    assert S(x.astype(np.float32)).dtype == tf.float32
    assert S(x.astype(">f8")).dtype == tf.float64  # big-endian: converted, float64
    assert S(np.ones((24, 32), dtype=np.int32)).dtype == tf.float64  # integers: float64
    assert S(tf.ones((24, 32), dtype=tf.int32)).dtype == tf.float64
    assert S(tf.ones((24, 32), dtype=tf.bfloat16)).dtype == tf.float32


def test_input_errors():
    S = make("2d", stf)
    with pytest.raises(TypeError, match="tf.Tensor, tf.Variable or NumPy array"):
        S("not an array")
    with pytest.raises(TypeError, match="complex"):
        S(tf.complex(tf.ones((24, 32)), tf.ones((24, 32))))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 24, 32\)"):
        S(tf.ones((2, 32, 24)))
    with pytest.raises(ValueError, match="backend must be one of"):
        stf.Scattering2D(J=2, shape=(24, 32), backend="numpy")
    with pytest.raises(ValueError, match="J must satisfy"):
        stf.Scattering2D(J=6, shape=(24, 32))
    # an unknown trailing dim cannot be checked: refused at trace time, naming the shape
    unknown = tf.function(S, input_signature=[tf.TensorSpec([None, 24, None], tf.float32)])
    with pytest.raises(ValueError, match="x must have shape"):
        unknown.get_concrete_function()


def test_kymatios_error_types_survive_tf_function():
    """A wrong input is a RuntimeError (Kymatio) and a ValueError (scatflow), also raised from
    a tf.function trace (AutoGraph keeps exception types it can rebuild)."""
    S = stf.Scattering2D(J=2, shape=(24, 32), L=4)
    with pytest.raises(RuntimeError, match="Tensor must be of spatial size") as error:
        tf.function(S)(tf.zeros((2, 24, 30)))
    assert isinstance(error.value, ValueError)
    with pytest.raises(RuntimeError, match="at least two dimensions"):
        S(np.zeros(32))
    with pytest.raises(TypeError, match="input should be"):
        S(None)


def test_parameters_set_after_construction_rederive_the_module():
    x = np.random.default_rng(3).standard_normal((2, 256))
    S = stf.Scattering1D(J=4, shape=256, Q=(4, 2))
    S.max_order = 1
    S.Q = 2
    expected = snp.Scattering1D(J=4, shape=256, Q=2, max_order=1)(x)
    np.testing.assert_allclose(S(x).numpy(), expected, rtol=1e-12, atol=1e-12)
    assert S.Q == (2, 1) and S.parameters()["Q"] == 2 and S.variables == ()


def test_module_holds_no_variables_and_keeps_attributes_as_given():
    S = stf.Scattering1D(J=3, shape=[256], Q=(4, 2))
    S(tf.zeros((1, 256)))
    S(tf.zeros((1, 256), dtype=tf.float64))
    assert S.variables == () and S.trainable_variables == () and S.submodules == ()
    assert type(S.Q) is tuple and type(S.shape) is list  # not tf.Module tracking wrappers
    assert type(S._converted_filters) is dict
    assert repr(S).startswith("Scattering1D(J=3, shape=[256], Q=(4, 2)")
    assert S.name == "Scattering1D"
    assert stf.Scattering2D(J=1, shape=(8, 8), name="scat").name == "scat"
    assert isinstance(S, tf.Module)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_filters_converted_once_per_dtype_and_reused_across_traces(kind):
    S = make(kind, stf)
    x = signal(kind)
    traced = tf.function(S)  # first conversion inside a trace: the constants must be eager
    first = traced(tf.constant(x, tf.float32))
    cached = dict(S._converted_filters)
    assert len(cached) == 1
    leaves = tf.nest.flatten(next(iter(cached.values())))
    tensors = [t for t in leaves if isinstance(t, tf.Tensor)]
    assert tensors and all(t.dtype.is_complex and hasattr(t, "numpy") for t in tensors)
    eager = S(tf.constant(x, tf.float32)).numpy()  # graph and eager kernels may round differently
    np.testing.assert_allclose(eager, first.numpy(), rtol=1e-5, atol=1e-5 * np.abs(eager).max())
    tf.function(S)(tf.constant(x[:1], tf.float32))  # another trace, same constants
    assert S._converted_filters.keys() == cached.keys()
    assert all(S._converted_filters[k] is cached[k] for k in cached)
    S(tf.constant(x))  # float64: a second bank
    assert len(S._converted_filters) == 2


TINY = {
    "1d": ("Scattering1D", dict(J=2, shape=(64,), Q=(2, 1), T=4), (64,)),
    "2d": ("Scattering2D", dict(J=1, shape=(8, 8), L=2), (8, 8)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(6, 6, 6), L=1), (6, 6, 6)),
}


def tiny(kind):
    name, kwargs, shape = TINY[kind]
    return getattr(stf, name)(**kwargs), shape


@pytest.mark.parametrize("kind", sorted(TINY))
def test_gradient_matches_central_difference(kind):
    """The tape's gradient of a random projection of S(x), along random directions, equals a
    central difference in float64."""
    S, shape = tiny(kind)
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((2,) + shape))
    weights = tf.constant(rng.standard_normal(tuple(S(x).shape)))

    def f(v):
        return tf.reduce_sum(weights * S(v))

    with tf.GradientTape() as tape:
        tape.watch(x)
        value = f(x)
    grad = tape.gradient(value, x).numpy()
    assert np.all(np.isfinite(grad))
    h = 1e-6
    for _ in range(3):
        d = rng.standard_normal(x.shape)
        numeric = (f(x + h * d) - f(x - h * d)).numpy() / (2 * h)
        analytic = np.sum(grad * d)
        assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(analytic))


@pytest.mark.parametrize("kind", sorted(TINY))
def test_gradient_finite_with_exact_zeros(kind):
    """Inputs that are exactly zero (everywhere, or on half the samples), in a tf.function with
    an unknown batch, give finite gradients (|z| and z**p at z = 0)."""
    S, shape = tiny(kind)
    half = np.random.default_rng(4).standard_normal((1,) + shape)
    half.reshape(-1)[::2] = 0
    spec = tf.TensorSpec([None, *shape], tf.float32)

    @tf.function(input_signature=[spec])
    def grad(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            value = tf.reduce_sum(S(v))
        return tape.gradient(value, v)

    for x in (np.zeros((2,) + shape), half):
        g = grad(tf.constant(x, tf.float32)).numpy()
        assert g.shape == x.shape and np.all(np.isfinite(g))


def test_gradient_with_respect_to_a_variable():
    S, shape = tiny("2d")
    v = tf.Variable(np.random.default_rng(5).standard_normal((1,) + shape))
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(S(v))
    g = tape.gradient(value, v)
    assert g is not None and np.all(np.isfinite(g.numpy()))


def test_saved_model_round_trip(tmp_path):
    """A module holding a frontend, with a tf.function of unknown batch, saves and loads."""

    class Model(tf.Module):
        def __init__(self):
            super().__init__()
            self.scattering = make("2d", stf)

        @tf.function(input_signature=[tf.TensorSpec([None, 24, 32], tf.float32)])
        def __call__(self, x):
            return self.scattering(x)

    model = Model()
    x = tf.constant(signal("2d"), tf.float32)
    tf.saved_model.save(model, str(tmp_path / "model"))
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
