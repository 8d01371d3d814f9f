"""Package-level promises: lazy imports, the dynamic entry classes, backend selection."""

import os
import subprocess
import sys

import numpy as np
import pytest

import scatflow
import scatflow.numpy
from scatflow.backends import get_backend


def test_import_scatflow_imports_no_framework():
    code = ("import sys, scatflow, scatflow.numpy; "
            "print(' '.join(m for m in ('torch', 'tensorflow', 'keras', 'cupy', 'sklearn', "
            "'matplotlib', 'jax', 'xarray', 'pandas', 'dask') if m in sys.modules))")
    heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert heavy.stdout.strip() == ""


@pytest.mark.parametrize("name, kwargs, x_shape", [
    ("Scattering1D", dict(J=3, shape=256), (256,)),
    ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (16, 16)),
    ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1), (8, 8, 8)),
])
def test_entry_classes_build_the_numpy_frontend(name, kwargs, x_shape):
    import scatflow.numpy

    entry = getattr(scatflow, name)(**kwargs)
    direct = getattr(scatflow.numpy, name)(**kwargs)
    assert type(entry) is type(direct)
    explicit = getattr(scatflow, name)(frontend="numpy", **kwargs)
    x = np.random.default_rng(0).standard_normal(x_shape)
    np.testing.assert_array_equal(entry(x), direct(x))
    np.testing.assert_array_equal(explicit(x), direct(x))


def test_unknown_frontend_and_backend_are_named():
    with pytest.raises(ValueError, match="frontend must be one of"):
        scatflow.Scattering2D(J=2, shape=(16, 16), frontend="matlab")
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend("matlab")


def test_numpy_backend_multiply_periodize_is_filtering_then_decimation():
    backend = get_backend("numpy")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 32, 24))
    ones = np.ones((32, 24))
    folded = backend.multiply_periodize(backend.fft(x, 2), ones, 4, 2)
    np.testing.assert_allclose(backend.ifft(folded, 2).real, x[:, ::4, ::4], atol=1e-12)
    y = rng.standard_normal((2, 64))
    filt = rng.standard_normal((5, 64))  # broadcast: (2, 1, 64) x (5, 64) -> (2, 5, 8)
    spectrum = backend.fft(y, 1)[:, None]
    filtered = backend.ifft(spectrum * filt, 1)
    out = backend.ifft(backend.multiply_periodize(spectrum, filt, 8, 1), 1)
    np.testing.assert_allclose(out, filtered[..., ::8], atol=1e-12)


def test_numpy_backend_reflect_pad_and_irfft():
    backend = get_backend("numpy")
    x = np.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(backend.pad(x, [(2, 1)], "reflect")[0], [2, 1, 0, 1, 2, 3, 4, 3])
    y = np.random.default_rng(3).standard_normal((4, 6, 8))
    spectrum = backend.fft(y, 2)
    np.testing.assert_allclose(backend.irfft(spectrum[..., :5], (6, 8)), y, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, x_shape", [
    ("Scattering1D", dict(J=5, shape=512, Q=4), (5, 512)),
    ("Scattering2D", dict(J=2, shape=(24, 20), L=4), (3, 2, 24, 20)),
    ("HarmonicScattering3D", dict(J=1, shape=(10, 10, 10), L=1), (3, 10, 10, 10)),
])
def test_threaded_batches_equal_one_thread(monkeypatch, name, kwargs, x_shape):
    import scatflow.numpy
    from scatflow import tuning
    from scatflow.backends.numpy import NumpyBackend
    from scatflow.core import batches

    monkeypatch.setattr(tuning, "MIN_SLICE_SAMPLES", 1)  # split even this small work
    x = np.random.default_rng(4).standard_normal(x_shape)
    threaded = getattr(scatflow.numpy, name)(backend=NumpyBackend(threads=3), **kwargs)
    single = getattr(scatflow.numpy, name)(backend=NumpyBackend(threads=1), **kwargs)
    np.testing.assert_allclose(threaded(x), single(x), rtol=1e-13, atol=1e-15)
    assert threaded._backend in batches._POOLS and single._backend not in batches._POOLS


@pytest.mark.parametrize("name, kwargs, x_shape", [
    ("Scattering1D", dict(J=5, shape=512, Q=4), (5, 512)),
    ("Scattering2D", dict(J=2, shape=(24, 20), L=4), (3, 2, 24, 20)),
    ("HarmonicScattering3D", dict(J=1, shape=(10, 10, 10), L=1), (3, 10, 10, 10)),
])
def test_torch_threaded_batches_equal_one_thread_with_gradients(monkeypatch, name, kwargs, x_shape):
    torch = pytest.importorskip("torch")
    import scatflow.torch
    from scatflow.backends.torch import TorchBackend
    from scatflow.core import batches

    monkeypatch.setattr(TorchBackend, "min_slice_samples", 1)  # split even this small work
    results = []
    for threads in (3, 1):
        S = getattr(scatflow.torch, name)(backend=TorchBackend(threads=threads), **kwargs)
        x = torch.from_numpy(np.random.default_rng(4).standard_normal(x_shape)).requires_grad_()
        out = S(x)
        out.square().sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
        assert (S._backend in batches._POOLS) == (threads > 1)
    (out3, grad3), (out1, grad1) = results
    np.testing.assert_allclose(out3, out1, rtol=1e-13, atol=1e-15)
    # the 3D core sizes its groups of products by the slice's batch: sums in another order, which
    # the backward pass of the squared outputs magnifies (4e-11 relative seen)
    np.testing.assert_allclose(grad3, grad1, rtol=1e-9, atol=1e-14)


