"""What the fast 1D filter construction relies on: band evaluation, closed-form L1 norms,
band supports and levels give Kymatio's dense definitions; the bank's zeros cost no memory."""

import os

import numpy as np
import pytest

from scatflow.filters import morlet1d as M
from scatflow.filters import morlet1d_design as D

# (N, J, Q): wide (dense) rows, rows whose time envelope wraps, kappa terms, wavelets narrower
# than a bin, odd and non-power-of-two N
BANKS = [(131072, 13, 12), (131072, 13, 1), (8192, 8, 8), (2048, 8, 1), (1000, 7, 3), (999, 6, 2),
         (64, 8, 12), (512, 8, 4), (4096, 4, 16)]


def _rows(N, J, Q):
    """A few rows of each kind (all of them for small banks)."""
    xi, sigma, _ = D.filter_params(J, Q)
    rows = np.unique(np.linspace(0, len(xi) - 1, len(xi) if N <= 8192 else 9).astype(int))
    return np.array(xi)[rows], np.array(sigma)[rows]


def _kymatio(N, xi, sigma):
    """Kymatio's plain definition: all periods, L1 norm from the inverse FFT."""
    P = np.minimum(D.adaptive_choice_P(sigma), D.MAX_PERIODS)
    out = np.empty((len(sigma), N))
    for p in np.unique(P):
        out[P == p] = D._morlet_dense(N, xi[P == p], sigma[P == p], p)
    return out / np.abs(np.fft.ifft(out, axis=-1)).sum(-1, keepdims=True)


@pytest.mark.parametrize("N, J, Q", BANKS)
def test_bands_and_norms_give_kymatios_filters(N, J, Q):
    xi, sigma = _rows(N, J, Q)
    ours, reference = D.morlet_1d(N, xi, sigma), _kymatio(N, xi, sigma)
    peak = np.abs(reference).max(-1, keepdims=True)
    assert np.all(np.abs(ours - reference) <= 1e-13 * peak)


@pytest.mark.parametrize("N, J, Q", BANKS)
def test_l1_norm_forms_equal_the_fft(N, J, Q):
    xi, sigma = _rows(N, J, Q)
    layout = D._band_layout(N, xi, sigma)
    norms = D._l1_norms(N, xi, sigma, layout)
    raw = np.zeros((len(xi), N))
    D._fill(raw, xi, sigma, layout, np.ones(len(xi)))
    known = ~np.isnan(norms)
    np.testing.assert_allclose(norms[known], D.l1_norm_time(raw[known])[:, 0], rtol=1e-13)


@pytest.mark.parametrize("N, J, Q", BANKS)
def test_band_support_covers_the_filters(N, J, Q):
    xi, sigma = _rows(N, J, Q)
    bank = D.morlet_bank(N, xi, sigma)
    below, above = (np.array(a) for a in bank.support)
    eps_below, eps_above = (np.array(a) for a in D.support_bins(bank.filters, D.SUPPORT_EPS))
    nonzero_below, nonzero_above = (np.array(a) for a in D.support_bins(bank.filters, 0.0))
    assert np.all((below >= eps_below) & (above >= eps_above))  # nothing over SUPPORT_EPS left out
    full = below + above >= N - 1
    assert np.all(full | ((below >= nonzero_below) & (above >= nonzero_above)))  # zero outside
    assert np.all(full | (below + above <= eps_below + eps_above + 8))  # and hardly wider


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_levels_fold_the_bands(reduction):
    bank = M.filter_bank_1d(4096, 8, 8, 1, 256, 2, psi2_levels=6, phi_levels=9,
                            reduction=reduction)
    j2 = np.array(D.filter_params(8, 1)[2])
    for k, level in enumerate(bank["psi2"]):
        used = j2 > k if k else np.ones(j2.size, bool)
        expected = M.periodize(bank["psi2"][0][used], k, reduction)
        np.testing.assert_allclose(level[used], expected, rtol=0, atol=1e-15)
        assert not level[~used].any()
    for k, level in enumerate(bank["phi"]):
        expected = M.periodize(bank["phi"][0], k, reduction)
        np.testing.assert_allclose(level, expected, rtol=0, atol=1e-15)


def _resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's /proc")
def test_zeros_of_a_bank_cost_no_memory():
    """J=13, Q=12 on 3 * 2**16 bins: 214 MB as a dense array, a few MB of bands."""
    xi, sigma, _ = D.filter_params(13, 12)
    before = _resident_mb()
    bank = D.morlet_bank(3 * 2**16, np.array(xi), np.array(sigma))
    assert bank.filters.nbytes > 200 * 2**20
    assert _resident_mb() - before < 60
