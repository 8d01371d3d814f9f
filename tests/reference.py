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


def scatflow_kwargs(path):
    """(kwargs, x, data): the fixture's Kymatio kwargs as scatflow takes them (tuples for JSON
    lists; a 1D 0.3.0 file gets kymatio_compat="0.3", its average=False becomes T=0)."""
    params, x, data = load_fixture(path)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    if "-0.3.0-1d-" in Path(path).name:
        kwargs["kymatio_compat"] = "0.3"
        if kwargs.pop("average", None) is False:
            kwargs["T"] = 0
    return kwargs, x, data


def list_error(ours, refs):
    """The metric for list outputs (coefficients of different lengths): each coefficient is a
    channel, the floor is 1e-6 of the largest reference value."""
    assert len(ours) == len(refs)
    floor = 1e-6 * max(np.max(np.abs(r)) for r in refs)
    worst = 0.0
    for o, r in zip(ours, refs):
        o = np.asarray(o, dtype=np.float64)
        assert o.shape == r.shape, (o.shape, r.shape)
        worst = max(worst, np.max(np.abs(o - r)) / max(np.max(np.abs(r)), floor))
    return worst


def fixture_error(path, out, x_ndim_signal):
    """DESIGN.md's metric between scatflow's output `out` and a fixture's reference: channels
    are the path axis (1D/2D) or each (k, l) slot (3D); list outputs use `list_error`."""
    _, x, data = load_fixture(path)
    if isinstance(out, list):
        refs = [data[k] for k in sorted(k for k in data.files if k.startswith("coef_"))]
        return list_error([item["coef"] for item in out], refs)
    batch_ndim = x.ndim - x_ndim_signal
    ref = data["S"]
    if x_ndim_signal == 3:
        out = out.reshape(out.shape[:batch_ndim] + (-1, out.shape[-1]))
        ref = ref.reshape(ref.shape[:batch_ndim] + (-1, ref.shape[-1]))
    return worst_channel_error(out, ref, channel_axis=batch_ndim)


def transform_error(ours, ref, kind, batch_ndim=1):
    """DESIGN.md's per-channel metric between two outputs of transform `kind` ('1d', '2d', '3d',
    'jtfs') with `batch_ndim` batch dims first: the path axis is the channel axis (3D: each
    (k, l) slot is a channel)."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    if kind == "3d":
        ours = ours.reshape(ours.shape[:batch_ndim] + (-1, ours.shape[-1]))
        ref = ref.reshape(ref.shape[:batch_ndim] + (-1, ref.shape[-1]))
    return worst_channel_error(ours, ref, channel_axis=batch_ndim)


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
