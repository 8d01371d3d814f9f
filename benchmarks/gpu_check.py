"""The GPU check of issue 14: scatflow's GPU paths run, checked and timed in one command.

    sh benchmarks/gpu_check.sh [--only SECTION,...] [--out DIR] [--dry-run]   (make gpu-check)

Sections, in this order (`--only` picks some):
  tests       pytest -m gpu on the files that hold GPU tests, and the dask-cuda CLI test
  fixtures    every Kymatio fixture on torch CUDA and on CuPy, float64 and float32, against
              DESIGN.md's per-channel tolerances
  torch       what a Kymatio user relies on: .cuda(), .to(device), float64 input,
              DataParallel, gradients, torch.compile, mixed batch sizes
  dask        zarr -> zarr on a worker declaring the resource GPU (CuPy chunks through
              scatflow.dask; the accessor and a workflow with backend="cupy"), against the CPU
  jax, jtfs   once scatflow has a JAX frontend / TimeFrequencyScattering: fixtures, timing rows
  timing      scatflow torch CUDA and CuPy against Kymatio 0.3.0's torch frontend on CUDA
  throughput  the Dask GPU path against the CPU path on all cores, MB/s zarr -> zarr

Everything goes into one folder (default benchmarks/results/gpu/): gpu.md, gpu.csv,
gpu-times.png, results.json, gpu-check.log and pytest's junit files (7 files: the device tool
brings back 8). Without a CUDA GPU the check says so and exits 0; `--dry-run` runs every section
on the CPU with tiny sizes (torch CPU standing in for CUDA, NumPy for CuPy) to show that the
script works, into build/gpu-check-dry-run/. Exit status 1 where a section that ran failed.
"""

import argparse
import contextlib
import datetime
import os
import platform
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tests/: reference.py; tests/frontends/: frontend_outputs.py and test_frontends_agree.py
sys.path += [p for p in (str(Path(__file__).parent), str(ROOT / "tests"),
                         str(ROOT / "tests" / "frontends")) if p not in sys.path]
RESULTS = ROOT / "benchmarks" / "results" / "gpu"
DRY_RUN_RESULTS = ROOT / "build" / "gpu-check-dry-run"
BUDGET_S = 290  # the 5 minutes on an H100, less the start-up
# What each section should take on an H100 (its wall time is reported against it).
SECTION_BUDGET_S = {"tests": 75, "fixtures": 20, "torch": 35, "dask": 25, "jax": 10,
                    "jtfs": 10, "timing": 60, "throughput": 55}
SECTIONS = tuple(SECTION_BUDGET_S)
VERSIONS = ("scatflow", "torch", "cupy-cuda13x", "cupy-cuda12x", "jax", "numpy", "scipy", "dask",
            "distributed", "zarr", "numcodecs", "xarray", "dask-cuda", "kymatio", "pytest")


@dataclass(frozen=True)
class Sizes:
    """How much work each section does: the GPU's sizes, or a dry run's tiny ones."""

    repeats: int = 5  # timed runs after a warm-up
    long_repeats: int = 3  # ... where the warm-up took over long_s
    long_s: float = 5.0
    dask_images: int = 64  # the dask section's images (float32), chunks and transform
    dask_image: int = 256
    dask_chunk: int = 16
    dask_J: int = 3
    dask_L: int = 8
    throughput_mb: float = 256.0  # the throughput protocol's input
    throughput_chunk: int = 32
    fixtures_per_transform: int = None  # the fixture sections' files per transform (None: all)


DRY_RUN_SIZES = Sizes(repeats=2, long_repeats=1, dask_images=8, dask_image=32, dask_chunk=4,
                      dask_J=2, dask_L=4, throughput_mb=0.5, throughput_chunk=8,
                      fixtures_per_transform=1)


@dataclass
class Accelerator:
    """Where the sections run: CUDA, or in a dry run the CPU standing in for it."""

    dry_run: bool

    @property
    def torch_device(self):
        import torch

        return torch.device("cpu" if self.dry_run else "cuda")

    @property
    def label(self):
        return "CPU standing in (dry run)" if self.dry_run else "CUDA"

    def cupy_backend(self):
        """The NumPy frontend's `backend` for the CuPy runs: on a GPU chosen from the CuPy
        input; in a dry run the CuPy backend's code on NumPy, as tests/backends/test_cupy.py
        runs it."""
        if not self.dry_run:
            return None
        import numpy
        import scipy.fft

        from scatflow.backends.cupy import CupyBackend

        return CupyBackend(numpy, scipy.fft)

    def to_cupy(self, array):
        if self.dry_run:
            return array
        import cupy

        return cupy.asarray(array)

    def to_host(self, out):
        """Coefficients as NumPy: arrays, tensors, CuPy arrays, and 'list' outputs' coefs."""
        import numpy as np

        if isinstance(out, list):
            return [self.to_host(item["coef"]) for item in out]
        if hasattr(out, "detach"):
            return out.detach().cpu().numpy()
        if type(out).__module__.partition(".")[0] == "cupy":
            return out.get()
        return np.asarray(out)

    def synchronize(self):
        """Waits for the GPU's queued work (torch's and CuPy's), so host clocks time it."""
        if self.dry_run:
            return
        import torch

        torch.cuda.synchronize()
        import cupy

        cupy.cuda.Device().synchronize()


