"""nan_policy="mask" (NaN samples as missing data, `scatflow.core.masking`): without NaN it is
"propagate" bit for bit; coefficients whose filters never reach a missing sample equal the
complete field's; NaN exactly where the low-passed valid fraction W is under min_valid; the
other values are (phi * U[x m]) / W; every frontend takes it; bad values and the transforms
that cannot mask are refused, naming the parameter."""

import numpy as np
import pytest

import scatflow.numpy as snp
from scatflow.backends.base import padded_positions
from scatflow.dask import halo_size

# (class name, kwargs, signal shape): averaged outputs of every transform with a low-pass
CONFIGS = {
    "2d": ("Scattering2D", dict(J=2, L=4), (32, 40)),
    "2d-local": ("Scattering2D", dict(J=2, L=4, filter_levels="local"), (32, 40)),
    "1d": ("Scattering1D", dict(J=4, Q=(4, 1)), (256,)),
    "1d-stride": ("Scattering1D", dict(J=4, Q=(2, 1), T=32, stride=4), (256,)),
    "1d-global": ("Scattering1D", dict(J=4, Q=(2, 1), T="global"), (256,)),
    "1d-0.3": ("Scattering1D", dict(J=4, Q=(2, 1), kymatio_compat="0.3", oversampling=1),
               (256,)),
    "jtfs": ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=(4, 1)), (256,)),
    "jtfs-joint": ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=(4, 1), format="joint"),
                   (256,)),
    "jtfs-global": ("TimeFrequencyScattering", dict(J=4, J_fr=2, Q=(4, 1), T="global"),
                    (256,)),
}


def make(kind, module=snp, **extra):
    name, kwargs, shape = CONFIGS[kind]
    return getattr(module, name)(shape=shape, **dict(kwargs, **extra))


def signals(kind, batch=3, seed=0):
    return np.random.default_rng(seed).standard_normal((batch,) + CONFIGS[kind][2])


