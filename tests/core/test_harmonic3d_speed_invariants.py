"""HarmonicScattering3D's shortcuts change no number: mirrored orders (|x * psi_{-m}| read off
|x * psi_m| where the filter is mirror-symmetric on the DFT grid) against computing every order."""

import numpy as np
import pytest

import scatflow.filters.harmonic3d as fh
from scatflow.numpy import HarmonicScattering3D


def mirror_defect(shape, l, sigma):
    """max_k |psi(-k) - (-1)^l psi(k)| / max |psi| over the orders m, on the DFT grid."""
    bank = fh.solid_harmonic_filter_bank(shape, 0, l, sigma)[l][0]  # (2l+1, M, N, O)
    mirrored = bank
    for axis in (-3, -2, -1):
        mirrored = np.roll(np.flip(mirrored, axis), 1, axis)
    return np.abs(mirrored - (-1) ** l * bank).max() / np.abs(bank).max()


@pytest.mark.parametrize("shape", [(16, 16, 16), (8, 12, 10)])
@pytest.mark.parametrize("l", [1, 2, 3])
@pytest.mark.parametrize("sigma", [1.0, 2.0, 4.0, 8.0])
def test_mirror_symmetric_means_the_grid_is_mirror_symmetric(shape, l, sigma):
    defect = mirror_defect(shape, l, sigma)
    if fh.mirror_symmetric(shape, l, sigma):
        assert defect <= 1e-15  # rounding: the tolerance 2^-80 is far below it
    else:
        assert defect > fh.MIRROR_TOLERANCE


def test_mirror_symmetric_needs_even_sizes_and_a_wide_filter():
    assert fh.mirror_symmetric((32, 32, 32), 2, 4.0)
    assert not fh.mirror_symmetric((32, 32, 32), 2, 2.0)  # 1e-7 of its peak on the planes
    assert not fh.mirror_symmetric((32, 33, 32), 2, 4.0)  # odd: the grid's origin is at 1
    assert fh.mirror_symmetric((8, 8, 8), 1, 1e100)  # zero on the planes: no overflow


@pytest.mark.parametrize("shape, kwargs", [
    ((16, 16, 16), dict(J=2, L=2)),
    ((12, 8, 10), dict(J=3, L=3, integral_powers=(0.5, 1.0, 2.0, 3.0))),
    ((8, 8, 8), dict(J=2, L=1, max_order=1, sigma_0=2.0)),
])
def test_mirrored_orders_equal_computing_every_order(shape, kwargs):
    x = np.random.default_rng(11).standard_normal((3,) + shape) + 0.5
    S = HarmonicScattering3D(shape=shape, **kwargs)
    assert any(any(row) for row in S.core.mirrored)
    mirrored = S(x)
    S.core.working_bytes = S.core.group_bytes = 16 * np.prod(shape)  # one order at a time
    one_order_at_a_time = S(x)
    S.core.mirrored = [[False] * len(row) for row in S.core.mirrored]
    every_order = S(x)
    np.testing.assert_allclose(mirrored, every_order, rtol=1e-13)
    np.testing.assert_allclose(one_order_at_a_time, every_order, rtol=1e-13)
