"""scatflow.torch: nn.Module frontends with the NumPy frontend's numbers, autograd (finite at
exact zeros), torch.compile, dtype/device handling of the filter buffers, pickling and errors.
The `gpu` tests need CUDA and skip cleanly without it."""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scatflow.numpy as snp  # noqa: E402
import scatflow.torch as sto  # noqa: E402
from reference import worst_channel_error  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")

# (name, constructor kwargs, signal shape); small enough for a 2-core CI machine
CONFIGS = [
    ("Scattering1D", dict(J=3, shape=128), (128,)),
    ("Scattering1D", dict(J=4, shape=256, Q=(4, 1)), (256,)),
    ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (16, 16)),
    ("Scattering2D", dict(J=2, shape=(32, 24), L=4), (32, 24)),
    ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1), (8, 8, 8)),
    ("HarmonicScattering3D", dict(J=2, shape=(12, 12, 12), L=2), (12, 12, 12)),
]
CONFIG_IDS = [f"{n}-{'x'.join(map(str, s))}" for n, _, s in CONFIGS]
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def signal(shape, batch=(2,), seed=0):
    return np.random.default_rng(seed).standard_normal(batch + tuple(shape))


def pair(name, kwargs, **extra):
    """The torch module and the NumPy frontend with the same parameters."""
    return getattr(sto, name)(**kwargs, **extra), getattr(snp, name)(**kwargs, **extra)


def relative(ours, ref):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-300)


# -- 1. the NumPy frontend's numbers, in every output format ---------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kwargs, shape", CONFIGS, ids=CONFIG_IDS)
def test_array_output_matches_numpy(name, kwargs, shape, dtype):
    S, R = pair(name, kwargs)
    x = signal(shape, batch=(2, 1)).astype(dtype)
    out = S(torch.from_numpy(x))
    ref = R(x)
    assert isinstance(out, torch.Tensor) and out.dtype == getattr(torch, np.dtype(dtype).name)
    assert tuple(out.shape) == ref.shape
    assert worst_channel_error(out.numpy(), ref, channel_axis=2) <= TOLERANCE[dtype]


