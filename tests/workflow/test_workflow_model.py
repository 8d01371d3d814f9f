"""The workflow's `model` section: its checks, and the dask-ml pipeline on scikit-learn's digits
(scattering features against raw pixels), lazily, on the local scheduler and on a real cluster."""

import json
import subprocess
import sys

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

from scatflow.workflow.model import check_model, check_model_data, fit_model

pytest.importorskip("dask_ml")
datasets = pytest.importorskip("sklearn.datasets")

TRANSFORM = {"kind": "scattering2d", "J": 1, "L": 8, "max_order": 2, "backend": "numpy",
             "dtype": "float64", "chunking": "rechunk", "nan_policy": "propagate"}
DIMS = ("y", "x")
SMALL_CHUNKS = {"array.chunk-size": "256KiB"}  # digits' 1797 rows (512 B each) in 4 blocks


@pytest.fixture(scope="module")
def digits():
    """The digits as the workflow opens them: lazy images(sample, y, x) and label(sample)."""
    bunch = datasets.load_digits()
    return xr.Dataset({"images": (("sample", "y", "x"), bunch.images.astype(np.float64)),
                       "label": ("sample", bunch.target.astype(np.int64))}).chunk({"sample": 500})


def _without_seconds(metrics):
    return {key: value for key, value in metrics.items() if key != "seconds"}


def test_importing_the_model_step_imports_no_scikit_learn():
    code = ("import sys, scatflow.workflow.model; "
            "print(sorted({'sklearn', 'dask_ml'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_check_model_reports_every_problem_at_once():
    section = {"estimator": "random_forest", "test_fraction": 1.5, "random_state": -1,
               "standardize": "yes", "max_iter": 0, "solver": "lbfgs"}
    problems = check_model(section)
    fields = sorted(p.split(":")[0] for p in problems)
    assert fields == ["model.estimator", "model.max_iter", "model.random_state",
                      "model.solver", "model.standardize", "model.target",
                      "model.test_fraction"], problems
    assert check_model({"target": "label"}) == []
    assert check_model({"target": "label", "estimator": "sgd", "test_fraction": 0.5,
                        "random_state": 3, "standardize": False, "max_iter": 5}) == []


@pytest.mark.parametrize("section, field", [
    (["target", "label"], "model:"),
    ({"target": ""}, "model.target:"),
    ({"target": "label", "estimator": ["sgd"]}, "model.estimator:"),
    ({"target": "label", "test_fraction": True}, "model.test_fraction:"),
    ({"target": "label", "test_fraction": 0}, "model.test_fraction:"),
    ({"target": "label", "random_state": 1.0}, "model.random_state:"),
    ({"target": "label", "max_iter": 2.5}, "model.max_iter:"),
])
def test_check_model_rejects_wrong_types(section, field):
    problems = check_model(section)
    assert len(problems) == 1 and problems[0].startswith(field), problems


def test_check_model_data_catches_a_wrong_target(digits):
    ds = digits.assign(brightness=digits.images.mean("sample"),
                       score=digits.label.astype(float), one_class=digits.label * 0)

    def check(target, data=ds):
        return check_model_data({"target": target}, data, "images", DIMS)

    assert check("label") == []
    assert "not a variable" in check("labels")[0]
    assert "exactly the loop dims" in check("brightness")[0]
    assert "exactly the loop dims" in check("images")[0]
    assert "class labels" in check("score")[0]
    assert "at least 2" in check("one_class")[0]
    assert check("label", ds.isel(sample=slice(0, 12)))[0].startswith("model.test_fraction:")
    single_image = ds.isel(sample=0)
    assert "nothing to classify" in check("label", single_image)[0]


def test_fit_model_refuses_a_bad_section_before_any_work(digits):
    with pytest.raises(ValueError, match="model.estimator:.*\n.*model.test_fraction"):
        fit_model({"target": "label", "estimator": "svm", "test_fraction": 2}, TRANSFORM,
                  digits, "images", DIMS)


def test_fit_model_on_digits_is_lazy_deterministic_and_beats_raw_pixels(digits, monkeypatch):
    """The sgd pipeline: no 2-D dask array is ever turned into NumPy in the driver (the images
    and features stay in dask), and two runs give the same metrics."""
    section = {"target": "label", "estimator": "sgd"}
    to_numpy = da.Array.__array__

    def only_labels(self, *args, **kwargs):
        assert self.ndim < 2, f"a {self.shape} dask array was computed in the driver"
        return to_numpy(self, *args, **kwargs)

    with dask.config.set(SMALL_CHUNKS), monkeypatch.context() as patch:
        patch.setattr(da.Array, "__array__", only_labels)
        first = fit_model(section, TRANSFORM, digits, "images", DIMS)
    with dask.config.set(SMALL_CHUNKS):
        second = fit_model(section, TRANSFORM, digits, "images", DIMS)
    assert json.loads(json.dumps(first)) == first
    assert _without_seconds(first) == _without_seconds(second)
    assert first["n_train"] + first["n_test"] == 1797
    assert 400 <= first["n_test"] <= 500
    assert (first["n_classes"], first["n_features"]) == (10, 9 * 4 * 4)
    assert first["test_accuracy"] > 0.95
    assert first["test_accuracy"] > first["raw_test_accuracy"]


def test_fit_model_logistic_regression(digits):
    """dask-ml's (binary) logistic regression, on two digits that look alike."""
    pair = digits.isel(sample=np.flatnonzero(np.isin(digits.label.values, [3, 8])))
    section = {"target": "label", "estimator": "logistic_regression", "random_state": 1}
    metrics = fit_model(section, TRANSFORM, pair, "images", DIMS)
    assert metrics["estimator"] == "logistic_regression"
    assert metrics["n_classes"] == 2
    assert metrics["test_accuracy"] > 0.9
    assert metrics["train_accuracy"] >= metrics["test_accuracy"] - 0.05


@pytest.mark.cluster
def test_fit_model_on_a_cluster_matches_the_local_scheduler(digits):
    distributed = pytest.importorskip("distributed")
    section = {"target": "label", "random_state": 7, "max_iter": 5}
    with dask.config.set(SMALL_CHUNKS):
        local = fit_model(section, TRANSFORM, digits, "images", DIMS)
        with (distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                       dashboard_address=None) as cluster,
              distributed.Client(cluster, set_as_default=False) as client,
              distributed.get_task_stream(client=client) as tasks):
            remote = fit_model(section, TRANSFORM, digits, "images", DIMS, client=client)
    assert _without_seconds(remote) == _without_seconds(local)
    assert remote["estimator"] == "sgd" and remote["test_accuracy"] > 0.95
    keys = {str(task["key"]) for task in tasks.data}
    assert any("scatflow-scattering2d" in key for key in keys)
    assert len({task["worker"] for task in tasks.data}) == 2
