"""Kymatio reference fixtures and DESIGN.md's per-channel error metric, shared by the tests."""

import json
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_files(ref, transform):
    """Fixture paths for a Kymatio ref ('0.3.0' or 'main') and transform ('1d', '2d', '3d')."""
    return sorted(FIXTURES.glob(f"kymatio-{ref}-{transform}-*.npz"))


def load_fixture(path):
    """(params, x, data) of one fixture file; `params` are Kymatio's constructor kwargs."""
    data = np.load(path)
    params = json.loads(str(data["params"]))
    return params, data["x"], data


def worst_channel_error(ours, ref, channel_axis):
    """max over channels c of max|ours_c - ref_c| / max(max|ref_c|, 1e-6 max|ref|)."""
    ours = np.moveaxis(np.asarray(ours, dtype=np.float64), channel_axis, 0)
    ref = np.moveaxis(np.asarray(ref, dtype=np.float64), channel_axis, 0)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    floor = 1e-6 * np.max(np.abs(ref))
    worst = 0.0
    for c in range(ref.shape[0]):
        scale = max(np.max(np.abs(ref[c])), floor)
        worst = max(worst, np.max(np.abs(ours[c] - ref[c])) / scale)
    return worst
