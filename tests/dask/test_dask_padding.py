"""`padding_mode=` through `scatflow.dask`: passed to the frontend, and with chunking="halo" a
periodic axis takes its halo from its other end, so a field chunked along it (a global grid
chunked in longitude) gives the unchunked transform everywhere, edges included."""

import dask.array as da
import numpy as np
import pytest

import scatflow.dask as sd
import scatflow.numpy as snp


def channel_error(out, reference):
    """DESIGN.md's metric: worst over channels (axis 1) of the error relative to the channel."""
    axes = tuple(a for a in range(reference.ndim) if a != 1)
    return (np.abs(out - reference).max(axis=axes) / np.abs(reference).max(axis=axes)).max()


@pytest.mark.parametrize("mode, chunks", [(("reflect", "periodic"), (1, 40, 32)),
                                          ("periodic", (2, 16, 24))])
def test_halo_along_periodic_axes_equals_the_unchunked_transform(mode, chunks):
    x = np.random.default_rng(5).standard_normal((2, 40, 96))
    kwargs = dict(J=3, L=4, filter_levels="local", padding_mode=mode)
    reference = snp.Scattering2D(shape=(40, 96), **kwargs)(x)
    y = sd.scattering2d(da.from_array(x, chunks=chunks), chunking="halo", **kwargs)
    assert len(y.chunks[-1]) > 1 and y.shape == reference.shape
    assert channel_error(y.compute(), reference) < 1e-10


def test_halo_1d_periodic_equals_the_unchunked_transform_at_the_ends_too():
    x = np.random.default_rng(6).standard_normal((2, 4096))
    kwargs = dict(J=6, Q=4, padding_mode="periodic")
    reference = snp.Scattering1D(shape=4096, **kwargs)(x)
    y = sd.scattering1d(da.from_array(x, chunks=(2, 1024)), chunking="halo", **kwargs)
    assert len(y.chunks[-1]) > 1
    assert channel_error(y.compute(), reference) < 1e-10


def test_padding_mode_passes_through_the_default_chunking():
    x = np.random.default_rng(7).standard_normal((3, 32, 48))
    for mode in ("zero", ("symmetric", "periodic")):
        y = sd.scattering2d(da.from_array(x, chunks=(1, 16, 48)), J=2, L=4, padding_mode=mode)
        expected = snp.Scattering2D(J=2, shape=(32, 48), L=4, padding_mode=mode)(x)
        np.testing.assert_allclose(y.compute(), expected, rtol=1e-13)
    with pytest.raises(ValueError, match="padding_mode"):
        sd.scattering1d(da.zeros((2, 100)), J=3, padding_mode="wrap")
    with pytest.raises(ValueError, match="multiple of 8"):
        sd.scattering1d(da.zeros((2, 100)), J=3, padding_mode="periodic")