@pytest.mark.parametrize("out_type", ["list", "dict"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kwargs, shape", CONFIGS[::2], ids=CONFIG_IDS[::2])
def test_list_and_dict_outputs_match_numpy(name, kwargs, shape, dtype, out_type):
    S, R = pair(name, kwargs, out_type=out_type)
    x = signal(shape).astype(dtype)
    out, ref = S(torch.from_numpy(x)), R(x)
    assert len(out) == len(ref)
    if out_type == "dict":
        assert list(out) == list(ref)
        pairs = [(out[k], ref[k]) for k in ref]
    else:
        for o, r in zip(out, ref):
            assert {k: v for k, v in o.items() if k != "coef"} == \
                {k: v for k, v in r.items() if k != "coef"}
        pairs = [(o["coef"], r["coef"]) for o, r in zip(out, ref)]
    for o, r in pairs:
        assert o.dtype == getattr(torch, np.dtype(dtype).name) and tuple(o.shape) == r.shape
        assert relative(o.numpy(), r) <= TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_1d_without_averaging_list_matches_numpy(dtype):
    S, R = pair("Scattering1D", dict(J=3, shape=128, T=0), out_type="list")
    x = signal((128,)).astype(dtype)
    out, ref = S(torch.from_numpy(x)), R(x)
    assert len({tuple(o["coef"].shape) for o in out}) > 1  # coefficients of different lengths
    for o, r in zip(out, ref):
        assert tuple(o["coef"].shape) == r["coef"].shape
        assert relative(o["coef"].numpy(), r["coef"]) <= TOLERANCE[dtype]


def test_module_basics():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4)
    assert isinstance(S, torch.nn.Module)
    assert repr(S) == ("Scattering2D(J=2, shape=(16, 16), L=4, max_order=2, pre_pad=False, "
                       "backend=None, out_type='array', filter_levels='kymatio', average=True, "
                       "nan_policy='propagate', min_valid=0.5, padding_mode='reflect')")
    assert S.output_size() == 1 + 8 + 16 and len(S.meta()["order"]) == 25
    calls = []
    S.register_forward_hook(lambda module, args, output: calls.append(output.shape))
    out = torch.nn.Sequential(S, torch.nn.Flatten())(torch.zeros(3, 16, 16))
    assert calls == [(3, 25, 4, 4)] and out.shape == (3, 25 * 16)
    assert sto.Scattering2D(J=2, shape=(16, 16), L=4, backend="torch")(torch.zeros(16, 16)).shape \
        == (25, 4, 4)
    assert S(torch.zeros(0, 16, 16)).shape == (0, 25, 4, 4)  # an empty batch


# -- 2. and 3. autograd ------------------------------------------------------------------------
TINY = [
    ("Scattering1D", dict(J=2, shape=64), (64,)),
    ("Scattering2D", dict(J=2, shape=(8, 8), L=2), (8, 8)),
    ("HarmonicScattering3D", dict(J=1, shape=(5, 5, 5), L=1), (5, 5, 5)),
]
TINY_IDS = [n for n, _, _ in TINY]


@pytest.mark.parametrize("name, kwargs, shape", TINY, ids=TINY_IDS)
def test_gradcheck(name, kwargs, shape):
    S = getattr(sto, name)(**kwargs)
    x = torch.tensor(signal(shape, batch=(1,)), requires_grad=True)
    assert torch.autograd.gradcheck(S, (x,), eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["zeros", "zero-region"])
@pytest.mark.parametrize("name, kwargs, shape", CONFIGS[::2], ids=CONFIG_IDS[::2])
def test_gradients_are_finite_at_exact_zeros(name, kwargs, shape, kind):
    S = getattr(sto, name)(**kwargs)
    x = np.zeros((2,) + shape)
    if kind == "zero-region":
        x[..., : shape[-1] // 2] = signal(shape)[..., : shape[-1] // 2]
    for dtype in (torch.float64, torch.float32):
        xt = torch.tensor(x, dtype=dtype, requires_grad=True)
        out = S(xt)
        assert torch.isfinite(out).all()
        (out.sum() + out.square().sum()).backward()
        assert xt.grad is not None and torch.isfinite(xt.grad).all()


def test_requires_grad_and_no_grad():
    S = sto.Scattering1D(J=3, shape=128)
    x = torch.randn(2, 128, requires_grad=True)
    assert S(x).requires_grad
    with torch.no_grad():
        out = S(x)
    assert not out.requires_grad
    # small work runs unsplit, where no_grad reaches the core: its untracked primitives (NumPy's
    # |z|, in-place products) round differently from the tracked ones
    torch.testing.assert_close(out, S(x).detach(), rtol=1e-6, atol=1e-7)


# -- 4. torch.compile ------------------------------------------------------------------------
COMPILED = [
    ("Scattering1D", dict(J=2, shape=64), (64,)),
    ("Scattering2D", dict(J=2, shape=(8, 8), L=2), (8, 8)),
    ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1), (8, 8, 8)),
]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Torchinductor does not support code generation for complex")
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name, kwargs, shape", COMPILED, ids=[n for n, _, _ in COMPILED])
def test_torch_compile_fullgraph_gives_the_same_numbers(name, kwargs, shape):
    S = getattr(sto, name)(**kwargs)
    x = torch.tensor(signal(shape), dtype=torch.float32)
    compiled = torch.compile(S, fullgraph=True)  # fullgraph: any graph break is an error
    torch.testing.assert_close(compiled(x), S(x), rtol=1e-5, atol=1e-6 * S(x).abs().max().item())
    torch.testing.assert_close(compiled(2 * x), S(2 * x), rtol=1e-5,
                               atol=2e-6 * S(x).abs().max().item())