def test_thread_count_comes_from_the_environment(monkeypatch):
    from scatflow.backends.numpy import NumpyBackend

    monkeypatch.setenv("SCATFLOW_NUM_THREADS", "3")
    assert NumpyBackend().threads == 3
    monkeypatch.setenv("SCATFLOW_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="SCATFLOW_NUM_THREADS"):
        NumpyBackend()


@pytest.mark.parametrize("name, kwargs, x_shape", [
    ("Scattering1D", dict(J=4, shape=256), (0, 256)),
    ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (2, 0, 16, 16)),
    ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1), (0, 8, 8, 8)),
])
def test_empty_batch_gives_empty_output_of_the_right_shape(name, kwargs, x_shape):
    import scatflow.numpy

    S = getattr(scatflow.numpy, name)(**kwargs)
    out = S(np.zeros(x_shape, dtype=np.float32))
    assert out.dtype == np.float32
    assert out.shape == x_shape[: len(x_shape) - S.core.ndim] + tuple(S.core.array_shape)
    as_list = getattr(scatflow.numpy, name)(out_type="list", **kwargs)(np.zeros(x_shape))
    assert len(as_list) == S.output_size() and all(item["coef"].size == 0 for item in as_list)


def test_out_type_changed_after_construction_is_checked_at_call_time():
    from scatflow.numpy import Scattering1D

    S = Scattering1D(J=4, shape=256, T=0, out_type="list")
    x = np.zeros(256)
    assert isinstance(S(x), list)
    S.out_type = "dict"
    assert isinstance(S(x), dict)
    S.out_type = "array"
    with pytest.raises(ValueError, match="out_type='array'"):
        S(x)
    S.out_type = "tensor"
    with pytest.raises(ValueError, match="out_type must be one of"):
        S(x)


@pytest.mark.parametrize("dtype, expected", [
    (np.float64, np.float64), (np.float32, np.float32), (np.float16, np.float32),
    (">f4", np.float64), (">f8", np.float64), (np.int8, np.float64), (np.uint32, np.float64),
    (bool, np.float64),
])
def test_compute_dtype_rule(dtype, expected):
    from scatflow.frontends.base import compute_dtype

    assert compute_dtype(np.dtype(dtype)) == expected


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128, object, "U3", "datetime64[s]"])
def test_non_real_dtypes_are_refused(dtype):
    from scatflow.frontends.base import compute_dtype

    with pytest.raises(TypeError, match="x must"):
        compute_dtype(np.dtype(dtype))


@pytest.mark.parametrize("mode", ["reflect", "symmetric"])
def test_generic_padding_indices_are_numpys_padding(mode):
    from scatflow.backends.base import padding_indices

    for n in range(1, 12):
        for left in range(0, 30, 3):
            for right in range(0, 30, 5):
                expected = np.pad(np.arange(n), (left, right), mode=mode)
                assert padding_indices(n, left, right, mode) == expected.tolist(), (n, left, right)


@pytest.mark.parametrize("frontend, framework", [("torch", "torch"), ("tensorflow", "tensorflow"),
                                                 ("jax", "jax"), ("sklearn", "sklearn")])
def test_entry_classes_build_each_frontend(frontend, framework):
    pytest.importorskip(framework)
    import importlib

    module = importlib.import_module(f"scatflow.{frontend}")
    for name, kwargs in [("Scattering1D", dict(J=3, shape=256)),
                         ("Scattering2D", dict(J=2, shape=(16, 16), L=4)),
                         ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1))]:
        assert type(getattr(scatflow, name)(frontend=frontend, **kwargs)) is getattr(module, name)


def test_entry_classes_build_keras_layers_in_a_keras_process():
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    code = ("import scatflow, scatflow.keras as k; "
            "print(type(scatflow.HarmonicScattering3D(J=1, L=1, frontend='keras')) "
            "is k.HarmonicScattering3D)")
    env = dict(os.environ, KERAS_BACKEND="torch")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "True"


# -- Kymatio's contract: its exception types, NumPy scalars, attributes set after construction --
SMALL = [("Scattering1D", dict(J=3, shape=256), (256,)),
         ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (16, 16)),
         ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1), (8, 8, 8))]
SMALL_IDS = [name for name, _, _ in SMALL]


