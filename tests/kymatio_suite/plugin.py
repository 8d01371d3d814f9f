"""pytest plugin (`-p plugin`, run.py loads it): installs the `kymatio` alias before Kymatio's
test files are collected, and writes each test's outcome to `--kymatio-results` (JSON) for
run.py's per-file counts."""

import json
from collections import defaultdict

import alias

_outcomes = {}
_deselected = []


def pytest_addoption(parser):
    group = parser.getgroup("kymatio suite")
    group.addoption("--kymatio-compat", default=None,
                    help="kymatio_compat for every Scattering1D ('0.3' for Kymatio 0.3.0's files)")
    group.addoption("--kymatio-results", default=None, help="where to write the outcomes (JSON)")


def pytest_configure(config):
    alias.install(config.getoption("--kymatio-compat"))
    alias.stand_in_for_missing("jax")
    _scipy_names_kymatio_uses()


def _scipy_names_kymatio_uses():
    """Kymatio 0.3.0's test_correctness.py builds its signal with `scipy.signal.tukey`, which
    SciPy 1.13 moved to `scipy.signal.windows.tukey` (the same function)."""
    import scipy.signal

    if not hasattr(scipy.signal, "tukey"):
        scipy.signal.tukey = scipy.signal.windows.tukey


def pytest_deselected(items):
    _deselected.extend(item.nodeid for item in items)


def pytest_runtest_logreport(report):
    """passed, failed (in the test), error (in its setup or teardown) or skipped, per test."""
    if report.failed:
        _outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "skipped")
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, "passed")


def pytest_collectreport(report):
    if report.failed:  # a file that cannot be imported: one error for the file
        _outcomes[report.nodeid] = "error"


def pytest_sessionfinish(session):
    path = session.config.getoption("--kymatio-results")
    if path is None:
        return
    import scatflow

    by_file = defaultdict(lambda: defaultdict(list))
    for nodeid, outcome in _outcomes.items():
        by_file[nodeid.split("::")[0]][outcome].append(nodeid)
    for nodeid in _deselected:
        by_file[nodeid.split("::")[0]]["deselected"].append(nodeid)
    with open(path, "w") as f:
        json.dump({"scatflow": scatflow.__file__, "files": by_file}, f, indent=1)
