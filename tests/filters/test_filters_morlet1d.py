"""The 1D Morlet filter bank (scatflow.filters.morlet1d): Kymatio's constants and properties."""

import math

import numpy as np
import pytest
import scipy.fft

from scatflow.filters import morlet1d as M
from scatflow.filters import morlet1d_design as D


def test_xi_max_and_sigma_constants():
    assert D.compute_xi_max(1) == 0.35
    assert D.compute_xi_max(8) == pytest.approx(0.43538, abs=1e-5)
    for Q in range(1, 21):
        assert 0.25 <= D.compute_xi_max(Q) <= 0.5
    # r = sqrt(1/2): the last factor is 1 / sqrt(ln 2)
    assert D.compute_sigma_psi(0.35, 1) == pytest.approx(0.35 / 3 / math.sqrt(math.log(2)), rel=1e-14)


@pytest.mark.parametrize("J, Q, count", [(6, 8, 38), (6, 1, 7), (8, 12, 76), (13, 12, 136)])
def test_filter_counts(J, Q, count):
    xi, sigma, j = D.filter_params(J, Q)
    assert len(xi) == len(sigma) == len(j) == count
    assert all(a > b for a, b in zip(xi, xi[1:]))  # decreasing centre frequencies
    assert all(a <= b for a, b in zip(j, j[1:]))
    sigma_min = D.SIGMA0 / 2**J
    assert sigma_min * (1 - 1e-12) <= min(sigma) <= sigma_min * 2 ** (1 / Q)
    if Q > 1:  # the Q - 1 filters of the linear part have bandwidth sigma_min
        assert sigma[-(Q - 1):] == (sigma_min,) * (Q - 1)


def test_second_order_octaves():
    xi, _, j = D.filter_params(6, 1)
    np.testing.assert_allclose(xi, 0.35 / 2 ** np.arange(7), rtol=1e-13)
    assert xi[-1] == pytest.approx(0.00547, abs=1e-5)
    assert j[0] == 0


def test_linear_part_compat_differs_only_in_last_bits():
    main = D.filter_params(8, 12)[0]
    old = D.filter_params(8, 12, kymatio_compat="0.3")[0]
    np.testing.assert_allclose(main, old, rtol=1e-14)


