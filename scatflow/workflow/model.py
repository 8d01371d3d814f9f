"""The optional `model` section of a workflow: scattering features -> a dask-ml classifier.

    model:
      target: label              # required: the class labels, one per signal
      estimator: sgd             # sgd | logistic_regression
      test_fraction: 0.25        # share of the samples held out, 0 < f < 1
      random_state: 0            # seeds the split and the sgd solver (0 <= int < 2**32)
      standardize: true          # a dask-ml StandardScaler before the classifier
      max_iter: null             # sgd: passes over the training set (10);
                                 # logistic_regression: L-BFGS iterations per class (100)

`target` names a variable (or coord) of the input dataset whose dims are exactly the loop dims
of the transformed variable (its dims other than the transformed ones), holding integer, boolean
or string labels. Each signal is one sample: the loop dims are flattened into samples, the
transformed dims into features, and the scattering runs on CPU with the NumPy backend through
`scatflow.sklearn` whatever the transform's backend (its other frontend keywords apply).

The estimators are dask-ml's. `sgd` (the default) is `Incremental(SGDClassifier(log_loss))`:
logistic regression by stochastic gradient, block by block, natively multiclass; one dask
computation per pass. `logistic_regression` is `dask_ml.linear_model.LogisticRegression`
(L-BFGS, L2, C=1), exact but binary only (dask/dask-ml#761), so fitted one-vs-rest and predicting
blockwise through `ParallelPostFit`; it costs one dask computation per iteration and class
(digits, 10 classes: ~25 s on the local scheduler, minutes on a cluster).

Everything is lazy, only the labels are computed in the driver. The rows are rechunked to dask's
"auto" size (so that every block splits), split blockwise with
`dask_ml.model_selection.train_test_split`, and the split (the input's values) is persisted, as
is each feature step's output on the training set (on the cluster when there is one): the
solvers read them many times. The same pipeline without the scattering step gives
`raw_test_accuracy`, for comparison.
"""

import math
import numbers
import time
import warnings
from collections.abc import Mapping
from contextlib import nullcontext

import numpy as np

ESTIMATORS = ("sgd", "logistic_regression")
DEFAULTS = {"estimator": "sgd", "test_fraction": 0.25, "random_state": 0,
            "standardize": True, "max_iter": None}
KEYS = ("target",) + tuple(DEFAULTS)
DEFAULT_MAX_ITER = {"sgd": 10, "logistic_regression": 100}
LABEL_KINDS = "biuUSO"  # integer, boolean and string dtypes
MIN_SPLIT_SAMPLES = 5


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_model(section):
    """Every problem of a `model` section that shows without data, one message per problem,
    each starting with its field."""
    if not isinstance(section, Mapping):
        return [f"model: must be a mapping with keys {', '.join(KEYS)}; "
                f"got {type(section).__name__}"]
    problems = [f"model.{key}: unknown key; allowed: {', '.join(KEYS)}"
                for key in section if key not in KEYS]
    target = section.get("target")
    if target is None:
        problems.append("model.target: missing; name the variable of the input dataset that "
                        "holds the class labels")
    elif not isinstance(target, str) or not target:
        problems.append(f"model.target: must be a variable name; got {target!r}")
    estimator = section.get("estimator", DEFAULTS["estimator"])
    if not isinstance(estimator, str) or estimator not in ESTIMATORS:
        problems.append(f"model.estimator: must be one of {', '.join(ESTIMATORS)}; "
                        f"got {estimator!r}")
    fraction = section.get("test_fraction", DEFAULTS["test_fraction"])
    if (not isinstance(fraction, numbers.Real) or isinstance(fraction, bool)
            or not 0 < fraction < 1):
        problems.append(f"model.test_fraction: must be a number in (0, 1); got {fraction!r}")
    seed = section.get("random_state", DEFAULTS["random_state"])
    if not _is_int(seed) or not 0 <= seed < 2**32:
        problems.append(f"model.random_state: must be an integer in [0, 2**32); got {seed!r}")
    standardize = section.get("standardize", DEFAULTS["standardize"])
    if not isinstance(standardize, bool):
        problems.append(f"model.standardize: must be true or false; got {standardize!r}")
    max_iter = section.get("max_iter")
    if max_iter is not None and (not _is_int(max_iter) or max_iter < 1):
        problems.append(f"model.max_iter: must be an integer >= 1 or null; got {max_iter!r}")
    return problems