@pytest.mark.filterwarnings("ignore:Torchinductor does not support code generation for complex")
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_torch_compile_float64_input_on_float32_module():
    """The exact float64 bank is converted outside the graph (one graph break, so no fullgraph):
    float64 numbers, not float32 filters widened."""
    S, R = pair("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1))
    x = signal((8, 8, 8))
    out = torch.compile(S)(torch.from_numpy(x))
    assert out.dtype == torch.float64
    assert worst_channel_error(out.numpy(), R(x), channel_axis=1) <= 1e-12


# -- 5. dtypes, buffers, state_dict, DataParallel, pickling -----------------------------------
def test_filters_are_non_persistent_real_buffers():
    S = sto.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)
    names = [n for n, _ in S.named_buffers()]
    assert names and all(n.startswith("filter_") for n in names)
    assert all(b.dtype == torch.float32 for b in S.buffers())  # complex ones as view_as_real
    assert S.state_dict() == {}
    S.load_state_dict({})
    assert S.load_state_dict({}, strict=True).missing_keys == []


def test_float64_input_after_double_uses_the_buffers_and_exact_filters():
    S, R = pair("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1))
    x = signal((8, 8, 8))
    assert S.double() is S and all(b.dtype == torch.float64 for b in S.buffers())
    out = S(torch.from_numpy(x))
    assert S._converted_filters == {}  # no copy of the bank: the buffers were used
    assert out.dtype == torch.float64
    # the float64 buffers are the exact bank, not float32 filters widened
    assert worst_channel_error(out.numpy(), R(x), channel_axis=1) <= 1e-12


def test_float64_input_without_double_computes_in_float64():
    S, R = pair("Scattering2D", dict(J=2, shape=(16, 16), L=4))
    x = signal((16, 16))
    out = S(torch.from_numpy(x))
    assert out.dtype == torch.float64 and all(b.dtype == torch.float32 for b in S.buffers())
    assert worst_channel_error(out.numpy(), R(x), channel_axis=1) <= 1e-12
    assert len(S._converted_filters) == 1  # converted once, then cached
    S(torch.from_numpy(x))
    assert len(S._converted_filters) == 1
    S.float()  # any _apply drops the cached conversions
    assert S._converted_filters == {}


def test_half_module_and_half_input_compute_in_float32():
    S, R = pair("Scattering1D", dict(J=3, shape=128))
    x = signal((128,))
    S.half()
    assert all(b.dtype == torch.float16 for b in S.buffers())
    out = S(torch.tensor(x, dtype=torch.float16))
    assert out.dtype == torch.float32
    x16 = torch.tensor(x, dtype=torch.float16).double().numpy()
    assert worst_channel_error(out.numpy(), R(x16), channel_axis=1) <= 1e-5
    # half -> float re-makes the float32 filters from the exact bank (no float16 rounding kept)
    fresh = sto.Scattering1D(J=3, shape=128)
    S.float()
    for (name, a), (_, b) in zip(S.named_buffers(), fresh.named_buffers()):
        assert torch.equal(a, b), name
    bf = torch.tensor(x, dtype=torch.bfloat16)
    assert S(bf).dtype == torch.float32


def test_data_parallel_on_cpu():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4)
    x = torch.randn(4, 16, 16)
    torch.testing.assert_close(torch.nn.DataParallel(S)(x), S(x), rtol=0, atol=0)


def test_pickle_is_small_and_round_trips():
    S = sto.Scattering2D(J=3, shape=(128, 128), L=8)
    bank = sum(b.numel() * b.element_size() for b in S.buffers())
    data = pickle.dumps(S)
    assert bank > 2_000_000 and len(data) < 20_000, (bank, len(data))
    T = pickle.loads(data)
    x = torch.randn(2, 128, 128)
    assert torch.equal(T(x), S(x))
    assert [n for n, _ in T.named_buffers()] == [n for n, _ in S.named_buffers()]
    assert S._buffers and S(x) is not None  # pickling left the original intact


def test_pickle_keeps_dtype_and_deepcopy_works():
    S = sto.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=2).double()
    x = torch.tensor(signal((8, 8, 8)))
    expected = S(x)
    for T in (pickle.loads(pickle.dumps(S)), copy.deepcopy(S)):
        assert T is not S and all(b.dtype == torch.float64 for b in T.buffers())
        assert torch.equal(T(x), expected) and T._converted_filters == {}
    assert len(pickle.dumps(S)) < 10_000


