"""Peak memory: the array output is filled slice by slice, slices bound what a thread holds,
small work runs unsplit, and the 3D filter bank is held only while something uses it."""

import gc
import pickle
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import scatflow.filters.harmonic3d as fh
import scatflow.numpy as snp
from scatflow import tuning
from scatflow.backends.numpy import NumpyBackend
from scatflow.core import batches

CASES = [
    ("Scattering1D", dict(J=4, shape=256, Q=(4, 2)), (5, 2, 256)),
    ("Scattering2D", dict(J=2, shape=(20, 24), L=4), (3, 2, 20, 24)),
    ("HarmonicScattering3D", dict(J=2, shape=(12, 12, 12), L=2), (5, 12, 12, 12)),
]


def stacked_list_output(S, x):
    S.out_type = "list"
    try:
        coefficients = [item["coef"] for item in S(x)]
    finally:
        S.out_type = "array"
    batch_ndim = x.ndim - len(S.core.input_shape)
    return np.stack(coefficients, axis=batch_ndim).reshape(S(x).shape)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name, kwargs, shape", CASES)
def test_array_output_in_slices_of_one_signal_equals_the_paths_stacked(
        monkeypatch, name, kwargs, shape, threads):
    monkeypatch.setattr(tuning, "MAX_SLICE_SAMPLES", 1)
    S = getattr(snp, name)(**kwargs, backend=NumpyBackend(threads=threads))
    x = np.random.default_rng(0).standard_normal(shape)
    out = S(x)
    assert out.shape == shape[:-len(S.core.input_shape)] + S.core.array_shape
    assert out.dtype == np.float64
    # the 3D core plans its groups by batch size: the sums may differ by rounding
    np.testing.assert_allclose(out, stacked_list_output(S, x), rtol=1e-12, atol=0)


def test_torch_array_output_in_slices_matches_list_output_and_gradients_still_flow(monkeypatch):
    torch = pytest.importorskip("torch")
    import scatflow.torch as storch

    monkeypatch.setattr(tuning, "MAX_SLICE_SAMPLES", 1)
    S = storch.Scattering2D(J=2, shape=(16, 16), L=4)
    x = torch.randn(5, 16, 16, dtype=torch.float64)
    out = S(x)
    S.out_type = "list"
    listed = torch.stack([item["coef"] for item in S(x)], dim=1)
    torch.testing.assert_close(out, listed, rtol=0, atol=0)
    S.out_type = "array"
    y = x.clone().requires_grad_()
    S(y).sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()


@pytest.mark.parametrize("out_type", ["array", "list"])
@pytest.mark.parametrize("mode, requires_grad", [("no_grad", True), ("inference_mode", False),
                                                 ("inference_mode", True)])
def test_torch_split_batch_keeps_the_callers_autograd_mode(mode, requires_grad, out_type):
    torch = pytest.importorskip("torch")
    import scatflow.torch as storch
    from scatflow.backends.torch import TorchBackend

    S = storch.Scattering1D(J=3, shape=128, out_type=out_type, backend=TorchBackend(threads=2))
    x = torch.randn(512, 128, dtype=torch.float64, requires_grad=requires_grad)  # split
    assert len(batches.slice_bounds(S.backend, x, S.core.N_padded)) == 3
    with getattr(torch, mode)():
        out = S(x)
    expected = S(x.detach())
    if out_type == "list":
        out, expected = [c["coef"] for c in out], [c["coef"] for c in expected]
    for coefficients in out if out_type == "list" else [out]:
        assert not coefficients.requires_grad
        assert coefficients.is_inference() == (mode == "inference_mode")
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=0)


def test_small_work_runs_unsplit_and_large_work_on_every_thread():
    backend = NumpyBackend(threads=2)
    x = np.zeros((16, 1024))
    # 2^15 padded samples in all: unsplit
    assert batches.slice_bounds(backend, x, padded_size=2048) == [0, 16]
    assert batches.slice_bounds(backend, x, padded_size=4096) == [0, 8, 16]
    assert batches.slice_bounds(backend, x, padded_size=4096, at_least=8) == list(range(0, 18, 2))
    long_signals = np.zeros((3, 1 << 20))
    assert batches.slice_bounds(backend, long_signals, 1 << 20, at_least=10) == [0, 1, 2, 3]