def test_each_exception_is_both_kymatios_type_and_scatflows():
    from scatflow import errors

    assert issubclass(errors.ShapeError, ValueError) and issubclass(errors.ShapeError, RuntimeError)
    assert issubclass(errors.ParameterTypeError, TypeError)
    assert issubclass(errors.ParameterTypeError, ValueError)
    assert issubclass(errors.OrderNotImplementedError, NotImplementedError)
    assert issubclass(errors.OrderNotImplementedError, ValueError)
    assert issubclass(errors.BackendError, ImportError)
    assert issubclass(errors.BackendError, ValueError)
    assert issubclass(errors.FrontendError, RuntimeError)
    assert issubclass(errors.FrontendError, ValueError)


def test_unknown_frontend_and_backend_raise_kymatios_types():
    with pytest.raises(RuntimeError, match="'matlab' is not valid: frontend must be one of"):
        scatflow.Scattering2D(J=2, shape=(16, 16), frontend="matlab")
    with pytest.raises(ImportError, match="not supported: backend must be one of"):
        get_backend("matlab")


@pytest.mark.parametrize("frontend", ["numpy", "torch", "tensorflow", "jax"])
def test_a_backend_of_another_frontend_is_an_import_error(frontend):
    pytest.importorskip(frontend)
    with pytest.raises(ImportError, match="can not be called from the .* frontend"):
        scatflow.Scattering2D(J=2, shape=(16, 16), frontend=frontend, backend="doesnotexist")
    other = get_backend("torch" if frontend == "numpy" else "numpy")
    with pytest.raises(ImportError, match="is not supported by the .* frontend") as error:
        scatflow.Scattering2D(J=2, shape=(16, 16), frontend=frontend, backend=other)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("name, kwargs, x_shape", SMALL, ids=SMALL_IDS)
def test_numpy_scalars_and_0d_arrays_are_taken_for_integers_and_booleans(name, kwargs, x_shape):
    """As Kymatio's users pass them (`J = np.load(...)["J"]`); non-integral values stay refused."""
    numpy_kwargs = {key: np.array(value) if isinstance(value, int) else value
                    for key, value in kwargs.items()}
    numpy_kwargs["max_order"] = np.int64(2)
    flag = {"Scattering2D": "pre_pad", "HarmonicScattering3D": "rotation_covariant"}.get(name)
    if flag:
        numpy_kwargs[flag] = np.array(kwargs.get(flag, flag == "rotation_covariant"))
    x = np.random.default_rng(0).standard_normal(x_shape)
    S = getattr(scatflow.numpy, name)(**numpy_kwargs)
    np.testing.assert_array_equal(S(x), getattr(scatflow.numpy, name)(**kwargs)(x))
    for value in (np.array(2.0), np.float64(2.5), np.array(True)):
        with pytest.raises(TypeError, match="J must be an integer") as error:
            getattr(scatflow.numpy, name)(**dict(kwargs, J=value))
        assert isinstance(error.value, ValueError)  # Kymatio raises ValueError there


@pytest.mark.parametrize("name, kwargs, x_shape", SMALL, ids=SMALL_IDS)
def test_input_of_the_wrong_rank_or_size_is_a_runtime_error_too(name, kwargs, x_shape):
    S = getattr(scatflow.numpy, name)(**kwargs)
    words = {1: "one axis", 2: "two dimensions", 3: "three dimensions"}[len(x_shape)]
    with pytest.raises(RuntimeError, match=f"should have at least {words}") as error:
        S(np.zeros(x_shape[1:]))
    assert isinstance(error.value, ValueError)
    size = "of length" if len(x_shape) == 1 else "of spatial size"
    with pytest.raises(RuntimeError, match=f"NumPy array must be {size}"):
        S(np.zeros(x_shape[:-1] + (x_shape[-1] + 1,)))


@pytest.mark.parametrize("name, kwargs, x_shape", SMALL, ids=SMALL_IDS)
def test_parameters_set_after_construction_rederive_the_transform(name, kwargs, x_shape):
    x = np.random.default_rng(1).standard_normal((2,) + x_shape)
    S = getattr(scatflow.numpy, name)(**kwargs)
    S.max_order = 1
    fresh = getattr(scatflow.numpy, name)(**dict(kwargs, max_order=1))
    np.testing.assert_array_equal(S(x), fresh(x))
    assert S.output_size() == fresh.output_size() and len(S.meta()["order"]) == S.output_size()
    assert S.parameters() == fresh.parameters() and repr(S) == repr(fresh)
    S.out_type = "list"  # the format only: checked at the next call
    assert len(S(x)) == S.output_size()
    with pytest.raises(ValueError, match="max_order"):
        S.max_order = 3  # refused, and the transform stays as it was
    assert S.max_order == 1 and len(S(x)) == fresh.output_size()
    S.J = 0
    assert S.parameters()["J"] == 0 and S.output_size() == getattr(scatflow.numpy, name)(
        **dict(kwargs, J=0, max_order=1)).output_size()