def _as_dims(dims):
    return (dims,) if isinstance(dims, str) else tuple(dims)


def _loop_dims(data, dims):
    """The dims of `data` that are not transformed: one sample per index along them."""
    return tuple(d for d in data.dims if d not in dims)


def check_model_data(section, dataset, variable, dims):
    """The problems of a `model` section against the opened (lazy) input: the target's name,
    dims and dtype, its number of classes and the size of each split. Computes the target
    only. Fields that `check_model` rejects are skipped."""
    target = section.get("target") if isinstance(section, Mapping) else None
    if not isinstance(target, str) or not target:
        return []
    if target not in dataset.variables:
        return [f"model.target: {target!r} is not a variable of the input dataset; it has "
                f"{', '.join(map(str, dataset.variables))}"]
    loop_dims = _loop_dims(dataset[variable], _as_dims(dims))
    labels = dataset[target]
    if not loop_dims:
        return [f"model.target: {variable!r} has no dims besides the transformed ones "
                f"{_as_dims(dims)}: it is a single signal, with nothing to classify"]
    if set(labels.dims) != set(loop_dims):
        return [f"model.target: {target!r} has dims {labels.dims}; it needs exactly the loop "
                f"dims of {variable!r}, {loop_dims} (one label per signal)"]
    if labels.dtype.kind not in LABEL_KINDS:
        return [f"model.target: {target!r} must hold class labels (integers, booleans or "
                f"strings); got dtype {labels.dtype}"]
    problems = []
    classes = np.unique(labels.compute().values)
    if classes.size < 2:
        problems.append(f"model.target: {target!r} holds {classes.size} class(es); "
                        f"a classifier needs at least 2")
    fraction = section.get("test_fraction", DEFAULTS["test_fraction"])
    if not check_model({"target": target, "test_fraction": fraction}):
        n_test = math.ceil(labels.size * fraction)
        n_train = labels.size - n_test
        if min(n_train, n_test) < MIN_SPLIT_SAMPLES:
            problems.append(f"model.test_fraction: {labels.size} samples split into {n_train} "
                            f"for training and {n_test} for testing; each split needs at "
                            f"least {MIN_SPLIT_SAMPLES}")
    return problems


def _samples(dataset, variable, dims, target, dtype):
    """`X (n_samples, prod(signal shape))` in `dtype` (None: the data's float type) and
    `y (n_samples,)`, dask arrays with the same row chunks, and the signal shape."""
    import dask.array as da

    data = dataset[variable]
    loop_dims = _loop_dims(data, dims)
    X = da.asarray(data.transpose(*loop_dims, *dims).data)
    signal_shape = X.shape[len(loop_dims):]
    X = X.rechunk({axis: -1 for axis in range(len(loop_dims), X.ndim)})
    if dtype is None:  # the data's float type
        dtype = X.dtype if X.dtype.kind == "f" else np.float64
    X = X.reshape(-1, math.prod(signal_shape)).astype(dtype).rechunk({0: "auto"})
    y = da.asarray(dataset[target].transpose(*loop_dims).data).reshape(-1)
    return X, y.rechunk((X.chunks[0],)), signal_shape


def _scattering(transform, signal_shape):
    """The `scatflow.sklearn` transformer of the spec's transform section."""
    import inspect

    from .. import registry
    from .. import sklearn as scat_sklearn

    cls = getattr(scat_sklearn, registry.get(transform["kind"]).class_name)
    accepted = inspect.signature(cls).parameters
    params = {key: value for key, value in transform.items()
              if key in accepted and key not in ("shape", "backend", "nan_policy")}
    if transform.get("nan_policy") == "mask":  # the frontends' (the others are scatflow.dask's)
        params["nan_policy"] = "mask"
    return cls(**params, shape=signal_shape, backend="numpy")


