"""average=False in 2D and 3D: the unaveraged moduli U1, U2 against an independent NumPy
computation from the filter banks, their shapes, grids and metadata, the averaged transform
as their low-pass (2D) or integrals (3D), the frameworks against NumPy, and the refusals."""

import numpy as np
import pytest
import scipy.fft

from scatflow.filters.harmonic3d import solid_harmonic_filter_bank
from scatflow.filters.morlet2d import filter_bank_2d
from scatflow.numpy import HarmonicScattering3D, Scattering2D

SHAPE_2D, J_2D, L_2D = (37, 45), 3, 4
SHAPE_3D, J_3D, L_3D = (12, 14, 16), 2, 2


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).standard_normal((2,) + SHAPE_2D)


@pytest.fixture(scope="module")
def volume():
    return np.random.default_rng(1).standard_normal((2,) + SHAPE_3D)


# -- 2D: an independent computation -----------------------------------------------------------
def padded_maps_2d(x, J, L):
    """{path key: (map on the padded grid at resolution 2^-j, j)}: reflect padding as Kymatio
    pads, full-resolution circular convolutions in Fourier, decimation in space."""
    M, N = x.shape[-2:]
    Mp, Np = (((n + 2**J) // 2**J + 1) * 2**J for n in (M, N))
    top, left = (Mp - M) // 2, (Np - N) // 2
    pads = [(0, 0)] * (x.ndim - 2) + [(top, Mp - M - top), (left, Np - N - left)]
    U0 = np.pad(x, pads, mode="reflect")
    _, psi = filter_bank_2d(Mp, Np, J, L)

    def modulus(U, j, r, theta):
        step = 2 ** (j - r)
        full = scipy.fft.ifft2(scipy.fft.fft2(U) * psi[j][r][theta])
        return np.abs(full[..., ::step, ::step])

    maps = {(): (U0, 0)}
    for j1 in range(J):
        for t1 in range(L):
            U1 = modulus(U0, j1, 0, t1)
            maps[(j1, t1)] = (U1, j1)
            for j2 in range(j1 + 1, J):
                for t2 in range(L):
                    maps[(j1, t1, j2, t2)] = (modulus(U1, j2, j1, t2), j2)
    return maps, (top, left)


def inside(U, j, before, sizes):
    """The samples k of U (padded grid at resolution 2^-j) with k 2^j inside the image."""
    cuts = []
    for b, n in zip(before, sizes):
        first = -(-b // 2**j)
        last = -(-(b + n) // 2**j)
        cuts.append(slice(first, last))
    return U[..., cuts[0], cuts[1]]


def test_2d_maps_match_an_independent_computation(image):
    out = Scattering2D(J_2D, SHAPE_2D, L=L_2D, average=False, out_type="dict")(image)
    maps, before = padded_maps_2d(image, J_2D, L_2D)
    assert out.keys() == maps.keys()
    for key, (U, j) in maps.items():
        expected = inside(U, j, before, SHAPE_2D)
        assert out[key].shape == expected.shape, key
        np.testing.assert_allclose(out[key], expected, rtol=0, atol=1e-12 * np.abs(U).max())


def test_2d_averaged_is_the_lowpass_of_the_padded_maps(image):
    """S = phi * U on the padded grid, decimated to 2^-J, the outer samples dropped: the
    reference maps averaged this way give Scattering2D's averaged output."""
    averaged = Scattering2D(J_2D, SHAPE_2D, L=L_2D, out_type="dict")(image)
    maps, _ = padded_maps_2d(image, J_2D, L_2D)
    Mp, Np = maps[()][0].shape[-2:]
    phi, _ = filter_bank_2d(Mp, Np, J_2D, L_2D)
    for key, (U, j) in maps.items():
        step = 2 ** (J_2D - j)
        low = np.real(scipy.fft.ifft2(scipy.fft.fft2(U) * phi[j]))[..., ::step, ::step]
        np.testing.assert_allclose(averaged[key], low[..., 1:-1, 1:-1], rtol=0,
                                   atol=1e-12 * np.abs(U).max())


def test_2d_order_0_is_the_input_as_in_1d(image):
    from scatflow.numpy import Scattering1D

    out = Scattering2D(J_2D, SHAPE_2D, L=L_2D, average=False, out_type="list")(image)
    assert out[0]["order"] == 0 and out[0]["decimation"] == 1
    np.testing.assert_array_equal(out[0]["coef"], image)
    signal = np.random.default_rng(3).standard_normal(512)
    first = Scattering1D(3, signal.size, T=0, out_type="list")(signal)[0]["coef"]
    np.testing.assert_array_equal(first, signal)  # 1D's average=False does the same


@pytest.mark.parametrize("max_order", [1, 2])
def test_2d_shapes_and_metadata_of_every_path(max_order):
    S = Scattering2D(J_2D, SHAPE_2D, L=L_2D, max_order=max_order, average=False,
                     out_type="list")
    out = S(np.zeros((3,) + SHAPE_2D))
    averaged_paths = Scattering2D(J_2D, SHAPE_2D, L=L_2D, max_order=max_order).core.paths
    assert [(o["j"], o["theta"]) for o in out] == [
        (p.fields["j"], p.fields["theta"]) for p in averaged_paths]
    meta = S.meta()
    for i, o in enumerate(out):
        j = o["j"][-1] if o["j"] else 0
        assert o["order"] == len(o["j"]) == meta["order"][i]
        assert o["decimation"] == meta["decimation"][i] == 2**j
        grid = S.core.map_grid(j)
        assert o["coef"].shape == (3,) + tuple(length for _, _, length in grid)
        for (offset, step, length), n in zip(grid, SHAPE_2D):
            assert step == 2**j and 0 <= offset < step
            assert offset + (length - 1) * step < n <= offset + length * step  # all inside


def test_2d_map_grid_places_the_samples():
    """A point at image sample p = offset + k step of a resolution-2^-j grid: the modulus of
    a wavelet (an envelope peaked at 0) peaks at map sample k in U1 and U2."""
    J, shape = 3, (64, 72)
    S = Scattering2D(J, shape, L=2, average=False, out_type="dict")
    for key, j in [((1, 0), 1), ((2, 1), 2), ((0, 0, 2, 1), 2), ((1, 1, 2, 0), 2)]:
        (y0, step, _), (x0, _, _) = S.core.map_grid(j)
        k = (5, 6)
        x = np.zeros(shape)
        x[y0 + k[0] * step, x0 + k[1] * step] = 1.0
        U = S(x)[key]
        assert np.unravel_index(np.argmax(U), U.shape) == k, key


def test_2d_pre_pad_gives_the_same_maps(image):
    S = Scattering2D(J_2D, SHAPE_2D, L=L_2D, average=False, out_type="dict")
    padded = Scattering2D(J_2D, SHAPE_2D, L=L_2D, pre_pad=True, average=False, out_type="dict")
    x = np.pad(image, [(0, 0)] + list(S.core.pads), mode="reflect")
    assert padded.core.input_shape == x.shape[1:]
    ours, theirs = S(image), padded(x)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key])


def test_2d_average_true_is_the_default():
    x = np.random.default_rng(2).standard_normal(SHAPE_2D)
    default = Scattering2D(J_2D, SHAPE_2D, L=L_2D)
    np.testing.assert_array_equal(default(x), Scattering2D(J_2D, SHAPE_2D, L=L_2D,
                                                           average=True)(x))
    assert "decimation" not in default.meta()


# -- 3D: an independent computation -----------------------------------------------------------
def maps_3d(x, J, L, rotation_covariant):
    """{(l, j1) and (l, j1, j2): U}: sqrt(sum_m |x * psi_{l,j,m}|^2) (covariant) or
    |x * psi_{l,j,-l}|, circular convolutions in Fourier at full resolution."""
    bank = solid_harmonic_filter_bank(x.shape[-3:], J, L, 1.0)
    axes = (-3, -2, -1)

    def modulus(U, l, j):
        filters = bank[l][j] if rotation_covariant else bank[l][j][:1]
        spectrum = scipy.fft.fftn(U, axes=axes)[..., None, :, :, :]
        responses = scipy.fft.ifftn(spectrum * filters, axes=axes)
        return np.sqrt(np.sum(np.abs(responses) ** 2, axis=-4))

    maps = {}
    for l in range(L + 1):
        for j1 in range(J + 1):
            U1 = modulus(x, l, j1)
            maps[(l, j1)] = U1
            for j2 in range(j1 + 1, J + 1):
                maps[(l, j1, j2)] = modulus(U1, l, j2)
    return maps


@pytest.mark.parametrize("rotation_covariant", [True, False])
def test_3d_maps_match_an_independent_computation(volume, rotation_covariant):
    S = HarmonicScattering3D(J_3D, SHAPE_3D, L=L_3D, rotation_covariant=rotation_covariant,
                             average=False, out_type="dict")
    out = S(volume)
    maps = maps_3d(volume, J_3D, L_3D, rotation_covariant)
    assert out.keys() == maps.keys()
    for key, U in maps.items():
        assert out[key].shape == (2,) + SHAPE_3D
        np.testing.assert_allclose(out[key], U, rtol=0, atol=1e-12 * np.abs(U).max())


def test_3d_averaged_is_the_integrals_of_the_maps(volume):
    powers = (0.5, 1.0, 2.0)
    maps = HarmonicScattering3D(J_3D, SHAPE_3D, L=L_3D, average=False, out_type="list")(volume)
    integrals = HarmonicScattering3D(J_3D, SHAPE_3D, L=L_3D, integral_powers=powers,
                                     out_type="list")(volume)
    assert [(m["order"], m["l"], m["j"]) for m in maps] == [
        (i["order"], i["l"], i["j"]) for i in integrals]
    for m, i in zip(maps, integrals):
        expected = np.stack([np.sum(m["coef"] ** p, axis=(-3, -2, -1)) for p in powers], -1)
        np.testing.assert_allclose(i["coef"], expected, rtol=1e-10)


def test_3d_max_order_1_paths():
    S = HarmonicScattering3D(J_3D, SHAPE_3D, L=L_3D, max_order=1, average=False,
                             out_type="list")
    out = S(np.zeros(SHAPE_3D))
    assert len(out) == (J_3D + 1) * (L_3D + 1)
    assert {o["order"] for o in out} == {1} and out[0]["coef"].shape == SHAPE_3D


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda **kw: Scattering2D(2, (16, 16), **kw),
    lambda **kw: HarmonicScattering3D(1, (8, 8, 8), **kw)], ids=["2d", "3d"])