def test_unsplit_small_work_runs_single_threaded_and_a_large_signal_with_the_librarys_threads():
    backend = NumpyBackend(threads=2)
    seen = []

    def fn(worker, chunk):
        seen.append((threading.current_thread(), worker.threads))
        return [chunk]

    batches.map_batches(backend, fn, np.zeros((4, 1024)), padded_size=2048)  # 1D N=1024 batch 4
    batches.map_batches(backend, fn, np.zeros((1, 1 << 16)), padded_size=1 << 17)  # a long signal
    assert seen == [(threading.current_thread(), 1), (threading.current_thread(), 2)]


def test_torch_splits_from_larger_work_than_numpy():
    torch = pytest.importorskip("torch")
    from scatflow.backends.torch import TorchBackend

    x = torch.zeros(32, 1024)  # 1D N=1024 padded to 2048: 2x faster unsplit in torch
    assert batches.slice_bounds(TorchBackend(threads=2), x, padded_size=2048) == [0, 32]
    assert batches.slice_bounds(NumpyBackend(threads=2), x.numpy(), padded_size=2048) == [0, 16, 32]


def test_one_thread_runs_its_slices_in_the_calling_thread():
    backend = NumpyBackend(threads=1)
    x = np.arange(12.0).reshape(6, 2)
    seen = []

    def fn(worker, chunk):
        seen.append((threading.current_thread(), worker))
        return [chunk * 2, chunk[:, :1]]

    out = batches.map_batches_into(backend, fn, x, np.empty((6, 2, 2)), padded_size=2**17)
    assert len(seen) == 3 and all(t is threading.current_thread() and w is backend for t, w in seen)
    np.testing.assert_array_equal(out[:, 0], x * 2)
    np.testing.assert_array_equal(out[:, 1, :1], x[:, :1])


def traced_peak(S, x):
    tracemalloc.start()
    try:
        S(x)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_slices_bound_the_working_memory(monkeypatch):
    S = snp.Scattering2D(J=3, shape=(64, 64), L=8, backend=NumpyBackend(threads=1))
    x = np.random.default_rng(0).standard_normal((16, 64, 64))
    S(x)  # converts the filters
    monkeypatch.setattr(tuning, "MAX_SLICE_SAMPLES", 2**30)
    whole = traced_peak(S, x)
    monkeypatch.setattr(tuning, "MAX_SLICE_SAMPLES", 1)
    sliced = traced_peak(S, x)
    assert sliced < whole / 2


def test_3d_float64_bank_is_let_go_once_converted_to_float32_and_kept_for_float64():
    shape = (6, 8, 10)  # a shape no other test uses
    S = snp.HarmonicScattering3D(J=1, shape=shape, L=1)
    radial = weakref.ref(S.core.filters()["radial"])
    S(np.zeros((1,) + shape, np.float32))
    gc.collect()
    assert radial() is None
    S(np.zeros((1,) + shape))
    gc.collect()
    held = S.core.filters()["radial"]  # from the cache: the float64 conversion holds it
    assert any(f["radial"] is held for f in S._converted_filters.values())


def test_torch_module_holds_its_buffers_not_the_numpy_bank():
    torch = pytest.importorskip("torch")
    import scatflow.torch as storch

    shape, J, L = (6, 8, 12), 1, 1  # a shape no other test uses
    S = storch.HarmonicScattering3D(J=J, shape=shape, L=L)
    gc.collect()
    assert (shape, J, L, 1.0) not in fh.radial_factors.cache
    assert S.filter_radial.dtype == torch.float32
    exact = fh.radial_factors(shape, J, L, 1.0)
    torch.testing.assert_close(S.double().filter_radial, torch.tensor(exact), rtol=0, atol=0)


def test_pickles_leave_out_the_bank_held_since_construction():
    S = snp.HarmonicScattering3D(J=2, shape=(16, 16, 16), L=2)
    data = pickle.dumps(S)
    assert len(data) < 20_000
    x = np.random.default_rng(0).standard_normal((2, 16, 16, 16))
    np.testing.assert_array_equal(pickle.loads(data)(x), S(x))
