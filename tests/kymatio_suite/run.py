"""Run Kymatio's own frontend test files against scatflow (`make kymatio-suite KYMATIO=...`).

    python tests/kymatio_suite/run.py --kymatio PATH [--version 0.3.0|main] [--no-deselect]

PATH is a git checkout of Kymatio with its tags (`git clone https://github.com/kymatio/kymatio`).
For each version, `git archive` copies that ref's `tests/` folder (test files and their .npz
reference data) into a throw-away folder, and pytest runs the files listed in SUITES there, in
a process of its own, with plugin.py: it installs a `kymatio` name over scatflow's public
modules (alias.py; Kymatio 0.3.0's files get 1D with `kymatio_compat="0.3"`) and records each
outcome. The tests in deselected.py are deselected and listed with their reasons. Nothing of
Kymatio is copied into this repository or installed. Prints the counts per file; exits 1 if a
test that runs fails.
"""

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from deselected import DESELECTED

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]


@dataclass(frozen=True)
class Suite:
    ref: str  # the git ref whose tests/ folder is run
    compat: str  # kymatio_compat for every Scattering1D (None: scatflow's default numbers)
    files: tuple


SUITES = {
    "0.3.0": Suite(ref="0.3.0", compat="0.3", files=(
        "tests/scattering1d/test_numpy_scattering1d.py",
        "tests/scattering1d/test_torch_scattering1d.py",
        "tests/scattering1d/test_tensorflow_scattering1d.py",
        "tests/scattering1d/test_keras_scattering1d.py",
        "tests/scattering1d/test_correctness.py",
        "tests/scattering2d/test_numpy_scattering2d.py",
        "tests/scattering2d/test_torch_scattering2d.py",
        "tests/scattering2d/test_tensorflow_scattering2d.py",
        "tests/scattering2d/test_keras_scattering2d.py",
        "tests/scattering2d/test_sklearn_2d.py",
        "tests/scattering2d/test_frontend_scattering2d.py",
        "tests/scattering3d/test_numpy_scattering3d.py",
        "tests/scattering3d/test_torch_scattering3d.py",
        "tests/scattering3d/test_tensorflow_scattering3d.py",
    )),
    # Kymatio's main branch (the commit scatflow's 1D and JTFS numbers follow): its 1D and JTFS
    # frontend files (the JTFS file imports jax at module level: plugin.py stands in for it
    # where it is not installed; its tests of Kymatio's cores and base frontend are deselected).
    "main": Suite(ref="11552ed5533d566e6c60d77eecccb37dfb229dec", compat=None, files=(
        "tests/scattering1d/test_numpy_scattering1d.py",
        "tests/scattering1d/test_torch_scattering1d.py",
        "tests/scattering1d/test_tensorflow_scattering1d.py",
        "tests/scattering1d/test_keras_scattering1d.py",
        "tests/scattering1d/test_timefrequency_scattering.py",
    )),
}

OUTCOMES = ("passed", "failed", "error", "skipped", "deselected")


def extract_tests(kymatio, ref, into):
    """`ref`'s tests/ folder of the Kymatio checkout `kymatio`, extracted under `into`."""
    archive = subprocess.run(["git", "-C", str(kymatio), "archive", "--format=tar", ref, "tests"],
                             check=True, capture_output=True).stdout
    archive_path = Path(into) / "tests.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    archive_path.unlink()


def run_suite(kymatio, version, deselect, pytest_args):
    """Run one version's files; return the per-file outcomes (plugin.py's JSON)."""
    suite = SUITES[version]
    with tempfile.TemporaryDirectory(prefix=f"kymatio-{version}-") as folder:
        extract_tests(kymatio, suite.ref, folder)
        Path(folder, "pytest.ini").write_text("[pytest]\n")  # keep pytest from looking above
        results = Path(folder, "results.json")
        command = [sys.executable, "-m", "pytest", "-p", "plugin", "-p", "no:cacheprovider",
                   "-q", "-rfE", f"--kymatio-results={results}", *suite.files, *pytest_args]
        if suite.compat:
            command.append(f"--kymatio-compat={suite.compat}")
        if deselect:
            command += [f"--deselect={nodeid}" for nodeid in DESELECTED.get(version, {})]
        # scatflow from this repository (not whatever the venv has installed), alias.py and
        # plugin.py importable; Kymatio's Keras tests are TensorFlow's
        environment = dict(os.environ, KERAS_BACKEND="tensorflow",
                           PYTHONPATH=os.pathsep.join(filter(None, (
                               str(REPOSITORY), str(HERE), os.environ.get("PYTHONPATH")))))
        print(f"\n=== Kymatio {version} ({suite.ref}) against scatflow: pytest in {folder}",
              flush=True)
        subprocess.run(command, cwd=folder, env=environment)
        if not results.exists():
            raise SystemExit(f"pytest wrote no results for Kymatio {version}")
        return json.loads(results.read_text())


def report(version, results):
    """Print the per-file counts and the deselected tests with their reasons; return the
    counts over all files."""
    print(f"\nKymatio {version}: scatflow from {results['scatflow']}")
    print(f"{'file':58s}" + "".join(f"{o:>11s}" for o in OUTCOMES))
    total = Counter()
    suite = SUITES[version]
    for name in suite.files:
        counts = Counter({o: len(ids) for o, ids in results["files"].get(name, {}).items()})
        total.update(counts)
        print(f"{name:58s}" + "".join(f"{counts[o]:11d}" for o in OUTCOMES))
    print(f"{'total':58s}" + "".join(f"{total[o]:11d}" for o in OUTCOMES))
    deselected = {nodeid for entry in results["files"].values()
                  for nodeid in entry.get("deselected", ())}
    listed = DESELECTED.get(version, {})
    if deselected:
        print(f"\ndeselected ({len(deselected)} tests):")
        for prefix, (kind, reason) in listed.items():
            ids = sorted(n for n in deselected if n == prefix or n.startswith(prefix + "["))
            print(f"  [{kind}] {prefix} ({len(ids)}): {reason}")
    for outcome in ("failed", "error"):
        for entry in results["files"].values():
            for nodeid in entry.get(outcome, ()):
                print(f"  {outcome.upper()}: {nodeid}")
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kymatio", required=True, type=Path,
                        help="a git checkout of kymatio/kymatio with its tags")
    parser.add_argument("--version", choices=sorted(SUITES), action="append",
                        help="which Kymatio tests to run (repeatable; default: all)")
    parser.add_argument("--no-deselect", action="store_true",
                        help="run the tests of deselected.py too (for the counts before/after)")
    args, pytest_args = parser.parse_known_args(argv)
    totals = {}
    for version in args.version or list(SUITES):
        results = run_suite(args.kymatio, version, not args.no_deselect, pytest_args)
        totals[version] = report(version, results)
    print()
    for version, total in totals.items():
        print(f"Kymatio {version}: " + ", ".join(f"{total[o]} {o}" for o in OUTCOMES))
    return 1 if any(t["failed"] or t["error"] for t in totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