def _classifier(settings, n_train):
    """The dask-ml classifier the settings name (see the module docstring)."""
    seed = settings["random_state"]
    if settings["estimator"] == "sgd":
        from dask_ml.wrappers import Incremental
        from sklearn.linear_model import SGDClassifier

        return Incremental(SGDClassifier(loss="log_loss", random_state=seed),
                           shuffle_blocks=True, random_state=seed)
    from dask_ml.linear_model import LogisticRegression
    from dask_ml.wrappers import ParallelPostFit
    from sklearn.multiclass import OneVsRestClassifier

    # dask-glm minimizes the summed loss: scikit-learn's tolerance (1e-4 on the mean loss's
    # gradient) is 1e-4 * n_train here. Its own normalization refuses several constant columns
    # (image borders, or what the scaler zeroed): the scaler step is the place for it.
    binary = LogisticRegression(solver="lbfgs", C=1.0, max_iter=settings["max_iter"],
                                tol=1e-4 * n_train, solver_kwargs={"normalize": False})
    return ParallelPostFit(OneVsRestClassifier(binary))


def _pipeline(scattering, settings, n_train):
    """scattering (unless None) -> scaler (if `standardize`) -> classifier."""
    from dask_ml.preprocessing import StandardScaler
    from sklearn.pipeline import Pipeline

    steps = [("scattering", scattering)] if scattering is not None else []
    if settings["standardize"]:
        steps.append(("scale", StandardScaler()))
    return Pipeline(steps + [("classify", _classifier(settings, n_train))])


def _fit(pipeline, X_train, y_train, classes, settings):
    """Fit the steps one at a time, persisting each feature step's output, since the next step
    reads it more than once (the scaler's statistics, then its transform; the classifier's
    passes). Returns the classifier's training features."""
    features = X_train
    for _, step in pipeline.steps[:-1]:
        features = step.fit_transform(features).persist()
    classifier = pipeline.steps[-1][1]
    if settings["estimator"] == "sgd":
        for _ in range(settings["max_iter"]):
            classifier.partial_fit(features, y_train, classes=classes)
    else:
        classifier.fit(features, y_train)
    return features


def fit_model(section, transform, dataset, variable, dims, client=None):
    """Fit scattering -> (scaler) -> classifier on a split of the input, on `client` if given
    (else the current dask scheduler), and the same without the scattering step; return
    plain-JSON metrics. Raises ValueError with every problem of the section first."""
    start = time.perf_counter()
    dims = _as_dims(dims)
    problems = check_model(section) or check_model_data(section, dataset, variable, dims)
    if problems:
        raise ValueError("\n".join(problems))
    settings = {**DEFAULTS, **section}
    if settings["max_iter"] is None:
        settings["max_iter"] = DEFAULT_MAX_ITER[settings["estimator"]]
    import dask
    from dask_ml.model_selection import train_test_split

    X, y, signal_shape = _samples(dataset, variable, dims, settings["target"],
                                  transform.get("dtype"))
    with (client.as_current() if client is not None else nullcontext(),
          warnings.catch_warnings()):
        # dask-glm sets a dask config key that dask renamed, and L-BFGS options SciPy deprecates
        warnings.filterwarnings("ignore", message=".*fuse_ave_width", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*iprint", category=DeprecationWarning)
        classes = np.unique(y.compute())
        # persisted together, once: both pipelines read the split, and a key that two graphs
        # optimize differently makes distributed warn of "different run_spec"
        X_train, X_test, y_train, y_test = dask.persist(*train_test_split(
            X, y, test_size=settings["test_fraction"], shuffle=True,
            random_state=settings["random_state"]))
        n_train = int(X_train.shape[0])
        scattering = _pipeline(_scattering(transform, signal_shape), settings, n_train)
        raw = _pipeline(None, settings, n_train)
        features = _fit(scattering, X_train, y_train, classes, settings)
        _fit(raw, X_train, y_train, classes, settings)
        hits = (scattering[-1].predict(features) == y_train,
                scattering.predict(X_test) == y_test, raw.predict(X_test) == y_test)
        train_accuracy, test_accuracy, raw_test_accuracy = (
            float(a) for a in dask.compute(*(h.mean() for h in hits)))
    return {"estimator": settings["estimator"], "n_train": n_train,
            "n_test": int(X_test.shape[0]), "n_classes": len(classes),
            "n_features": int(features.shape[1]), "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy, "raw_test_accuracy": raw_test_accuracy,
            "seconds": round(time.perf_counter() - start, 3)}
