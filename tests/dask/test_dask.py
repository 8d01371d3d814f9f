"""scatflow.dask: the chunk-wise operators on dask arrays (local schedulers; the cluster tests are
in test_dask_cluster.py)."""

import logging

import dask
import dask.array as da
import numpy as np
import pytest

import scatflow.dask as sd
import scatflow.numpy as snp


def forbid_compute(*args, **kwargs):
    raise AssertionError("something was computed while the graph was built")


CASES = [  # (frontend, function, keywords, x shape, signal axes, axis keywords)
    ("Scattering1D", sd.scattering1d, dict(J=4, Q=4), (3, 2, 512), (2,), {}),
    ("Scattering1D", sd.scattering1d, dict(J=3, Q=2, T="global"), (256, 3), (0,), dict(axis=0)),
    ("Scattering2D", sd.scattering2d, dict(J=2, L=4), (5, 24, 20), (1, 2), {}),
    ("Scattering2D", sd.scattering2d, dict(J=2, L=3, max_order=1), (24, 3, 20), (0, 2),
     dict(axes=(0, 2))),
    ("HarmonicScattering3D", sd.harmonic_scattering3d, dict(J=1, L=1), (3, 10, 10, 10), (1, 2, 3),
     {}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, fn, kwargs, shape, signal_axes, axes", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_equals_the_numpy_frontend_and_builds_lazily(name, fn, kwargs, shape, signal_axes, axes,
                                                     dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ndim = len(signal_axes)
    moved = np.moveaxis(x, signal_axes, list(range(x.ndim - ndim, x.ndim)))
    signal = moved.shape[moved.ndim - ndim:]
    reference = getattr(snp, name)(shape=signal[0] if ndim == 1 else signal, **kwargs)(moved)
    chunks = tuple(-1 if a in signal_axes else 1 for a in range(x.ndim))
    with dask.config.set(scheduler=forbid_compute):
        y = fn(da.from_array(x, chunks=chunks), **kwargs, **axes)
    assert y.shape == reference.shape and y.dtype == reference.dtype == np.dtype(dtype)
    assert isinstance(y._meta, np.ndarray) and y._meta.dtype == np.dtype(dtype)
    batch = moved.ndim - ndim
    assert y.chunks[:batch] == tuple((1,) * n for n in moved.shape[:batch])
    out = y.compute(scheduler="threads")
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(out, reference, rtol=0, atol=tolerance * np.abs(reference).max())


def test_one_blockwise_layer_and_no_filters_in_the_graph():
    import pickle

    x = da.zeros((4, 128, 128), chunks=(1, 128, 128))
    y = sd.scattering2d(x, J=3, L=8)
    layers = set(y.__dask_graph__().layers) - set(x.__dask_graph__().layers)
    assert len(layers) == 1 and next(iter(layers)).startswith("scatflow-scattering2d")
    bank = sum(p["levels"][0].nbytes for p in sd.describe("Scattering2D", (128, 128), J=3, L=8).psi)
    assert bank > 1_000_000 and len(pickle.dumps(dict(y.__dask_graph__()))) < 50_000


def test_chunked_signal_axes_are_rechunked_whole_with_a_warning(caplog):
    x = np.random.default_rng(1).standard_normal((2, 1024))
    with caplog.at_level(logging.WARNING, logger="scatflow"):
        y = sd.scattering1d(da.from_array(x, chunks=(1, 256)), J=4, Q=2)
    assert "rechunked to one chunk per signal" in caplog.text and "chunking='halo'" in caplog.text
    np.testing.assert_allclose(y.compute(), snp.Scattering1D(J=4, shape=1024, Q=2)(x), rtol=1e-13)


def test_halo_1d_equals_the_unchunked_transform():
    x = np.random.default_rng(2).standard_normal((3, 8192))
    reference = snp.Scattering1D(J=6, shape=8192, Q=4)(x)
    y = sd.scattering1d(da.from_array(x, chunks=(2, 1000)), J=6, Q=4, chunking="halo")
    assert y.chunks[-1] != (reference.shape[-1],) and y.shape == reference.shape  # chunked output
    out = y.compute()
    scale = np.abs(reference).max(axis=(0, 2), keepdims=True)  # per channel
    assert (np.abs(out - reference) / scale).max() < 1e-12


def _halo_2d_error(filter_levels, caplog):
    """Per-channel error of the 2D halo result against the unchunked transform, at the output
    samples farther than the halo from the outer edges; and the frontend."""
    x = np.random.default_rng(3).standard_normal((2, 192, 224))
    S = sd.describe("Scattering2D", (192, 224), J=3, L=4, filter_levels=filter_levels)
    reference = S(x)
    with caplog.at_level(logging.WARNING, logger="scatflow"):
        y = sd.scattering2d(da.from_array(x, chunks=(1, 64, 64)), J=3, L=4, chunking="halo",
                            filter_levels=filter_levels)
    assert len(y.chunks[-1]) > 1 and len(y.chunks[-2]) > 1  # chunked output
    out = y.compute()
    halo = sd.halo_size(S)
    (oy, sy), (ox, sx) = S.core.output_grid
    py = oy + sy * np.arange(reference.shape[-2])
    px = ox + sx * np.arange(reference.shape[-1])
    inner = np.ix_((py >= halo[0]) & (py < 192 - halo[0]), (px >= halo[1]) & (px < 224 - halo[1]))
    scale = np.abs(reference).max(axis=(0, 2, 3), keepdims=True)
    error = (np.abs(out - reference) / scale)[..., inner[0], inner[1]]
    assert error.size
    return error, S


def test_halo_2d_with_local_filter_levels_equals_the_unchunked_transform(caplog):
    error, _ = _halo_2d_error("local", caplog)
    assert error.max() < 1e-10
    assert "filter_levels" not in caplog.text


def test_halo_2d_agrees_to_kymatios_filter_tails(caplog):
    """Kymatio's 2D low-resolution filters are spectrally truncated (sinc tails ~1/distance): the
    chunked result agrees with the unchunked one to ~2e-4 at J=3 inside the edge band, not 1e-12,
    and a warning says so."""
    error, S = _halo_2d_error("kymatio", caplog)
    assert error.max() < 1e-3
    assert "filter_levels='local'" in caplog.text
    order0_and_fine = [i for i, p in enumerate(S.core.paths) if max(p.fields["j"], default=0) < 2]
    assert error[:, order0_and_fine].max() < 1e-5  # only the paths through j = J-1 have the tails


def test_halo_graph_has_as_many_layers_for_40_chunks_as_for_4():
    def graph(function, shape, chunks, **kwargs):
        return function(da.zeros(shape, chunks=chunks), chunking="halo", **kwargs).dask

    few, many = (graph(sd.scattering1d, (2, 10240), (1, n), J=4, Q=2) for n in (2560, 256))
    assert len(many) > len(few) and len(many.layers) == len(few.layers)
    few, many = (graph(sd.scattering2d, (1, 160, 128), (1, *n), J=2, L=4)
                 for n in ((80, 64), (16, 32)))
    assert len(many) > len(few) and len(many.layers) == len(few.layers)


HALO_WINDOW_CASES = [  # (frontend, function, keywords, x shape, chunks)
    ("Scattering1D", sd.scattering1d, dict(J=6, Q=4), (2, 3000), (2, 100)),  # chunks < the halo
    ("Scattering1D", sd.scattering1d, dict(J=5, Q=2, T=16), (3, 5000),
     ((2, 1), (700, 1300, 1000, 2000))),
    ("Scattering2D", sd.scattering2d, dict(J=2, L=4, filter_levels="local"), (2, 72, 60),
     (1, 20, 24)),
    ("TimeFrequencyScattering", sd.time_frequency_scattering,
     dict(J=5, J_fr=2, Q=(8, 1), format="joint"), (2, 2048), (2, 500)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls_name, function, kwargs, shape, chunks", HALO_WINDOW_CASES)
def test_halo_blocks_are_the_transform_of_their_reflected_windows(cls_name, function, kwargs,
                                                                  shape, chunks, dtype):
    """Bit for bit, each output block is the in-memory transform (the same task, on one chunk)
    of its window: its output samples and `halo_size` on each side, rounded up to whole output
    steps plus one, placed on the global output grid, the signal reflected past its ends."""
    x = np.random.default_rng(8).standard_normal(shape).astype(dtype)
    ndim = len(shape) - 1
    y = function(da.from_array(x, chunks=chunks), chunking="halo", **kwargs)
    out = y.compute(scheduler="sync")
    S = sd.describe(cls_name, shape[1:], **kwargs)
    halo, grid = sd.halo_size(S), S.core.output_grid
    margins = [-(-h // step) + 1 for h, (_, step) in zip(halo, grid)]
    padded = np.pad(x, [(0, 0)] + [(n, n) for n in x.shape[1:]], mode="reflect")
    edges = [np.cumsum((0,) + c) for c in y.chunks[-ndim:]]
    batch_edges = np.cumsum((0,) + da.from_array(x, chunks=chunks).chunks[0])
    for index in np.ndindex(*[len(c) for c in y.chunks[-ndim:]]):
        lengths = [e[i + 1] - e[i] for e, i in zip(edges, index)]
        segment = [(n + 2 * m) * step for n, m, (_, step) in zip(lengths, margins, grid)]
        seg_grid = sd.describe(cls_name, segment, **kwargs).core.output_grid
        window = padded[(slice(None),) + tuple(
            slice(n + start, n + start + length) for n, start, length in zip(
                x.shape[1:], [o + e[i] * s - so - m * s for (o, s), e, i, (so, _), m
                              in zip(grid, edges, index, seg_grid, margins)], segment))]
        block = out[(Ellipsis,) + tuple(slice(e[i], e[i + 1]) for e, i in zip(edges, index))]
        crop = (Ellipsis,) + tuple(slice(m, m + n) for m, n in zip(margins, lengths))
        for b0, b1 in zip(batch_edges[:-1], batch_edges[1:]):  # one task per batch chunk
            alone = function(da.from_array(window[b0:b1], chunks=-1), **kwargs).compute()
            np.testing.assert_array_equal(block[b0:b1], alone[crop])


def test_nan_policies():
    x = np.random.default_rng(4).standard_normal((3, 32, 32))
    x[1, 5, 7] = np.nan
    dx = da.from_array(x, chunks=(1, 32, 32))
    propagated = sd.scattering2d(dx, J=2, L=4).compute()
    assert np.isnan(propagated[1]).all() and np.isfinite(propagated[[0, 2]]).all()
    filled = sd.scattering2d(dx, J=2, L=4, nan_policy=0.0).compute()
    expected = snp.Scattering2D(J=2, shape=(32, 32), L=4)(np.nan_to_num(x, nan=0.0))
    np.testing.assert_allclose(filled, expected, rtol=1e-13)
    with pytest.raises(ValueError, match="nan_policy='raise'"):
        sd.scattering2d(dx, J=2, L=4, nan_policy="raise").compute(scheduler="sync")


def test_nan_policy_mask_is_the_frontends():
    """nan_policy="mask" (with min_valid, a frontend keyword) is the NumPy frontend's, one signal
    per chunk or chunk-wise with a halo (equal away from the outer edges, as without NaN)."""
    x = np.random.default_rng(5).standard_normal((3, 4096))
    x[1, 1000:1300] = np.nan
    x[2, 2500:2520] = np.nan
    expected = snp.Scattering1D(J=5, shape=(4096,), Q=(4, 1), nan_policy="mask",
                                min_valid=0.7)(x)
    dx = da.from_array(x, chunks=(1, 1024))
    out = sd.scattering1d(dx, J=5, Q=(4, 1), nan_policy="mask", min_valid=0.7).compute()
    assert np.array_equal(out, expected, equal_nan=True) and np.isnan(out[1]).any()
    halo = sd.scattering1d(dx, J=5, Q=(4, 1), nan_policy="mask", min_valid=0.7,
                           chunking="halo").compute()
    edge = -(-sd.halo_size(sd.describe("Scattering1D", (4096,), J=5, Q=(4, 1)))[0] // 32) + 1
    inner = slice(edge, -edge)  # output samples (32 input samples apart) beyond the halo
    assert np.array_equal(np.isnan(halo[..., inner]), np.isnan(expected[..., inner]))
    np.testing.assert_allclose(halo[..., inner], expected[..., inner], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="nan_policy='mask' is not available"):
        sd.harmonic_scattering3d(da.zeros((2, 8, 8, 8), chunks=(1, 8, 8, 8)), J=1,
                                 nan_policy="mask")


@pytest.mark.parametrize("call, error, match", [
    (lambda x: sd.scattering2d(np.zeros((4, 16, 16)), J=2), TypeError, "dask array"),
    (lambda x: sd.scattering2d(x.astype(complex), J=2), TypeError, "real numeric"),
    (lambda x: sd.scattering2d(x, J=2, axes=(1, 1)), ValueError, "axes"),
    (lambda x: sd.scattering2d(x, J=2, axes=(1, 5)), ValueError, "axes"),
    (lambda x: sd.scattering2d(x, J=5), ValueError, "J"),
    (lambda x: sd.scattering2d(x, J=2, L=0), ValueError, "L"),
    (lambda x: sd.scattering2d(x, J=2, chunking="overlap"), ValueError, "chunking"),
    (lambda x: sd.scattering2d(x, J=2, nan_policy="omit"), ValueError, "nan_policy"),
    (lambda x: sd.scattering2d(x, J=2, nan_policy="mask", min_valid=2), ValueError, "min_valid"),
    (lambda x: sd.scattering2d(x, J=2, backend="torch"), ValueError, "backend"),
    (lambda x: sd.scattering2d(x, J=2, shape=(16, 16)), TypeError, "shape"),
    (lambda x: sd.harmonic_scattering3d(x[..., None].repeat(4, -1), J=1, chunking="halo"),
     ValueError, "halo"),
    (lambda x: sd.scattering1d(x, J=2, T=0, chunking="halo"), ValueError, "out_type|T=0"),
])
def test_bad_input_is_refused_before_any_task_runs(call, error, match):
    x = da.zeros((4, 16, 16), chunks=(1, 8, 8))
    with dask.config.set(scheduler=forbid_compute), pytest.raises(error, match=match):
        call(x)


def test_output_grid_locates_each_output_sample():
    """A spike at input sample offset + k * step puts the order-0 peak at output sample k."""
    for shape, J in [((37, 49), 2), ((45, 50), 3)]:
        S = snp.Scattering2D(J=J, shape=shape, L=4)
        (oy, sy), (ox, sx) = S.core.output_grid
        x = np.zeros(shape)
        x[oy + 3 * sy, ox + 4 * sx] = 1
        assert np.unravel_index(np.argmax(S(x)[0]), S.core.coefficient_shape) == (3, 4)
    for N, kwargs in [(1000, dict(J=4)), (1024, dict(J=5, Q=2, T=64, stride=16)),
                      (700, dict(J=4, kymatio_compat="0.3"))]:
        S = snp.Scattering1D(shape=N, **kwargs)
        offset, step = S.core.output_grid[0]
        x = np.zeros(N)
        x[offset + 10 * step] = 1
        assert np.argmax(S(x)[0]) == 10


class _StandInCupyArray(np.ndarray):
    """A NumPy array under CuPy's module name: what scatflow's type checks take for CuPy's."""


_StandInCupyArray.__module__ = "cupy._core.core"


@pytest.fixture
def stand_in_cupy(monkeypatch):
    """A CuPy made of NumPy (its arrays `_StandInCupyArray`), registered as `cupy` with the
    CuPy backend built on it; yields the lists of what it moved to and from the "GPU"."""
    import sys
    import types

    import scipy.fft

    import scatflow.backends.cupy as cupy_backend
    from scatflow.frontends import numpy as numpy_frontend

    moved, returned = [], []
    cupy = types.ModuleType("cupy")
    cupy.ndarray = _StandInCupyArray
    cupy.asarray = lambda a, dtype=None: moved.append(a) or np.asarray(a, dtype).view(
        _StandInCupyArray)
    cupy.asnumpy = lambda a: returned.append(a) or np.asarray(a)
    cupy.__getattr__ = lambda name: getattr(np, name)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    # into the module's dict: getattr would make the real backend (`__getattr__`)
    monkeypatch.setitem(vars(cupy_backend), "backend", cupy_backend.CupyBackend(cupy, scipy.fft))
    numpy_frontend._cached.cache_clear()  # frontends cached with the real "cupy" (or none)
    yield moved, returned
    numpy_frontend._cached.cache_clear()


def test_cupy_backend_on_numpy_blocks_moves_each_block_there_and_back(stand_in_cupy):
    """backend="cupy" on a NumPy-backed dask array (what a zarr store gives, and so what
    `scatflow run` with transform.backend: cupy passes on): each task copies its block to the
    GPU and its coefficients back, so the array stays NumPy-backed, as its meta says."""
    moved, returned = stand_in_cupy
    x = np.random.default_rng(4).standard_normal((4, 24, 20))
    y = sd.scattering2d(da.from_array(x, chunks=(2, 24, 20)), J=2, L=4, backend="cupy")
    assert type(y._meta) is np.ndarray and not sd.is_gpu_array(y)
    out = y.compute(scheduler="sync")
    reference = snp.Scattering2D(J=2, shape=(24, 20), L=4)(x)
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    blocks = [a for a in moved if type(a) is np.ndarray and a.shape == (2, 24, 20)]
    assert len(blocks) == len(returned) == 2  # each task's block there, its coefficients back
