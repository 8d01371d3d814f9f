"""scatflow.jax: transforms on JAX arrays equal to scatflow.numpy, eagerly and under `jax.jit`
(traced once per shape, the filters constants), with finite, correct gradients (also at exact
zeros), `jax.vmap` giving the batched result, float64 with `jax_enable_x64` only."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy
from jax.extend.core import Jaxpr  # noqa: E402

import scatflow  # noqa: E402
import scatflow.tuning  # noqa: E402
import scatflow.jax as sjax  # noqa: E402
import scatflow.numpy as snp  # noqa: E402
from reference import transform_error as error  # noqa: E402

# small configurations of each transform: (name, kwargs, shape)
CONFIGS = {
    "1d": ("Scattering1D", dict(J=4, shape=(512,), Q=(4, 2), T=32), (512,)),
    "2d": ("Scattering2D", dict(J=2, shape=(24, 32), L=4), (24, 32)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(12, 12, 12), L=2), (12, 12, 12)),
    "jtfs": ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=(4, 2), shape=(256,),
                                             format="joint"), (256,)),
}
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]
# tiny configurations, for gradients and compiled programs
TINY = {
    "1d": ("Scattering1D", dict(J=2, shape=(64,), Q=(2, 1), T=4), (64,)),
    "2d": ("Scattering2D", dict(J=1, shape=(8, 8), L=2), (8, 8)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(6, 6, 6), L=1), (6, 6, 6)),
    "3d-p0.5": ("HarmonicScattering3D", dict(J=1, shape=(6, 6, 6), L=1,
                                             integral_powers=(0.5,)), (6, 6, 6)),
    "jtfs": ("TimeFrequencyScattering", dict(J=3, J_fr=1, Q=(2, 1), shape=(64,), T=8, F=2,
                                             format="joint"), (64,)),
}


def tiny(kind):
    name, kwargs, shape = TINY[kind]
    return getattr(sjax, name)(**kwargs), shape


def make(kind, module, **extra):
    name, kwargs, _ = CONFIGS[kind]
    return getattr(module, name)(**(kwargs | extra))


def signal(kind, batch=(2,), seed=0):
    return np.random.default_rng(seed).standard_normal(batch + CONFIGS[kind][2])


def precision(dtype):
    """float64 needs jax_enable_x64: on for float64, off (JAX's default) for float32."""
    return jax.enable_x64(dtype == np.float64)


MODES = [(mode, kind) for kind in sorted(CONFIGS) for mode in ("jit", "eager")]


@pytest.mark.parametrize("mode, kind", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_matches_numpy(kind, dtype, mode):
    x = signal(kind).astype(dtype)
    ref = make(kind, snp)(x)
    S = make(kind, sjax)
    with precision(dtype):
        run = jax.jit(S) if mode == "jit" else S
        out = run(jnp.asarray(x))
        assert isinstance(out, jax.Array) and out.dtype == dtype
    assert tuple(out.shape) == ref.shape
    assert error(out, ref, kind) <= TOLERANCE[dtype]


def test_float64_without_x64_computes_in_float32():
    """Without jax_enable_x64 JAX has no float64: NumPy float64 input computes in float32."""
    x = signal("2d")
    with jax.enable_x64(False):
        out = make("2d", sjax)(x)
    assert out.dtype == jnp.float32
    assert error(out, make("2d", snp)(x), "2d") <= TOLERANCE[np.float32]


def test_input_dtypes():
    """NumPy input is accepted (as jit arguments are); integers compute in float64 (with x64),
    bfloat16 in float32."""
    S = make("2d", sjax)
    x = signal("2d")
    with jax.enable_x64(True):
        out = S(x)
        assert isinstance(out, jax.Array) and out.dtype == jnp.float64
        np.testing.assert_allclose(out, make("2d", snp)(x), rtol=1e-12, atol=1e-14)
        assert S(x.astype(">f8")).dtype == jnp.float64
        assert S(np.ones((24, 32), dtype=np.int32)).dtype == jnp.float64
        assert S(jnp.ones((24, 32), dtype=jnp.int32)).dtype == jnp.float64
        assert S(jnp.ones((24, 32), dtype=jnp.bfloat16)).dtype == jnp.float32
        assert S(x.tolist()).dtype == jnp.float64


@pytest.mark.parametrize("kind", ["1d", "2d", "3d", "jtfs"])
def test_jit_traces_once_per_shape_with_the_filters_as_constants(kind):
    """A jit of a function calling S traces once per input shape; the filters it converted
    inside the trace are concrete arrays (no tracer outlives its trace), reused by later
    traces."""
    S, shape = tiny(kind)
    traces = []

    @jax.jit
    def loss(v):
        traces.append(v.shape)
        return jnp.sum(S(v) ** 2)

    x = np.random.default_rng(0).standard_normal((3,) + shape).astype(np.float32)
    first = loss(x)
    loss(x + 1)
    loss(x[:2])
    loss(x[:2] * 2)
    assert traces == [x.shape, x[:2].shape]
    leaves = jax.tree_util.tree_leaves(S._converted_filters)
    arrays = [a for a in leaves if isinstance(a, jax.Array)]
    assert arrays and not any(isinstance(a, jax.core.Tracer) for a in arrays)
    cached = {key: id(bank) for key, bank in S._converted_filters.items()}
    jaxpr = jax.make_jaxpr(S)(x)
    assert len(jaxpr.in_avals) == 1  # the input only: the filters are constants
    assert {key: id(bank) for key, bank in S._converted_filters.items()} == cached
    reference = getattr(snp, TINY[kind][0])(**TINY[kind][1])(x)
    np.testing.assert_allclose(first, np.sum(reference.astype(np.float64) ** 2), rtol=1e-5)


def test_eager_calls_compile_once_per_shape_and_dtype():
    """S(x) outside any trace runs one compiled program: compiled on the first call of each
    input shape and dtype, reused after (not op by op), and compiled again when a parameter
    assigned after construction changes the transform."""
    S, shape = tiny("2d")
    x = np.random.default_rng(0).standard_normal((3,) + shape).astype(np.float32)
    for v in (x, x + 1, x[:2], x[:2] * 2, x.astype(np.int32)):  # int32: float32 without x64
        S(v)
    with jax.enable_x64(True):
        S(x.astype(np.float64))
    compiled = S._compiled[1]
    assert compiled._cache_size() == 3
    S.max_order = 1
    out = S(x)
    assert S._compiled[1] is not compiled and S._compiled[1]._cache_size() == 1
    np.testing.assert_allclose(out, snp.Scattering2D(**TINY["2d"][1], max_order=1)(x),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_the_batch_is_one_program_not_a_loop(kind, monkeypatch):
    """The traced program does not grow with the batch: no Python loop over its elements or
    over batch chunks (3D chunks the batch on the other backends; here even with a working set
    of one byte). The filters are grouped by working-set size, which stops changing once a
    group is one filter: the programs for 1024 and 4096 signals are the same size (a loop
    over groups of signals would make the second about 4 times the first)."""
    monkeypatch.setattr(scatflow.tuning, "HARMONIC3D_WORKING_BYTES", 1)
    S = make(kind, sjax)
    shape = CONFIGS[kind][2]
    sizes = {equations(jax.make_jaxpr(S)(jax.ShapeDtypeStruct((n,) + shape, jnp.float32)).jaxpr)
             for n in (1024, 4096)}
    assert len(sizes) == 1 and min(sizes) > 100, sizes


def equations(jaxpr):
    """The number of equations of a jaxpr, those of the jaxprs it calls (`jit`) included."""
    count = 0
    for eqn in jaxpr.eqns:
        count += 1
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", value)
            if isinstance(inner, Jaxpr):
                count += equations(inner)
    return count


@pytest.mark.parametrize("kind", ["1d", "2d", "3d", "jtfs"])
def test_vmap_gives_the_batched_result(kind):
    """vmap over a leading axis (of single signals, or of batches) gives S's batched output."""
    S, shape = tiny(kind)
    x = np.random.default_rng(1).standard_normal((3, 2) + shape).astype(np.float32)
    batched = getattr(snp, TINY[kind][0])(**TINY[kind][1])(x)
    tolerance = dict(rtol=1e-5, atol=1e-5 * np.abs(batched).max())
    mapped = jax.jit(jax.vmap(S))(x)
    assert mapped.shape == batched.shape
    np.testing.assert_allclose(mapped, batched, **tolerance)
    np.testing.assert_allclose(jax.jit(jax.vmap(S))(x[:, 0]), batched[:, 0], **tolerance)


@pytest.mark.parametrize("kind", sorted(TINY))
def test_gradient_matches_central_difference(kind):
    """jax.grad of a random projection of S(x), along random directions, equals a central
    difference in float64."""
    S, shape = tiny(kind)
    rng = np.random.default_rng(3)
    with jax.enable_x64(True):
        x = jnp.asarray(rng.standard_normal((2,) + shape))
        weights = jnp.asarray(rng.standard_normal(S(x).shape))

        def f(v):
            return jnp.sum(weights * S(v))

        grad = np.asarray(jax.jit(jax.grad(f))(x))
        assert np.all(np.isfinite(grad))
        h = 1e-6
        for _ in range(3):
            d = rng.standard_normal(x.shape)
            numeric = float(f(x + h * d) - f(x - h * d)) / (2 * h)
            analytic = float(np.sum(grad * d))
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(analytic))


@pytest.mark.parametrize("kind", sorted(TINY))
def test_gradient_finite_with_exact_zeros(kind):
    """Inputs that are exactly zero (everywhere, or on half the samples) give finite gradients
    under jit (|z|, the 3D modulus over rotations sqrt(sum |z_m|^2) and z**p at z = 0)."""
    S, shape = tiny(kind)
    half = np.random.default_rng(4).standard_normal((1,) + shape)
    half.reshape(-1)[::2] = 0
    grad = jax.jit(jax.grad(lambda v: jnp.sum(S(v))))
    for x in (np.zeros((2,) + shape), half):
        g = np.asarray(grad(jnp.asarray(x, dtype=jnp.float32)))
        assert g.shape == x.shape and np.all(np.isfinite(g))


@pytest.mark.parametrize("out_type", ["list", "dict"])
def test_list_and_dict_outputs(out_type):
    x = signal("2d").astype(np.float32)
    ref = make("2d", snp, out_type=out_type)(x)
    out = make("2d", sjax, out_type=out_type)(jnp.asarray(x))
    items = (zip(out.values(), ref.values()) if out_type == "dict"
             else ((o["coef"], r["coef"]) for o, r in zip(out, ref)))
    for ours, theirs in items:
        assert isinstance(ours, jax.Array)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * np.abs(theirs).max())
    if out_type == "dict":  # a pytree of arrays: jit returns it (with its keys sorted)
        jitted = jax.jit(make("2d", sjax, out_type="dict"))(jnp.asarray(x))
        assert sorted(jitted) == sorted(out)
        for key, value in jitted.items():
            np.testing.assert_allclose(value, out[key], rtol=1e-5, atol=1e-6)


def test_output_on_the_input_device():
    x = jax.device_put(jnp.asarray(signal("2d"), dtype=jnp.float32), jax.devices()[-1])
    assert make("2d", sjax)(x).devices() == x.devices()


def test_input_errors():
    S = make("2d", sjax)
    with pytest.raises(TypeError, match="JAX array"):
        S("not an array")
    with pytest.raises(TypeError, match="complex"):
        S(jnp.ones((24, 32), dtype=jnp.complex64))
    with pytest.raises(RuntimeError, match=r"x must have shape \(\.\.\., 24, 32\)") as error:
        jax.jit(S)(jnp.ones((2, 32, 24)))
    assert isinstance(error.value, ValueError)
    with pytest.raises(ValueError, match="backend must be one of"):
        sjax.Scattering2D(J=2, shape=(24, 32), backend="numpy")
    with pytest.raises(ValueError, match="J must satisfy"):
        sjax.Scattering2D(J=6, shape=(24, 32))


def test_kymatio_import_path_and_entry_class():
    from scatflow.jax import Scattering2D

    S = scatflow.Scattering2D(J=2, shape=(16, 16), L=4, frontend="jax")
    assert type(S) is Scattering2D
    assert type(scatflow.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, frontend="jax")) \
        is sjax.HarmonicScattering3D
    x = signal("2d")[:, :16, :16].astype(np.float32)
    np.testing.assert_allclose(S(x), snp.Scattering2D(J=2, shape=(16, 16), L=4)(x),
                               rtol=1e-5, atol=1e-5)
