"""Joint time-frequency scattering: parameter checks (before anything is built), the stored
constructor arguments and derived values, and differentiability (torch, TensorFlow)."""

import numpy as np
import pytest

from scatflow.core.time_frequency import TimeFrequencyScatteringCore
from scatflow.frontends.numpy import TimeFrequencyScattering
from scatflow.frontends.time_frequency import TimeFrequencyScatteringBase

BASE = dict(J=6, J_fr=3, Q=8, shape=1024)


@pytest.mark.parametrize("params, error, name", [
    (dict(J=-1), ValueError, "J"),
    (dict(J=2.5), TypeError, "J"),
    (dict(J=12, shape=256), ValueError, "J"),
    (dict(J_fr=-1), ValueError, "J_fr"),
    (dict(J_fr="3"), TypeError, "J_fr"),
    (dict(Q=0), ValueError, "Q"),
    (dict(Q=(8, 2, 1)), ValueError, "Q"),
    (dict(Q_fr=0), ValueError, "Q_fr"),
    (dict(Q_fr=(1, 2)), ValueError, "Q_fr"),
    (dict(Q_fr=1.5), TypeError, "Q_fr"),
    (dict(T=-1), ValueError, "T"),
    (dict(T=2048), ValueError, "T"),
    (dict(T="local"), ValueError, "T"),
    (dict(F=-1), ValueError, "F"),
    (dict(F=57), ValueError, "F"),  # wider than the (J+1) Q1 = 56 rows
    (dict(F="local"), ValueError, "F"),
    (dict(F=2.0), TypeError, "F"),
    (dict(stride=3), ValueError, "stride"),
    (dict(stride=128), ValueError, "stride"),  # above T = 64
    (dict(stride=4, T="global"), ValueError, "stride"),
    (dict(stride=4, T=0, out_type="list"), ValueError, "stride"),
    (dict(stride_fr=3), ValueError, "stride_fr"),
    (dict(stride_fr=16), ValueError, "stride_fr"),  # above F = 8
    (dict(stride_fr=2, F=0), ValueError, "stride_fr"),
    (dict(stride_fr=2, F="global"), ValueError, "stride_fr"),
    (dict(format="both"), ValueError, "format"),
    (dict(out_type="tensor"), ValueError, "out_type"),
    (dict(T=0), ValueError, "out_type"),  # T=0 gives coefficients of several lengths
    (dict(F=0, format="joint"), ValueError, "F=0"),
    (dict(shape=1), ValueError, "shape"),
    (dict(shape=(32, 32)), ValueError, "shape"),
])
def test_bad_parameters_name_themselves(params, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        TimeFrequencyScattering(**dict(BASE, **params))


def test_check_parameters_without_and_with_a_shape():
    params = dict(BASE)
    shape = params.pop("shape")
    assert TimeFrequencyScatteringBase.check_parameters(**params) is None
    with pytest.raises(ValueError, match="stride_fr"):
        TimeFrequencyScatteringBase.check_parameters(**params, stride_fr=16)
    with pytest.raises(ValueError, match=r"\bF\b"):
        TimeFrequencyScatteringBase.check_parameters(**params, F=57)
    with pytest.raises(ValueError, match=r"\bT\b"):  # needs the length
        TimeFrequencyScatteringBase.check_parameters(**params, shape=shape, T=2048)
    kwargs = TimeFrequencyScatteringBase.check_parameters(**params, shape=shape)
    core = TimeFrequencyScatteringCore(**kwargs)
    assert core.input_shape == (1024,) and core.array_shape == (152, 16)


def test_arguments_read_back_as_kymatio_normalises_them_and_derived_values_are_properties():
    S = TimeFrequencyScattering(**BASE, Q_fr=(1,), stride=16)
    assert (S.J, S.J_fr, S.Q, S.shape, S.T, S.F, S.stride, S.stride_fr, S.Q_fr) == \
        (6, 3, (8, 1), 1024, 64, 8, 16, None, (1,))
    assert S.parameters() == dict(BASE, T=None, stride=16, Q_fr=(1,), F=None, stride_fr=None,
                                  out_type="array", format="time", backend=None,
                                  nan_policy="propagate", min_valid=0.5, padding_mode="reflect")
    assert (S.log2_T, S.log2_stride, S.average, S.log2_F, S.log2_stride_fr, S.average_fr) == \
        (6, 4, "local", 3, 3, "local")
    assert (S.N_padded, S.pad_left, S.N_padded_fr) == (2048, 512, 120)
    assert S.frequency_rows is None and "J_fr=3" in repr(S)
    assert (len(S.psi1_f), len(S.psi2_f), S.phi_f["j"], len(S.filters_fr[1])) == (38, 7, 6, 9)
    joint = TimeFrequencyScattering(**BASE, format="joint")
    assert joint.frequency_rows == tuple(8 * r if 8 * r < 38 else -1 for r in range(15))
    globally = TimeFrequencyScattering(**BASE, T="global", F="global")
    assert (globally.average, globally.average_fr, globally.log2_stride_fr) == \
        ("global", "global", None)


def test_format_and_out_type_set_after_construction_are_honoured():
    """As every scatflow transform (Kymatio's users assign attributes): the object computes
    what a new one made with the assigned values computes."""
    x = np.random.default_rng(5).standard_normal((1, 1024))
    S = TimeFrequencyScattering(**BASE, format="joint")
    S.out_type = "list"
    fresh = TimeFrequencyScattering(**BASE, format="joint", out_type="list")(x)
    assert [item["coef"].shape for item in S(x)] == [item["coef"].shape for item in fresh]
    S = TimeFrequencyScattering(**BASE)
    S.format = "joint"
    np.testing.assert_array_equal(S(x), TimeFrequencyScattering(**BASE, format="joint")(x))
    assert S.output_size() == len(S.meta()["order"]) == S(x).shape[1]
    S = TimeFrequencyScattering(**BASE)
    S.out_type = "dict"  # the time format's paths do not depend on out_type
    assert len(S(x)) == S.output_size()


# -- differentiability ----------------------------------------------------------------------------
TINY = dict(J=3, J_fr=1, Q=2, shape=128)


def test_torch_gradcheck():
    torch = pytest.importorskip("torch")
    from scatflow.frontends.torch import TimeFrequencyScattering as TorchJTFS

    S = TorchJTFS(**TINY, format="joint")
    x = torch.tensor(np.random.default_rng(1).standard_normal((1, 128)), requires_grad=True)
    assert torch.autograd.gradcheck(S, (x,), eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


@pytest.mark.parametrize("kind", ["random", "zero-region", "zeros"])
@pytest.mark.parametrize("params", [{}, dict(format="joint"), dict(T="global", F="global")])
def test_torch_gradients_are_finite_and_flow(kind, params):
    torch = pytest.importorskip("torch")
    from scatflow.frontends.torch import TimeFrequencyScattering as TorchJTFS

    S = TorchJTFS(J=5, J_fr=2, Q=4, shape=256, **params)
    x = np.random.default_rng(2).standard_normal((2, 256))
    x[:, {"random": 256, "zero-region": 128, "zeros": 0}[kind]:] = 0
    for dtype in (torch.float64, torch.float32):
        xt = torch.tensor(x, dtype=dtype, requires_grad=True)
        out = S(xt)
        (out.sum() + out.square().sum()).backward()
        assert torch.isfinite(out).all() and torch.isfinite(xt.grad).all()
        if kind != "zeros":
            assert xt.grad.abs().max() > 0


def test_tensorflow_gradients_are_finite_and_flow():
    tf = pytest.importorskip("tensorflow")
    from scatflow.frontends.tensorflow import TimeFrequencyScattering as TensorFlowJTFS

    S = TensorFlowJTFS(J=5, J_fr=2, Q=4, shape=256, format="joint")
    x = np.zeros((2, 256))
    x[:, :128] = np.random.default_rng(3).standard_normal((2, 128))
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = S(xt)
        loss = tf.reduce_sum(out) + tf.reduce_sum(out * out)
    grad = tape.gradient(loss, xt)
    assert np.isfinite(grad.numpy()).all() and np.abs(grad.numpy()).max() > 0