# -- 6. errors -------------------------------------------------------------------------------
def test_numpy_input_is_a_type_error():
    S = sto.Scattering1D(J=3, shape=128)
    with pytest.raises(TypeError, match=r"torch\.Tensor.*numpy\.ndarray"):
        S(np.zeros((2, 128)))


def test_numpy_backend_is_refused():
    with pytest.raises(ValueError, match=r"backend must be one of \['torch', 'auto', None\]"):
        sto.Scattering2D(J=2, shape=(16, 16), backend="numpy")
    from scatflow.backends import get_backend

    with pytest.raises(ValueError, match="backend must be one of"):
        sto.Scattering2D(J=2, shape=(16, 16), backend=get_backend("numpy"))


def test_wrong_shape_and_complex_input():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 16, 16\)"):
        S(torch.zeros(2, 16, 15))
    with pytest.raises(TypeError, match="complex"):
        S(torch.zeros(2, 16, 16, dtype=torch.complex64))


def test_input_on_another_device_than_the_filters():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4).to("meta")  # the CPU-only stand-in for a GPU
    assert all(b.is_meta for b in S.buffers())
    with pytest.raises(ValueError, match=r"x is on cpu.*filters are on meta.*\.to\(x\.device\)"):
        S(torch.zeros(2, 16, 16))


def test_kymatios_input_errors():
    """The checks of Kymatio's torch 2D test_scattering2d_errors, with its types and phrases
    (its non-contiguous case is computed here: next test)."""
    S = sto.Scattering2D(J=3, shape=(32, 32))
    with pytest.raises(TypeError, match="input should be"):
        S(None)
    with pytest.raises(RuntimeError, match="at least two"):
        S(torch.zeros(32))
    with pytest.raises(RuntimeError, match="Tensor must be of spatial size"):
        S(torch.randn(31, 31))
    with pytest.raises(RuntimeError, match="Padded tensor must be of spatial size"):
        sto.Scattering2D(J=3, shape=(32, 32), pre_pad=True)(torch.randn(31, 31))
    x = torch.randn(8, 8)
    assert sto.Scattering2D(J=2, shape=(8, 8))(x).device == x.device


def test_non_contiguous_input_gives_the_contiguous_result():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4)
    x = torch.randn(2, 32, 32)[:, ::2, ::2]
    assert not x.is_contiguous()
    torch.testing.assert_close(S(x), S(x.contiguous()), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["torch_skcuda", "torch17_skcuda"])
def test_kymatios_gpu_backend_names_run_the_torch_backend_on_cuda_only(name):
    from scatflow.backends import get_backend

    S = sto.Scattering1D(J=3, shape=128, backend=name)
    assert S.backend == name and S._backend is get_backend("torch")
    with pytest.raises(TypeError, match="CUDA tensors only .*CPU tensors"):
        S(torch.zeros(2, 128))
    import scatflow

    assert scatflow.Scattering2D(J=1, shape=(8, 8), frontend="torch", backend=name).backend == name


def test_parameters_set_after_construction_keep_the_buffers_dtype_and_device():
    S = sto.Scattering1D(J=3, shape=128).double()
    S.max_order = 1
    fresh = sto.Scattering1D(J=3, shape=128, max_order=1)
    assert [n for n, _ in S.named_buffers()] == [n for n, _ in fresh.named_buffers()]
    assert all(b.dtype == torch.float64 for b in S.buffers()) and S.state_dict() == {}
    x = torch.tensor(signal((128,)))
    torch.testing.assert_close(S(x), torch.tensor(snp.Scattering1D(J=3, shape=128, max_order=1)(
        signal((128,)))), rtol=1e-12, atol=1e-12)
    M = sto.Scattering2D(J=2, shape=(16, 16), L=4).to("meta")  # the stand-in for a GPU
    M.L = 2
    assert all(b.is_meta for b in M.buffers()) and M.output_size() == 1 + 2 * 2 + 4


