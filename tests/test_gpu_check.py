"""benchmarks/gpu_check.py (issue 14's GPU check) on a machine without a GPU: it says so and
exits 0; its dry run (the CPU standing in) writes the report; the pieces it relies on (the
wheel list's checks, the junit parsing, the skip it allows, Kymatio's sph_harm shim) hold."""

import importlib.util
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after everything else: its modules shadow nothing

import gpu_check  # noqa: E402
import gpu_correctness  # noqa: E402
import gpu_timing  # noqa: E402
import gpu_wheels  # noqa: E402


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(gpu_check, "detect_gpus", lambda: (0, ["torch: 0 CUDA device(s)"]))


def test_without_a_gpu_it_says_so_and_exits_0(no_gpu, tmp_path, capsys):
    assert gpu_check.main(["--out", str(tmp_path)]) == 0
    assert "SKIP No CUDA GPU found" in capsys.readouterr().out
    assert "Skipped: No CUDA GPU found" in (tmp_path / "gpu.md").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["gpu.md"]


def test_dry_run_writes_the_report(no_gpu, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr(gpu_timing, "DRY_RUN_CONFIGS", gpu_timing.DRY_RUN_CONFIGS[:1])  # quick
    assert gpu_check.main(["--dry-run", "--only", "timing,jax,jtfs", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "gpu.md").read_text()
    assert "dry run on the CPU" in report and "| timing | pass |" in report
    import scatflow.torch

    no_jtfs = not hasattr(scatflow.torch, "TimeFrequencyScattering")
    for section, missing in (("jax", importlib.util.find_spec("scatflow.jax") is None),
                             ("jtfs", no_jtfs)):
        assert f"| {section} | {'skip' if missing else 'pass'} |" in report
    rows = (tmp_path / "gpu.csv").read_text().splitlines()
    timed = len(gpu_timing.DRY_RUN_CONFIGS) + (
        0 if no_jtfs else len(gpu_timing.DRY_RUN_JTFS_CONFIGS))
    assert sum(",scatflow torch," in row for row in rows) == timed
    assert sum(",scatflow CuPy," in row for row in rows) == timed
    assert {p.name for p in tmp_path.iterdir()} >= {"gpu.md", "gpu.csv", "gpu-times.png",
                                                   "results.json", "gpu-check.log"}
    assert len(list(tmp_path.iterdir())) <= 8  # what the device tool brings back


def test_unknown_sections_are_refused():
    with pytest.raises(SystemExit):
        gpu_check.parse_args(["--only", "timing,speed"])


def test_junit_outcomes_and_the_one_skip_allowed(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuites><testsuite><testcase classname="tests.backends.test_cupy" name="test_a"/>'
        '<testcase classname="tests.backends.test_cupy" name="test_b"><skipped message="needs '
        'CuPy and 2 CUDA device(s); found 1"/></testcase><testcase '
        'classname="tests.frontends.test_torch" name="test_c"><failure message="assert 1 == 2">'
        'details</failure></testcase></testsuite></testsuites>')
    assert gpu_correctness.junit_cases(path) == [
        ("tests/backends/test_cupy.py::test_a", "passed", ""),
        ("tests/backends/test_cupy.py::test_b", "skipped",
         "needs CuPy and 2 CUDA device(s); found 1"),
        ("tests/frontends/test_torch.py::test_c", "failed", "assert 1 == 2")]


def test_the_allowed_skip_matches_the_gpu_gates_message():
    conftest = (Path(__file__).parent / "conftest.py").read_text()
    assert 'f"needs CuPy and {needed} CUDA device(s); found {cupy_device_count()}"' in conftest
    found = gpu_correctness.DEVICE_COUNT_SKIP.search("needs CuPy and 2 CUDA device(s); found 1")
    assert found.groups() == ("2", "1")


def test_sph_harm_shim_gives_the_old_argument_order():
    import types

    import scipy.special

    special = types.SimpleNamespace(sph_harm_y=scipy.special.sph_harm_y)
    assert gpu_timing.sph_harm_shim(special) is True
    azimuth, polar = 0.7, 1.1
    y11 = -0.5 * np.sqrt(3 / (2 * np.pi)) * np.sin(polar) * np.exp(1j * azimuth)
    y2m1 = 0.5 * np.sqrt(15 / (2 * np.pi)) * np.sin(polar) * np.cos(polar) * np.exp(-1j * azimuth)
    np.testing.assert_allclose(special.sph_harm(1, 1, azimuth, polar), y11, rtol=1e-12)
    np.testing.assert_allclose(special.sph_harm(-1, 2, azimuth, polar), y2m1, rtol=1e-12)
    assert gpu_timing.sph_harm_shim(special) is False  # there already: left alone


def fake_wheel(folder, name, version, requires):
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "Metadata-Version: 2.1\n"
                         f"Name: {name}\nVersion: {version}\n"
                         + "".join(f"Requires-Dist: {r}\n" for r in requires))
    return path


def test_wheel_requirements_are_met_by_the_wheels_or_the_image(tmp_path):
    fake_wheel(tmp_path, "dask", "2026.7.1", ["numpy>=1.24", "toolz"])
    fake_wheel(tmp_path, "distributed", "2026.7.1",
               ["dask==2026.7.1", "tornado>=6", "pywin32; sys_platform == 'win32'",
                "importlib_metadata; python_version < '3.12'", "pytest; extra == 'test'"])
    assert gpu_wheels.unmet(tmp_path) == ["distributed 2026.7.1 requires tornado>=6: neither a "
                                          "wheel here nor in the image"]
    fake_wheel(tmp_path, "tornado", "6.6.1", [])
    fake_wheel(tmp_path, "zarr", "3.1.6", ["dask>=2026.8"])
    assert gpu_wheels.unmet(tmp_path) == ["zarr 3.1.6 requires dask>=2026.8; the wheel is "
                                          "2026.7.1"]


def test_the_wheel_list_pins_exactly_what_the_gpu_image_lacks():
    pinned = gpu_wheels.pinned()
    assert all(str(r.specifier).startswith("==") for r in pinned.values())
    assert {"dask", "distributed", "zarr", "numcodecs", "dask-cuda", "kymatio"} <= set(pinned)
    assert set(pinned) & gpu_wheels.IMAGE_PACKAGES == {"xarray"}  # carried for its version
    assert {"torch", "cupy-cuda13x", "jax", "numpy", "scipy", "pytest"} <= gpu_wheels.IMAGE_PACKAGES


@pytest.mark.skipif("gpu_check.detect_gpus()[0]", reason="this machine has a CUDA GPU")
def test_the_shell_entry_says_no_gpu_and_exits_0():
    import os
    import subprocess

    done = subprocess.run(["sh", str(BENCHMARKS / "gpu_check.sh")], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, GPU_PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr
    assert "SKIP No CUDA GPU found" in done.stdout
