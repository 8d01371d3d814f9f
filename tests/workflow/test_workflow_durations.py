"""`transform.T` as a duration in a workflow spec ("16ms"): accepted when the spec is checked,
converted to samples with the input's time coordinate when it is opened (the bundled speech
recording, 16 kHz, its `time` in seconds), as `scatflow.xarray` converts it."""

import numpy as np
import pytest

from scatflow.workflow.plan import make_plan
from scatflow.workflow.spec import check_spec


def speech_spec(tmp_path, T, kind="scattering1d"):
    return check_spec({
        "input": {"dataset": "speech_windows", "options": {"size": 4096, "step": 4096},
                  "variables": ["speech"], "dims": ["time"]},
        "transform": {"kind": kind, "J": 6, "Q": 4, "T": T},
        "output": {"store": str(tmp_path / "out.zarr")}}, tmp_path)


def test_a_duration_T_is_the_samples_of_the_input_time_coordinate(tmp_path):
    in_samples = make_plan(speech_spec(tmp_path, 256)).output.speech
    as_duration = make_plan(speech_spec(tmp_path, "16ms")).output.speech
    assert as_duration.attrs["scatflow_T"] == 256
    assert as_duration.attrs["scatflow_averaging_scale"] == pytest.approx([0.016])
    np.testing.assert_array_equal(as_duration.values, in_samples.values)


def test_a_duration_that_is_not_whole_samples_is_refused_when_the_input_is_opened(tmp_path):
    spec = speech_spec(tmp_path, "16.03ms")
    with pytest.raises(ValueError, match="whole number"):
        make_plan(spec)