@dataclass
class Section:
    """One section's outcome: status, named checks, markdown, CSV rows, wall time."""

    name: str
    status: str = "pass"  # pass | fail | skip
    reason: str = ""
    checks: list = field(default_factory=list)  # (label, passed, detail)
    markdown: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # CSV rows (dicts)
    data: dict = field(default_factory=dict)  # anything else, for results.json
    wall_s: float = 0.0
    log: object = print

    def check(self, label, passed, detail=""):
        """Record (and print) one named check; a failed one fails the section."""
        self.checks.append((label, bool(passed), detail))
        self.log(f"  {'PASS' if passed else 'FAIL'} {label}" + (f": {detail}" if detail else ""))
        if not passed:
            self.status = "fail"

    def skip(self, reason):
        self.status, self.reason = "skip", reason
        self.log(f"  SKIP {self.name}: {reason}")

    def summary(self):
        if self.status == "skip":
            return self.reason
        failed = [label for label, passed, _ in self.checks if not passed]
        text = f"{len(self.checks) - len(failed)} of {len(self.checks)} checks passed"
        if failed:
            text += "; failed: " + "; ".join(failed[:5]) + (" ..." if len(failed) > 5 else "")
        return text + (f"; {self.reason}" if self.reason else "")


class Run:
    """The state the sections share: arguments, accelerator, sizes, output folder, log, clock."""

    def __init__(self, args, accelerator, out):
        self.args, self.accelerator, self.out = args, accelerator, out
        self.sizes = DRY_RUN_SIZES if args.dry_run else Sizes(throughput_mb=args.throughput_mb)
        self.started = time.monotonic()
        self.background = {}  # work started early for a later section (timing: Kymatio)
        self._log = open(out / "gpu-check.log", "w")

    def log(self, line=""):
        print(line, flush=True)
        self._log.write(line + "\n")
        self._log.flush()

    def log_to_file(self, text):
        """Long output (pytest's) for the log file only."""
        self._log.write(text.rstrip() + "\n")
        self._log.flush()

    def remaining(self):
        return self.args.budget_s - (time.monotonic() - self.started)

    def time_for(self, name):
        """Seconds section `name` may take: what is left, less the budgets of the selected
        sections after it."""
        later = self.args.sections[self.args.sections.index(name) + 1:]
        return self.remaining() - sum(SECTION_BUDGET_S[later_name] for later_name in later)

    def close(self):
        self._log.close()


# -- environment --------------------------------------------------------------------------------
def detect_gpus():
    """(devices, lines): the CUDA devices torch and CuPy see, and what each of them said."""
    import importlib.util

    counts, lines = [], []
    if importlib.util.find_spec("torch") is None:
        lines.append("torch is not installed")
    else:
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "a CPU-only build"
        lines.append(f"torch {torch.__version__} ({build}): {count} CUDA device(s)")
        counts.append(count)
    if importlib.util.find_spec("cupy") is None:
        lines.append("CuPy is not installed")
    else:
        import cupy

        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except cupy.cuda.runtime.CUDARuntimeError as error:
            count = 0
            lines.append(f"CuPy {cupy.__version__}: no CUDA device ({error})")
        else:
            lines.append(f"CuPy {cupy.__version__}: {count} CUDA device(s)")
        counts.append(count)
    return max(counts, default=0), lines


def describe_environment(accelerator):
    """Device, driver, host and versions, for the report's head."""
    from environment import machine, versions

    found = {"host": machine(), "versions": versions(VERSIONS), "python": sys.executable,
             "date": datetime.datetime.now().isoformat(timespec="seconds"),
             "commit": _git("rev-parse", "HEAD"), "platform": platform.platform()}
    import scatflow

    found["scatflow_path"] = str(Path(scatflow.__file__).parent)
    if accelerator.dry_run:
        found["device"] = "none: dry run on the CPU"
        return found
    import torch

    properties = torch.cuda.get_device_properties(0)
    found["device"] = (f"{torch.cuda.device_count()} x {properties.name} "
                       f"({properties.total_memory / 2**30:.0f} GiB, compute capability "
                       f"{properties.major}.{properties.minor}, "
                       f"{properties.multi_processor_count} SMs)")
    found["cuda_runtime"] = torch.version.cuda
    found["driver"] = _nvidia_smi("driver_version")
    return found


