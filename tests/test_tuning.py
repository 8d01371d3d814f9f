"""Tuning constants: defaults in `scatflow.tuning`, overridden per backend by an attribute."""

import numpy as np

from scatflow import tuning
from scatflow.backends.numpy import NumpyBackend
from scatflow.core.scattering1d import filters_per_step
from scatflow.numpy import Scattering1D


class SmallStepsBackend(NumpyBackend):
    """A backend that overrides a working set, as a GPU backend may."""

    scattering1d_working_bytes = 1


def test_a_backend_attribute_overrides_the_default_read_at_call_time(monkeypatch):
    backend, plain = SmallStepsBackend(threads=1), NumpyBackend(threads=1)
    assert tuning.setting(backend, "SCATTERING1D_WORKING_BYTES") == 1
    assert tuning.setting(plain, "SCATTERING1D_WORKING_BYTES") == tuning.SCATTERING1D_WORKING_BYTES
    assert filters_per_step(backend, 4, 1024, 16) < filters_per_step(plain, 4, 1024, 16)
    monkeypatch.setattr(tuning, "SLAB_BYTES", 7)
    assert tuning.setting(plain, "SLAB_BYTES") == 7


def test_an_overridden_working_set_gives_the_same_numbers():
    x = np.random.default_rng(3).standard_normal((3, 1024))
    expected = Scattering1D(6, 1024, (8, 2), backend=NumpyBackend(threads=1))(x)
    small = Scattering1D(6, 1024, (8, 2), backend=SmallStepsBackend(threads=1))(x)
    np.testing.assert_array_equal(small, expected)
