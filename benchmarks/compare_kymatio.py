"""scatflow against Kymatio on identical inputs: the configurations, and how each row is
measured. `benchmarks/bench.py` (`make bench`) runs them; nothing here runs on import.

Configurations: Kymatio 0.3.0's own asv sets (kymatio/benchmarks/benchmarks/numpy_benchmark:
their batch sizes, 1 channel in 1D, 3 channels in 2D) and the batch shapes of the benchmarks in
its user guide, the latter smaller in batch where this machine's time or memory forces it
(`source_batch` keeps the guide's); and joint time-frequency scattering (JTFS) on an audio-sized
batch against Kymatio's main branch (`reference="main"`; it has no release: its Python comes
from `make bench KYMATIO_MAIN=path`, see bench.py).

A row is (configuration, frontend, input dtype). Per library, the two alternating, each figure
from fresh processes (`measure_once.py`):
* forward: a process constructs, runs one warm-up call, then `repeats` timed calls (`long_repeats`
  where the warm-up took over `long_s`); the median. JAX: both libraries' calls wrapped in
  `jax.jit` (Kymatio's eagerly where it does not trace: `call_mode` says which), every call
  waited for (`block_until_ready`); the warm-up less the median is the compile time;
* peak memory: another process constructs and runs one call; its peak RSS (so the repeats of the
  timing process do not inflate it);
* constructor: every process times its constructor first, cold (filter caches empty). The figure
  is the median over all processes of the same filter bank (transform, parameters, frontend,
  library: the dtypes and batch sizes of a configuration share one), topped up with
  constructor-only processes to `repeats` samples (`long_repeats` where they take over `long_s`).
"""

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LIBRARIES = ("kymatio", "scatflow")
REFERENCES = {"0.3.0": "Kymatio 0.3.0", "main": "Kymatio main"}
FRONTENDS = ("numpy", "torch", "jax")
DTYPES = ("float32", "float64")
FLOAT32 = ("float32",)
ASV = "asv"
GUIDE = "user guide"
MEASURE_ONCE = Path(__file__).with_name("measure_once.py")


@dataclass
class Config:
    """One transform on one input: `batch` dims followed by the transform's `shape`."""

    transform: str
    params: dict
    batch: tuple
    source: str
    source_batch: tuple = None  # the source's batch, where ours is smaller
    dtypes: tuple = DTYPES
    quick: bool = False  # part of `--quick`
    reference: str = "0.3.0"  # the Kymatio it is measured against (REFERENCES)
    frontends: tuple = FRONTENDS  # those both libraries have for this transform

    @property
    def signal_shape(self):
        shape = self.params["shape"]
        return tuple(shape) if isinstance(shape, tuple) else (shape,)

    @property
    def input_shape(self):
        return tuple(self.batch) + self.signal_shape

    @property
    def dim(self):
        return len(self.signal_shape)

    @property
    def bank(self):
        """What the constructor depends on: configurations with equal banks share its figure."""
        return self.transform, json.dumps(self.params, sort_keys=True)

    @property
    def kind(self):
        """1D, 2D, 3D or JTFS: a panel of the scaling plot."""
        return "JTFS" if self.transform == "TimeFrequencyScattering" else f"{self.dim}D"

    @property
    def name(self):
        shape = self.signal_shape
        size = f"{shape[0]}^3" if self.dim == 3 else "x".join(map(str, shape))
        others = " ".join(f"{k}={v}" for k, v in self.params.items() if k != "shape")
        return f"{self.kind} {size} {others} [{'x'.join(map(str, self.batch))}]"

    @property
    def scaling(self):
        if self.source_batch is None:
            return ""
        return f"scaled from batch {'x'.join(map(str, self.source_batch))}"


def _1d(J, Q, N):
    return "Scattering1D", dict(J=J, Q=Q, shape=N)


def _2d(J, L, N):
    return "Scattering2D", dict(J=J, L=L, shape=(N, N))


def _3d(J, L, N):
    return "HarmonicScattering3D", dict(J=J, L=L, shape=(N, N, N))


def _jtfs(J, J_fr, Q, N):
    return "TimeFrequencyScattering", dict(J=J, J_fr=J_fr, Q=Q, shape=N)


CONFIGS = [  # the big ones in float32 only: both dtypes would take the whole run past an hour
    Config(*_1d(8, 1, 1024), batch=(32, 1), source=ASV, quick=True),
    Config(*_1d(8, 8, 4096), batch=(32, 1), source=ASV, quick=True),
    Config(*_1d(13, 12, 65536), batch=(32, 1), source=ASV, dtypes=FLOAT32),
    Config(*_1d(10, 8, 65536), batch=(64,), source=GUIDE, dtypes=FLOAT32),
    Config(*_2d(2, 8, 32), batch=(32, 3), source=ASV, quick=True),
    Config(*_2d(6, 2, 64), batch=(4, 3), source=ASV, quick=True),
    Config(*_2d(3, 8, 224), batch=(32, 3), source=ASV, dtypes=FLOAT32),
    Config(*_2d(3, 8, 256), batch=(32, 3), source=GUIDE, source_batch=(128, 3), dtypes=FLOAT32),
    Config(*_3d(2, 2, 32), batch=(4,), source=ASV, quick=True),
    Config(*_3d(2, 2, 128), batch=(2,), source=ASV, dtypes=FLOAT32),
    Config(*_3d(2, 2, 128), batch=(8,), source=GUIDE, dtypes=FLOAT32),
    # batch 1: one signal takes Kymatio main's NumPy frontend about 42 s here (results/
    # bench-jtfs.md), so the batch of 8 would keep each row's processes over half an hour
    Config(*_jtfs(10, 4, (12, 2), 65536), batch=(1,), source="audio (issue 15)",
           source_batch=(8,), reference="main", dtypes=FLOAT32, frontends=("numpy", "torch")),
]