def with_hole(x, fraction_of_batch=1):
    """x with a block of NaN in its first signal, about a third of each axis wide, off centre."""
    x = x.copy()
    box = tuple(slice(n // 5, n // 5 + max(1, n // 3)) for n in x.shape[1:])
    x[(0,) + box] = np.nan
    return x


def paths_of(out):
    """The per-path arrays of an array / list / dict output."""
    if isinstance(out, dict):
        return list(out.values())
    if isinstance(out, list):
        return [item["coef"] for item in out]
    return [out[:, i] for i in range(out.shape[1])]


# -- without NaN: "propagate" exactly ------------------------------------------------------
@pytest.mark.parametrize("out_type", ["array", "list", "dict"])
@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_mask_without_nan_is_propagate_exactly(kind, out_type):
    for dtype in (np.float64, np.float32):
        x = signals(kind).astype(dtype)
        plain = paths_of(make(kind, out_type=out_type)(x))
        masked = paths_of(make(kind, out_type=out_type, nan_policy="mask")(x))
        assert len(plain) == len(masked)
        for a, b in zip(plain, masked):
            assert a.dtype == b.dtype and np.array_equal(a, b)


# -- the definition ------------------------------------------------------------------------
def weight(kind, x):
    """W = (phi * m) / (phi * 1), from the order-0 output of the unmasked transform (time
    format for JTFS: a joint array leaves order 0 out)."""
    extra = {"format": "time"} if kind == "jtfs-joint" else {}
    S = make(kind, **extra)
    valid = (~np.isnan(x)).astype(float)
    return S(valid)[:, 0] / S(np.ones_like(valid))[:, 0]


@pytest.mark.parametrize("min_valid", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_masked_values_are_the_normalized_convolution(kind, min_valid):
    """NaN exactly where W < min_valid (every channel alike); elsewhere the coefficient is the
    zero-filled signal's divided by W; signals without NaN are untouched."""
    x = with_hole(signals(kind))
    out = make(kind, nan_policy="mask", min_valid=min_valid)(x)
    filled = make(kind)(np.nan_to_num(x, nan=0.0))
    W = weight(kind, x)
    W = W.reshape(W.shape[:1] + (1,) * (out.ndim - W.ndim) + W.shape[1:])
    W = np.broadcast_to(W, out.shape)
    dropped = W < min_valid
    assert np.array_equal(np.isnan(out), dropped)
    assert np.array_equal(out[1:], make(kind)(x[1:]))
    np.testing.assert_allclose(out[~dropped], (filled / W)[~dropped], rtol=1e-10, atol=1e-14)
    if "global" not in kind and min_valid >= 0.5:  # (a global average: all or nothing)
        assert dropped[0].any() and not dropped[0].all()


def test_more_missing_data_drops_more_coefficients():
    x = with_hole(signals("2d"))
    dropped = [np.isnan(make("2d", nan_policy="mask", min_valid=m)(x)).sum()
               for m in (0.1, 0.5, 0.9, 1.0)]
    assert dropped == sorted(dropped) and dropped[0] < dropped[-1]


def untouched(core, halo, shape, missing):
    """Per output sample (an array of the output grid's shape): whether its filters' supports
    (`halo` input samples on each side, per axis) reach no missing sample, through the core's
    reflect padding and the FFTs' circular wrap of the padded signal."""
    if hasattr(core, "pads"):
        before = [p[0] for p in core.pads]
    else:
        before = [core.pad_left]
    reach = []
    for axis, ((offset, step), n, padded, h) in enumerate(
            zip(core.output_grid, shape, core.padded_shape, halo)):
        rows = []
        for k in range(core.array_shape[-len(shape) + axis]):
            centre = offset + k * step + before[axis]
            window = [(centre + d) % padded - before[axis] for d in range(-h, h + 1)]
            rows.append(sorted(set(padded_positions(window, n))))
        reach.append(rows)
    missing_at = np.argwhere(missing)
    counts = [core.array_shape[-len(shape) + a] for a in range(len(shape))]
    clean = np.ones(counts, dtype=bool)
    for index in np.ndindex(*counts):
        for point in missing_at:
            if all(p in reach[a][i] for a, (i, p) in enumerate(zip(index, point))):
                clean[index] = False
                break
    return clean


@pytest.mark.parametrize("kind, shape, extra", [
    ("2d-local", (64, 96), {}),
    ("1d", (2048,), dict(J=4, Q=(2, 1))),
    ("jtfs", (2048,), dict(J=4, J_fr=2, Q=(2, 1))),
])
def test_coefficients_away_from_missing_data_equal_the_complete_fields(kind, shape, extra):
    """A coefficient whose wavelet and low-pass supports (1e-8 of their peak) touch no missing
    sample equals the transform of the complete field to 1e-6 of its channel's maximum.
    (2D with filter_levels="local": Kymatio's band-cut levels have tails across the image.)"""
    name, kwargs, _ = CONFIGS[kind]
    kwargs = dict(kwargs, **extra)
    complete = np.random.default_rng(1).standard_normal(shape)
    x = complete.copy()
    hole = tuple(slice(n // 2 - n // 16, n // 2 + n // 16) for n in shape)
    x[hole] = np.nan
    masked = getattr(snp, name)(shape=shape, nan_policy="mask", **kwargs)
    reference = getattr(snp, name)(shape=shape, **kwargs)(complete)
    clean = untouched(masked.core, halo_size(masked, epsilon=1e-8), shape, np.isnan(x))
    assert clean.any() and not clean.all()
    out = masked(x)
    scale = np.abs(reference).reshape(reference.shape[0], -1).max(axis=1)
    scale = np.maximum(scale, 1e-6 * scale.max())
    error = np.abs(out - reference)[:, clean] / scale[:, None]
    assert error.max() <= 1e-6, error.max()


# -- every frontend ------------------------------------------------------------------------
def _frontend(name):
    module = pytest.importorskip({"torch": "scatflow.torch", "tensorflow": "scatflow.tensorflow",
                                  "jax": "scatflow.jax"}[name])
    pytest.importorskip(name)
    return module


@pytest.mark.parametrize("kind", ["2d", "1d", "jtfs-joint"])
@pytest.mark.parametrize("framework", ["torch", "tensorflow", "jax"])
def test_frameworks_mask_as_numpy(framework, kind):
    module = _frontend(framework)
    x = with_hole(signals(kind)).astype(np.float32)
    expected = make(kind, nan_policy="mask", min_valid=0.6)(x)
    S = make(kind, module, nan_policy="mask", min_valid=0.6)
    assert S.nan_policy == "mask" and S.parameters()["min_valid"] == 0.6
    if framework == "torch":
        import torch

        out = S(torch.from_numpy(x)).numpy()
    elif framework == "tensorflow":
        import tensorflow as tf

        out = S(tf.constant(x)).numpy()
        traced = tf.function(S.scattering)(tf.constant(x)).numpy()
        assert np.array_equal(np.isnan(traced), np.isnan(expected))
    else:
        out = np.asarray(S(x))
    assert np.array_equal(np.isnan(out), np.isnan(expected))
    kept = ~np.isnan(expected)
    scale = np.nanmax(np.abs(expected))
    assert np.max(np.abs(out[kept] - expected[kept])) <= 1e-5 * scale


def test_torch_gradient_is_finite_where_defined():
    torch = pytest.importorskip("torch")
    import scatflow.torch as storch

    x = torch.tensor(with_hole(signals("2d", batch=1)), requires_grad=True)
    out = make("2d", storch, nan_policy="mask")(x)
    out[~torch.isnan(out)].sum().backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    assert np.all(grad[np.isnan(x.detach().numpy())] == 0)


@pytest.mark.parametrize("kind", ["2d", "1d"])
def test_sklearn_takes_nan_with_mask(kind):
    pytest.importorskip("sklearn")
    import scatflow.sklearn as ssk

    x = with_hole(signals(kind))
    name, kwargs, shape = CONFIGS[kind]
    transformer = getattr(ssk, name)(shape=shape, nan_policy="mask", **kwargs)
    out = transformer.fit_transform(x.reshape(len(x), -1))
    expected = make(kind, nan_policy="mask")(x).reshape(len(x), -1)
    assert np.array_equal(out, expected, equal_nan=True)
    assert transformer.__sklearn_tags__().input_tags.allow_nan
    plain = getattr(ssk, name)(shape=shape, **kwargs)
    assert not plain.__sklearn_tags__().input_tags.allow_nan
    with pytest.raises(ValueError, match="NaN"):
        plain.fit_transform(x.reshape(len(x), -1))


# -- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["raise", "omit", None, 0, "MASK"])
def test_bad_nan_policy(value):
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        make("2d", nan_policy=value)


@pytest.mark.parametrize("value, error", [
    (0, ValueError), (-0.5, ValueError), (1.5, ValueError), (np.nan, ValueError),
    (np.inf, ValueError), ("half", TypeError), (True, TypeError), (None, TypeError)])
def test_bad_min_valid(value, error):
    for kind in ("1d", "2d", "jtfs"):
        with pytest.raises(error, match="min_valid"):
            make(kind, nan_policy="mask", min_valid=value)


def test_min_valid_bounds_included():
    x = with_hole(signals("1d"))
    assert np.isnan(make("1d", nan_policy="mask", min_valid=1)(x)[0]).any()
    assert not np.isnan(make("1d", nan_policy="mask", min_valid=1e-9)(x)[0]).all()


@pytest.mark.parametrize("name, kwargs, shape, words", [
    ("HarmonicScattering3D", dict(J=1, L=1), (8, 8, 8), "integrals over the whole volume"),
    ("Scattering1D", dict(J=3, T=0, out_type="list"), (256,), "T=0"),
    ("Scattering1D", dict(J=3, average=False, out_type="list"), (256,), "T=0"),
    ("TimeFrequencyScattering", dict(J=3, J_fr=1, Q=2, T=0, out_type="list"), (256,),
     "T=0"),
    ("Scattering2D", dict(J=2, L=4, average=False, out_type="list"), (32, 32),
     "average=False"),
])
def test_transforms_without_a_lowpass_refuse_mask(name, kwargs, shape, words):
    with pytest.raises(ValueError, match=f"nan_policy='mask' is not available here: .*{words}"):
        getattr(snp, name)(shape=shape, nan_policy="mask", **kwargs)
    getattr(snp, name)(shape=shape, nan_policy="propagate", **kwargs)  # the default is fine


def test_nan_policy_assigned_after_construction_is_honoured():
    """As every constructor argument (Kymatio's users assign them): checked, then applied."""
    x = with_hole(signals("2d"))
    S = make("2d")
    assert np.isnan(S(x)[0]).all()
    S.nan_policy = "mask"
    np.testing.assert_array_equal(S(x), make("2d", nan_policy="mask")(x))
    with pytest.raises(ValueError, match="min_valid"):
        S.min_valid = 2
    assert S.min_valid == 0.5 and S.parameters()["nan_policy"] == "mask"