def test_array_output_refuses_average_false(make):
    with pytest.raises(ValueError, match="out_type='list' or 'dict'"):
        make(average=False)
    with pytest.raises(ValueError, match="out_type='array' cannot hold"):
        make(average=False, out_type="array")
    S = make(average=False, out_type="list")
    S.out_type = "array"  # checked at the call, as every out_type
    with pytest.raises(ValueError, match="out_type='array' cannot hold"):
        S(np.zeros(S.core.input_shape))
    with pytest.raises(TypeError, match="average"):
        make(average="no", out_type="list")
    S = make()  # assigned after construction (as Kymatio's users do), checked the same way
    with pytest.raises(ValueError, match="out_type='array' cannot hold"):
        S.average = False
    assert S.average is True and S.core.array_shape is not None
    S.out_type = "list"
    S.average = False
    assert S.core.array_shape is None and not S.core.average


@pytest.mark.parametrize("name, args, shape", [
    ("scattering2d", (2,), (2, 16, 16)), ("harmonic_scattering3d", (1,), (1, 8, 8, 8))])
def test_dask_and_xarray_refuse_average_false(name, args, shape):
    import dask.array as da
    import xarray as xr

    import scatflow.dask as scat_dask
    import scatflow.xarray  # noqa: F401  (the accessor)

    with pytest.raises(ValueError, match="use a frontend"):
        getattr(scat_dask, name)(da.zeros(shape), *args, average=False)
    dims = ("y", "x") if len(shape) == 3 else ("z", "y", "x")
    field = xr.DataArray(np.zeros(shape[1:]), dims=dims)
    with pytest.raises(ValueError, match="use a frontend"):
        getattr(field.scat, name)(*args, average=False)