@dataclass
class Policy:
    """How many runs make a figure: `repeats`, or `long_repeats` for runs over `long_s`."""

    repeats: int = 5
    long_repeats: int = 3
    long_s: float = 10.0
    process_timeout_s: float = 1800.0
    kymatio_main_python: str = None  # a Python with Kymatio's main branch (JTFS rows)

    def runs_needed(self, samples):
        return self.long_repeats if statistics.median(samples) > self.long_s else self.repeats


def run_process(library, frontend, config, dtype, mode, policy):
    """One fresh process of measure_once.py (Kymatio main's in its own Python); its JSON, or
    {"error": ...} if it failed."""
    spec = dict(library=library, frontend=frontend, transform=config.transform,
                params=config.params, input_shape=config.input_shape, dtype=dtype, mode=mode,
                repeats=policy.repeats, long_repeats=policy.long_repeats, long_s=policy.long_s)
    python = sys.executable
    if library == "kymatio" and config.reference == "main":
        python = policy.kymatio_main_python
    try:
        done = subprocess.run([python, str(MEASURE_ONCE), json.dumps(spec)],
                              capture_output=True, text=True, timeout=policy.process_timeout_s)
    except subprocess.TimeoutExpired:
        return {"error": f"{mode} process over {policy.process_timeout_s:.0f} s"}
    if done.returncode:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return {"error": f"{mode} process: {lines[-1][:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_bank(configs, frontend, policy, log):
    """The rows of `configs` (all of one filter bank) on `frontend`: a list of dicts, one per
    (configuration, dtype), holding per library the medians, run counts and errors."""
    constructs = {library: [] for library in LIBRARIES}
    rows = []
    for config in configs:
        for dtype in config.dtypes:
            row = dict(config=config, frontend=frontend, dtype=dtype,
                       **{library: {} for library in LIBRARIES})
            for mode in ("forward", "memory"):
                for library in LIBRARIES:
                    start = time.perf_counter()
                    result = run_process(library, frontend, config, dtype, mode, policy)
                    log(f"  {config.name} {frontend} {dtype} {library} {mode}: "
                        f"{_summary(result)} ({time.perf_counter() - start:.0f} s)")
                    if "constructor_s" in result:
                        constructs[library].append(result["constructor_s"])
                    _merge(row[library], result)
            rows.append(row)
    _top_up_constructors(configs[0], frontend, constructs, policy, log)
    for row in rows:
        for library in LIBRARIES:
            samples = constructs[library]
            row[library]["constructor_s"] = statistics.median(samples) if samples else None
            row[library]["constructor_n"] = len(samples)
    return rows


def _top_up_constructors(config, frontend, constructs, policy, log):
    """Constructor-only processes, the libraries alternating, until each has enough samples (a
    library whose process fails keeps those it has: its constructor_n says how many)."""
    failed = set()
    while short := [library for library, samples in constructs.items()
                    if samples and library not in failed
                    and len(samples) < policy.runs_needed(samples)]:
        for library in short:
            result = run_process(library, frontend, config, config.dtypes[0], "constructor",
                                 policy)
            log(f"  {config.name} {frontend} {library} constructor: {_summary(result)}")
            if "error" in result:
                failed.add(library)
            else:
                constructs[library].append(result["constructor_s"])


def _merge(figures, result):
    """Fold one process's result into a row's figures for one library."""
    if "error" in result:
        figures.setdefault("errors", []).append(result["error"])
    if "forward_s" in result:
        figures.update(forward_s=statistics.median(result["forward_s"]),
                       forward_n=len(result["forward_s"]), output_dtype=result["output_dtype"])
        if "call_mode" in result:
            figures.update(call_mode=result["call_mode"],
                           compile_s=result["warmup_s"] - figures["forward_s"])
    if "peak_mib" in result:
        figures.update(peak_mib=result["peak_mib"], imported_mib=result["imported_mib"])


def _summary(result):
    if "error" in result:
        return result["error"]
    parts = [f"constructor {result['constructor_s']:.2f} s"]
    if "forward_s" in result:
        parts.append(f"forward {statistics.median(result['forward_s']):.3f} s "
                     f"(median of {len(result['forward_s'])})")
    if "peak_mib" in result:
        parts.append(f"peak {result['peak_mib']:.0f} MiB")
    return ", ".join(parts)


def banks(configs):
    """`configs` grouped by filter bank, in order of first appearance (a bank's configurations
    share their transform, so their `frontends`)."""
    groups = {}
    for config in configs:
        groups.setdefault(config.bank, []).append(config)
    return list(groups.values())