# -- GPU (skipped without CUDA) ----------------------------------------------------------------
@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("name, kwargs, shape", CONFIGS[::2], ids=CONFIG_IDS[::2])
def test_cuda_matches_cpu(name, kwargs, shape):
    S = getattr(sto, name)(**kwargs)
    x = torch.tensor(signal(shape))
    cpu64, cpu32 = S(x), S(x.float())
    G = S.cuda()
    assert all(b.is_cuda for b in G.buffers())
    out32 = G(x.float().cuda())
    assert out32.is_cuda and G._converted_filters == {}
    assert relative(out32.cpu().numpy(), cpu32.numpy()) <= 1e-5
    assert relative(G(x.cuda()).cpu().numpy(), cpu64.numpy()) <= 1e-12  # float64 fallback
    back = G.cpu()
    assert all(not b.is_cuda for b in back.buffers())
    torch.testing.assert_close(back(x.float()), cpu32, rtol=0, atol=0)


@pytest.mark.gpu
@needs_cuda
def test_wrong_device_is_a_clear_error():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4)
    with pytest.raises(ValueError, match=r"x is on cuda.*filters are on cpu.*\.to\(x\.device\)"):
        S(torch.zeros(2, 16, 16, device="cuda"))
    with pytest.raises(ValueError, match=r"x is on cpu.*filters are on cuda"):
        S.cuda()(torch.zeros(2, 16, 16))


@pytest.mark.gpu
@needs_cuda
def test_kymatios_gpu_backend_name_on_cuda_is_the_torch_backend():
    x = torch.randn(2, 32, 32)
    expected = sto.Scattering2D(J=2, shape=(32, 32), L=4).cuda()(x.cuda())
    S = sto.Scattering2D(J=2, shape=(32, 32), L=4, backend="torch_skcuda").cuda()
    torch.testing.assert_close(S(x.cuda()), expected, rtol=0, atol=0)


@pytest.mark.gpu
@needs_cuda
def test_data_parallel_on_gpus():
    S = sto.Scattering2D(J=2, shape=(16, 16), L=4)
    x = torch.randn(2 * max(torch.cuda.device_count(), 1), 16, 16)
    expected = S(x)
    out = torch.nn.DataParallel(S.cuda())(x.cuda())
    assert relative(out.cpu().numpy(), expected.numpy()) <= 1e-5


@pytest.mark.gpu
@needs_cuda
def test_cuda_module_pickles_and_compiles():
    S = sto.Scattering1D(J=2, shape=64).cuda()
    x = torch.randn(2, 64, device="cuda")
    T = pickle.loads(pickle.dumps(S))
    assert all(b.is_cuda for b in T.buffers())
    torch.testing.assert_close(T(x), S(x), rtol=0, atol=0)
    torch.testing.assert_close(torch.compile(S)(x), S(x), rtol=1e-5, atol=1e-6)


def test_import_and_eager_use_leave_torch_dynamo_unloaded():
    """torch._dynamo (and sympy) cost ~70 MB and seconds of import: only torch.compile loads it."""
    code = ("import sys, torch, scatflow.torch as s; "
            "S = s.Scattering2D(J=1, shape=(8, 8), L=2); S(torch.zeros(2, 8, 8, dtype=torch.float64)); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_modulus_takes_numpy_outside_autograd_and_the_norm_inside():
    from scatflow.backends.torch import backend

    x = torch.randn(3, 5, dtype=torch.complex128)
    plain = backend.modulus(x)
    np.testing.assert_allclose(plain.numpy(), np.abs(x.numpy()), rtol=1e-15)
    assert plain.grad_fn is None
    tracked = backend.modulus(x.clone().requires_grad_())
    assert tracked.grad_fn is not None
    np.testing.assert_allclose(tracked.detach().numpy(), plain.numpy(), rtol=1e-15)


@pytest.mark.parametrize("tracked", [False, True])
def test_sqrt_and_power_keep_nan_and_give_zero_gradient_at_zero(tracked):
    from scatflow.backends.torch import backend

    x = torch.tensor([0.0, 4.0, float("nan")], dtype=torch.float64, requires_grad=tracked)
    for result, value in ((backend.sqrt(x), 2.0), (backend.power(x, 0.5), 2.0)):
        assert result[0].item() == 0 and result[1].item() == value and torch.isnan(result[2])
        if tracked:
            (grad,) = torch.autograd.grad(result[:2].sum(), x)
            assert grad[0].item() == 0 and grad[1].item() == 0.25