def _git(*args):
    """git's answer in this checkout; where there is none (the device tool sends the files
    without .git), $SCATFLOW_COMMIT as the caller states it."""
    stated = os.environ.get("SCATFLOW_COMMIT")
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return f"{stated} (stated)" if stated else "unknown (no git here)"
    if done.stdout.strip():
        return done.stdout.strip()
    return f"{stated} (stated)" if stated else "unknown (not a git checkout)"


def _nvidia_smi(query):
    try:
        done = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (no nvidia-smi)"
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"


# -- running ------------------------------------------------------------------------------------
def section_runners():
    """{section: its function}. Imported here, not at the top: without a GPU the check needs
    nothing but the standard library to say so."""
    import gpu_correctness
    import gpu_dask
    import gpu_timing

    return {"tests": gpu_correctness.tests, "fixtures": gpu_correctness.fixtures,
            "torch": gpu_correctness.torch_behaviour, "dask": gpu_dask.dask_paths,
            "jax": gpu_correctness.jax_frontend, "jtfs": gpu_correctness.jtfs,
            "timing": gpu_timing.timing, "throughput": gpu_dask.throughput}


def run_section(run, name):
    """One section, timed; an exception fails it (with its traceback in the log), never the
    whole check."""
    section = Section(name, log=run.log)
    run.log(f"\n== {name} (budget {SECTION_BUDGET_S[name]} s on an H100; "
            f"{run.remaining():.0f} s left of {run.args.budget_s:.0f})")
    start = time.monotonic()
    if run.remaining() < 15:
        section.skip("out of the check's time budget")
    else:
        try:
            section_runners()[name](run, section)
        except Exception as error:  # a broken section is reported, the others still run
            run.log(traceback.format_exc())
            section.check(f"{name} ran to its end", False, f"{type(error).__name__}: {error}")
    section.wall_s = time.monotonic() - start
    run.log(f"-- {name}: {section.status.upper()} in {section.wall_s:.1f} s "
            f"(budget {SECTION_BUDGET_S[name]} s): {section.summary()}")
    return section


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Sections: " + ", ".join(SECTIONS))
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run (default: all)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"results folder (default {RESULTS.relative_to(ROOT)}; dry run: "
                             f"{DRY_RUN_RESULTS.relative_to(ROOT)})")
    parser.add_argument("--dry-run", action="store_true",
                        help="run every section on the CPU with tiny sizes (no GPU needed)")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S,
                        help="the whole check's time: sections and timing rows that would "
                             f"start later are skipped, and say so (default {BUDGET_S})")
    parser.add_argument("--gpu-threads", type=int, default=4,
                        help="threads of the GPU worker of the dask and throughput sections")
    parser.add_argument("--throughput-mb", type=float, default=Sizes.throughput_mb,
                        help="input of the throughput protocol, MB of float32 images "
                             f"(default {Sizes.throughput_mb:g})")
    args = parser.parse_args(argv)
    args.sections = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    args.sections = [name for name in SECTIONS if name in args.sections]
    return args


def main(argv=None):
    args = parse_args(argv)
    devices, seen = detect_gpus()
    if devices == 0 and not args.dry_run:
        message = ("No CUDA GPU found (" + "; ".join(seen) + "): the GPU check skips every "
                   "section and exits 0. `--dry-run` runs the sections on the CPU with tiny "
                   "sizes.")
        print(f"SKIP {message}")
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "gpu.md").write_text(f"# GPU check\n\nSkipped: {message}\n")
        return 0

    out = args.out or (DRY_RUN_RESULTS if args.dry_run else RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator(dry_run=args.dry_run)
    run = Run(args, accelerator, out)
    with contextlib.closing(run):
        run.log(f"GPU check{' DRY RUN on the CPU' if args.dry_run else ''}: "
                + "; ".join(seen) + f"; sections {', '.join(args.sections)}; results in {out}")
        env = describe_environment(accelerator)
        run.log(f"device: {env['device']}; scatflow from {env['scatflow_path']}")
        if "timing" in args.sections:
            import gpu_timing

            gpu_timing.start_kymatio_builds(run)  # CPU work, overlapping the first sections
        sections = [run_section(run, name) for name in args.sections]
        import gpu_report

        gpu_report.write_reports(run, env, sections, SECTION_BUDGET_S)
        failed = [s.name for s in sections if s.status == "fail"]
        run.log(f"\nGPU check done in {time.monotonic() - run.started:.0f} s: "
                + ", ".join(f"{s.name} {s.status}" for s in sections)
                + f". Results in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