@pytest.mark.parametrize("Q", [1, 2, 4, 8, 12, 16])
def test_no_aliasing_at_subsampling_index(Q):
    """Kymatio's anti-aliasing checks: xi < 2^-(j+1), the wavelet has decayed below 1% of its
    peak at the new Nyquist frequency, and j1 < j2 implies xi1 > xi2."""
    N, J = 2**12, 7
    xi, sigma, j = D.filter_params(J, Q)
    psi = D.morlet_1d(N, np.array(xi), np.array(sigma))
    for row, (x, jj) in enumerate(zip(xi, j)):
        assert x < 0.5 / 2**jj
        if jj > 0:
            assert abs(psi[row, N // 2 ** (jj + 1)]) < 1e-2 * np.abs(psi[row]).max()
    xi2, _, j2 = D.filter_params(J, 1)
    for a, ja in zip(xi, j):
        for b, jb in zip(xi2, j2):
            if ja < jb:
                assert a > b


def test_adaptive_choice_P_bound():
    for sigma in np.logspace(-5, 2, 10):
        for eps in np.logspace(-10, -5, 8):
            P = int(D.adaptive_choice_P(sigma, eps))
            assert math.exp(-((1 - P) ** 2) / (2 * sigma**2)) <= eps
            assert math.exp(-(P**2) / (2 * sigma**2)) <= eps


@pytest.mark.parametrize("Q", [1, 3, 8, 16])
def test_morlet_zero_mean_normalized_and_peaked(Q):
    N = 2**13
    xi = D.compute_xi_max(Q) / 2.0 ** np.arange(7)
    sigma = np.array([D.compute_sigma_psi(x, Q) for x in xi])
    psi = D.morlet_1d(N, xi, sigma)
    assert psi.shape == (7, N) and psi.dtype == np.float64
    assert np.all(np.abs(psi[:, 0]) <= 1e-12)  # zero mean in time
    time = np.abs(scipy.fft.ifft(psi, axis=-1))
    np.testing.assert_allclose(time.sum(-1), 1.0, rtol=1e-12)  # L1-normalized in time
    assert np.all(time.min(-1) / time.max(-1) < 1e-3)  # decays in time
    peak = np.argmax(np.abs(psi), axis=-1) / N
    np.testing.assert_allclose(peak, xi, rtol=1e-2)


def test_scalar_and_vector_forms_agree():
    xi, sigma = D.filter_params(6, 8)[:2]
    bank = D.morlet_1d(1024, np.array(xi), np.array(sigma))
    for row in (0, 10, len(xi) - 1):
        np.testing.assert_allclose(D.morlet_1d(1024, xi[row], sigma[row]), bank[row], rtol=1e-14)


@pytest.mark.parametrize("N, J, Q", [(1024, 6, 8), (2048, 8, 12), (700, 4, 1), (64, 8, 12)])
def test_windowed_evaluation_equals_dense(N, J, Q):
    """Narrow filters are evaluated on windows only; this gives Kymatio's full evaluation."""
    xi, sigma = (np.array(a) for a in D.filter_params(J, Q)[:2])
    dense = D._morlet_dense(N, xi, sigma, 2)
    dense /= np.abs(scipy.fft.ifft(dense, axis=-1)).sum(-1, keepdims=True)
    np.testing.assert_allclose(D.morlet_1d(N, xi, sigma), dense, rtol=0, atol=1e-14)


def test_l1_norm_from_real_fft():
    h = np.random.default_rng(0).standard_normal((3, 256))
    np.testing.assert_allclose(D.l1_norm_time(h)[:, 0], np.abs(np.fft.ifft(h)).sum(-1), rtol=1e-13)
    h = h[:, :255]  # odd length
    np.testing.assert_allclose(D.l1_norm_time(h)[:, 0], np.abs(np.fft.ifft(h)).sum(-1), rtol=1e-13)


@pytest.mark.parametrize("j", range(1, 8))
def test_gauss_symmetric_positive_unit_dc(j):
    N = 2**13
    g = D.gauss_1d(N, D.SIGMA0 / 2**j)
    assert np.max(np.abs(g[1:N // 2] - g[N // 2 + 1:][::-1])) < 1e-7
    phi = np.fft.ifft(g)
    assert np.min(phi.real) > -1e-7
    assert np.min(np.abs(phi)) / np.max(np.abs(phi)) < 1e-4
    assert g[0] == pytest.approx(1.0, abs=1e-6)


def test_littlewood_paley_bounds():
    """Kymatio's bank is not a tight frame, but the first-order energy stays within [0.3, 1.3]
    over the band it covers, never exceeds 1.3, and is almost analytic for Q >= 2."""
    for J, Q, N in [(8, 8, 8192), (6, 1, 2048), (6, 16, 4096), (5, 2, 1024)]:
        xi = D.filter_params(J, Q)[0]
        lp = (M.wavelets(N, J, Q) ** 2).sum(0)
        f = np.arange(N) / N
        band = (f >= xi[-1]) & (f <= xi[0])
        assert 0.3 <= lp[band].min() and lp.max() <= 1.3
        if Q >= 2:
            assert lp[N // 2 + 1:].max() < 0.02


def test_levels_sum_and_mean_reductions():
    """Level k is the spectrum of a signal decimated by 2^k: the mean over blocks is exact
    decimation (Kymatio 0.3.0); main's sum is 2^k times it (#984)."""
    h_f = M.wavelets(1024, 6, 8)[10]
    for k in range(4):
        mean = M.periodize(h_f, k, "mean")
        np.testing.assert_allclose(np.fft.ifft(mean), np.fft.ifft(h_f)[:: 2**k], atol=1e-15)
        np.testing.assert_allclose(M.periodize(h_f, k), 2**k * mean, rtol=1e-15, atol=1e-18)


def test_padding_and_border_indices():
    assert M.compute_padding(1024, 64) == (2048, 512, 512)
    assert M.compute_padding(1000, 32) == (2048, 524, 524)
    assert M.compute_padding(65536, 2**13)[0] == 131072
    N_pad, left, right = M.compute_padding(1000, 64)
    start, end = M.compute_border_indices(6, left, left + 1000)
    assert end[6] - start[6] == 15
    assert start[0] == left and end[0] == left + 1000


def test_temporal_support():
    phi = D.gauss_1d(4096, D.SIGMA0 / 64)
    support = M.compute_temporal_support(phi)
    h = np.abs(np.fft.ifft(phi))
    assert h[support:2048].sum() <= 1e-3 < h[support - 2:2048].sum()
    with pytest.warns(UserWarning, match="support"):
        assert M.compute_temporal_support(D.gauss_1d(16, D.SIGMA0 / 64)) == 8


@pytest.mark.parametrize("N, J, Q", [(8192, 8, 8), (2048, 6, 1), (64, 8, 12)])
def test_support_bins(N, J, Q):
    bank = M.wavelets(N, J, Q)
    below, above = D.support_bins(bank, D.SUPPORT_EPS)
    assert any(b + a < N - 1 for b, a in zip(below, above))  # some filters are band-limited
    for row, b, a in zip(bank, below, above):
        outside = np.abs(row[a + 1: N - b]) if a + 1 < N - b else np.zeros(1)
        assert outside.max() <= D.SUPPORT_EPS * np.abs(row).max()
    below0, above0 = D.support_bins(bank, 0.0)
    for row, b, a in zip(bank, below0, above0):
        assert not np.any(row[a + 1: max(a + 1, N - b)])  # exactly zero outside


def test_bank_is_cached_read_only_and_shaped():
    M.cache_clear()
    bank = M.filter_bank_1d(1024, 6, 8, 1, 64, 2, psi2_levels=3, phi_levels=5)
    assert M.filter_bank_1d(1024, 6, 8, 1, 64, 2, psi2_levels=3, phi_levels=5) is bank
    assert [a.shape for a in bank["phi"]] == [(1024 // 2**k,) for k in range(5)]
    assert bank["psi1"].shape == (38, 1024)
    assert [a.shape for a in bank["psi2"]] == [(7, 1024 // 2**k) for k in range(3)]
    for a in bank["phi"] + (bank["psi1"],) + bank["psi2"]:
        assert a.dtype == np.float64 and not a.flags.writeable
    with pytest.raises(ValueError):
        bank["psi1"][0, 0] = 1.0
    assert len(bank["support"]["psi1"][0]) == 38
    assert "psi2" not in M.filter_bank_1d(1024, 6, 8, 1, 64, 1)
    M.cache_clear()
    assert M.filter_bank_1d(1024, 6, 8, 1, 64, 2, psi2_levels=3, phi_levels=5) is not bank
