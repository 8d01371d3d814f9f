"""The GPU check's sections that check rather than time (gpu_check.py runs them; the Dask ones
are in gpu_dask.py): the GPU-marked tests, the Kymatio fixtures on torch CUDA and CuPy, torch's
behaviour on CUDA, and the JAX and JTFS fixtures once those exist.

Each section takes the shared `run` (accelerator, sizes, log, clock) and fills its `section`
with named checks and markdown. In a dry run the accelerator is the CPU standing in: torch CPU
for CUDA, the CuPy backend's code on NumPy for CuPy.
"""

import importlib.util
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from frontend_outputs import SIGNAL_NDIM, TRANSFORMS, transform_of
from reference import FIXTURES, fixture_error, list_error, load_fixture, scatflow_kwargs
from reference import worst_channel_error
from test_frontends_agree import TOLERANCE  # DESIGN.md's tolerances, by transform and dtype

ROOT = Path(__file__).resolve().parent.parent
DTYPES = ("float64", "float32")

# -- tests ----------------------------------------------------------------------------------------
GPU_TEST_FILES = ("tests/backends/test_cupy.py", "tests/frontends/test_torch.py",
                  "tests/dask/test_dask_cluster.py", "tests/workflow/test_cluster_specs.py")
# Not marked gpu, but skipped without dask-cuda (which needs CUDA's bindings to import).
DASK_CUDA_TEST = ("tests/workflow/test_cluster_specs.py::"
                  "test_slurm_gpu_worker_command_is_accepted_by_dask_cuda_worker")
# The one skip allowed on a GPU: a test asking for more devices than the machine has.
DEVICE_COUNT_SKIP = re.compile(r"needs CuPy and (\d+) CUDA device\(s\); found (\d+)")


def tests(run, section):
    """pytest -m gpu on the files holding GPU tests, then the dask-cuda CLI test; each test is
    a check: passed, or skipped only for want of devices (on a GPU)."""
    calls = [(["-m", "gpu", *GPU_TEST_FILES], "tests.xml"),
             ([DASK_CUDA_TEST], "tests-dask-cuda.xml")]
    for arguments, junit in calls:
        command = [sys.executable, "-m", "pytest", *arguments, f"--junitxml={run.out / junit}",
                   "-p", "no:cacheprovider", "-q"]
        timeout = max(120, run.time_for("tests"))  # later sections shrink, and say so
        run.log(f"  $ {' '.join(command)}")
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as error:
            run.log_to_file(_text(error.stdout) + _text(error.stderr))
            section.check(f"pytest {' '.join(arguments)}", False, f"over {timeout:.0f} s")
            continue
        run.log_to_file(done.stdout + done.stderr)
        run.log(f"  pytest: {(done.stdout.strip().splitlines() or ['no output'])[-1]}")
        cases = junit_cases(run.out / junit)
        if not cases:
            section.check(f"pytest {' '.join(arguments)}", False,
                          f"no test ran (exit status {done.returncode})")
        for test_id, outcome, message in cases:
            if outcome == "passed":
                section.check(test_id, True)
            elif outcome == "skipped":
                wanted = DEVICE_COUNT_SKIP.search(message)
                allowed = run.accelerator.dry_run or (
                    wanted is not None and int(wanted.group(1)) > int(wanted.group(2)))
                section.check(f"{test_id} (skipped)", allowed, message)
            else:
                section.check(test_id, False, message)
    skipped = sum(1 for label, _, _ in section.checks if label.endswith("(skipped)"))
    section.reason = f"{skipped} skipped" + (" (dry run: no GPU)" if run.accelerator.dry_run
                                             else "")


def _text(output):
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def junit_cases(path):
    """(test id, passed | skipped | failed, message) of each test case in a junit XML file."""
    if not path.exists():
        return []
    cases = []
    for case in ElementTree.parse(path).iter("testcase"):
        test_id = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "skipped" if child.tag == "skipped" else "failed"
                text = (child.get("message") or child.text or "").strip()
                message = text.splitlines()[0][:300] if text else ""
        cases.append((test_id, outcome, message))
    return cases


# -- fixtures -------------------------------------------------------------------------------------
def fixtures(run, section):
    """Every Kymatio fixture of the three transforms on torch CUDA and on CuPy, float64 and
    float32, against DESIGN.md's per-channel tolerances."""
    check_fixtures(run, section, transform_fixtures(), ("torch", "cupy"),
                   lambda p: TRANSFORMS[transform_of(p)],
                   lambda p, dtype: TOLERANCE[transform_of(p), dtype])


def transform_fixtures():
    """The fixtures of the 1D, 2D and 3D transforms (JTFS's have a section of their own)."""
    return [p for p in sorted(FIXTURES.glob("kymatio-*.npz"))
            if transform_of(p) in ("1d", "2d", "3d")]


def run_torch(run, cls_name, kwargs, x):
    import torch

    import scatflow.torch as sto

    device = run.accelerator.torch_device
    S = getattr(sto, cls_name)(**kwargs).to(device)
    return run.accelerator.to_host(S(torch.from_numpy(x).to(device)))


def run_cupy(run, cls_name, kwargs, x):
    import scatflow.numpy as snp

    S = getattr(snp, cls_name)(**kwargs, backend=run.accelerator.cupy_backend())
    return run.accelerator.to_host(S(run.accelerator.to_cupy(x)))


def run_jax(run, cls_name, kwargs, x):
    import jax.numpy as jnp

    import scatflow.jax as sjax

    return run.accelerator.to_host(getattr(sjax, cls_name)(**kwargs)(jnp.asarray(x)))


FIXTURE_RUNNERS = {"torch": ("torch", run_torch), "cupy": ("CuPy", run_cupy),
                   "jax": ("JAX", run_jax)}


def check_fixtures(run, section, paths, frontends, class_of, tolerance_of):
    """A table of the per-channel error of each fixture on each frontend and dtype, and one
    check per (frontend, dtype) naming the worst fixture and any over its tolerance (in a dry
    run the first few of each transform: `Sizes.fixtures_per_transform`)."""
    per_transform = run.sizes.fixtures_per_transform
    if per_transform is not None:
        kept = {}
        for path in paths:
            kept.setdefault(class_of(path), []).append(path)
        paths = [path for group in kept.values() for path in group[:per_transform]]
    columns = [(frontend, dtype) for frontend in frontends for dtype in DTYPES]
    section.markdown += [
        f"{len(paths)} fixtures (`tests/fixtures/`), on {run.accelerator.label}: DESIGN.md's "
        "per-channel error against Kymatio's output (tolerances: "
        + ", ".join(f"{t} {d} {v:g}" for (t, d), v in sorted(TOLERANCE.items())) + ").", "",
        "| fixture | " + " | ".join(f"{FIXTURE_RUNNERS[f][0]} {d}" for f, d in columns) + " |",
        "|---" * (len(columns) + 1) + "|"]
    worst = {column: (0.0, "-") for column in columns}
    over = {column: [] for column in columns}
    for path in paths:
        kwargs, x, _ = scatflow_kwargs(path)
        cells = []
        for frontend, dtype in columns:
            try:
                out = FIXTURE_RUNNERS[frontend][1](run, class_of(path), kwargs, x.astype(dtype))
                error = fixture_channel_error(path, out)
            except Exception as failure:  # recorded in the table; the other fixtures still run
                over[frontend, dtype].append(f"{path.stem}: {type(failure).__name__}: {failure}")
                cells.append("error")
                continue
            if error > worst[frontend, dtype][0]:
                worst[frontend, dtype] = (error, path.stem)
            if not error <= tolerance_of(path, dtype):
                over[frontend, dtype].append(f"{path.stem} ({error:.1e})")
            cells.append(f"{error:.1e}" + ("" if error <= tolerance_of(path, dtype) else " **!**"))
        section.markdown.append(f"| {path.stem} | " + " | ".join(cells) + " |")
    for frontend, dtype in columns:
        error, name = worst[frontend, dtype]
        detail = f"worst {error:.1e} ({name})"
        if over[frontend, dtype]:
            detail += "; over its tolerance: " + "; ".join(over[frontend, dtype])
        section.check(f"{FIXTURE_RUNNERS[frontend][0]} {run.accelerator.label} {dtype}: "
                      f"{len(paths)} fixtures within tolerance", not over[frontend, dtype], detail)


def fixture_channel_error(path, out):
    """DESIGN.md's metric of `out` (host arrays, or a list output's coefficients)."""
    if isinstance(out, list):
        _, _, data = load_fixture(path)
        return list_error(out, [data[k] for k in sorted(k for k in data.files
                                                         if k.startswith("coef_"))])
    return fixture_error(path, out, SIGNAL_NDIM.get(transform_of(path), 1))


# -- torch ----------------------------------------------------------------------------------------
TORCH_CASES = [("Scattering1D", dict(J=4, shape=256, Q=8), (256,)),
               ("Scattering2D", dict(J=2, shape=(32, 32), L=4), (32, 32)),
               ("HarmonicScattering3D", dict(J=2, shape=(16, 16, 16), L=2), (16, 16, 16))]


def channel_error(ours, ref, signal_ndim):
    """The per-channel metric between two outputs with their batch dims first."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    if signal_ndim == 3:  # (*batch, K, L + 1, P): each (k, l) slot is a channel
        ours = ours.reshape(ours.shape[:-3] + (-1, ours.shape[-1]))
        ref = ref.reshape(ref.shape[:-3] + (-1, ref.shape[-1]))
        signal_ndim = 1
    return worst_channel_error(ours, ref, channel_axis=ours.ndim - 1 - signal_ndim)


def torch_behaviour(run, section):
    """What a Kymatio user relies on with torch on CUDA, each a named check against the same
    module's CPU output."""
    import torch

    import scatflow.torch as sto

    device, dry = run.accelerator.torch_device, run.accelerator.dry_run
    rng = np.random.default_rng(0)
    move = (lambda module: module.to(device)) if dry else (lambda module: module.cuda())
    moved = ".to('cpu') (standing in for .cuda())" if dry else ".cuda()"
    for name, kwargs, shape in TORCH_CASES:
        ndim = len(shape)
        x = rng.standard_normal((2,) + shape)
        S = getattr(sto, name)(**kwargs)
        cpu32, cpu64 = S(torch.from_numpy(x).float()), S(torch.from_numpy(x))
        G = move(S)
        on_device = all(b.device.type == device.type for b in G.buffers())
        out32 = G(torch.from_numpy(x).float().to(device))
        error = channel_error(out32.cpu().numpy(), cpu32.numpy(), ndim)
        section.check(f"{name}: {moved} moves every filter buffer; float32 output on "
                      f"{device.type}, = CPU's", on_device and out32.device.type == device.type
                      and error <= 1e-5, f"per-channel error {error:.1e} (<= 1e-5)")
        out64 = G(torch.from_numpy(x).to(device))
        error = channel_error(out64.cpu().numpy(), cpu64.numpy(), ndim)
        section.check(f"{name}: float64 input computes in float64 without .double()",
                      out64.dtype == torch.float64 and error <= 1e-12,
                      f"{out64.dtype}, per-channel error {error:.1e} (<= 1e-12)")
        back = getattr(sto, name)(**kwargs).to(device).to("cpu")
        section.check(f"{name}: .to(device) then .to('cpu') gives the CPU's numbers exactly",
                      torch.equal(back(torch.from_numpy(x).float()), cpu32))
        section.check(*_gradients(getattr(sto, name)(**kwargs), G, x, device, name))
    S = sto.Scattering2D(J=2, shape=(32, 32), L=4)
    section.check(*_data_parallel(S, move(sto.Scattering2D(J=2, shape=(32, 32), L=4)), device))
    section.check(*_mixed_batches(S, move(sto.Scattering2D(J=2, shape=(32, 32), L=4)), device))
    section.check(*_compiled(move(sto.Scattering2D(J=2, shape=(32, 32), L=4)), device))


def _gradients(S, G, x, device, name):
    """Gradients of a weighted sum of the coefficients on the device module `G`: finite in
    float32 and float64, also for a signal of exact zeros, and in float64 = those of the CPU
    module `S` (float32 would measure float32 rounding, not the device)."""
    import torch

    x = x.copy()
    x[0] = 0.0  # the modulus at exactly 0: its gradient must stay finite
    grads = {}
    runs = {"cpu float64": (S, "cpu", torch.float64), "float64": (G, device, torch.float64),
            "float32": (G, device, torch.float32)}
    for key, (module, where, dtype) in runs.items():
        signal = torch.from_numpy(x).to(where, dtype).requires_grad_()
        out = module(signal)
        weights = torch.from_numpy(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        (out * weights.to(where, dtype)).sum().backward()
        grads[key] = signal.grad.cpu().double().numpy()
    expected, ours = grads["cpu float64"], grads["float64"]
    error = np.abs(ours - expected).max() / np.abs(expected).max()
    finite = all(np.isfinite(g).all() for g in grads.values())
    return (f"{name}: gradients on {device.type} finite in float32 and float64 (a signal of "
            f"zeros included); float64 = CPU's", finite and error <= 1e-10,
            f"max float64 error {error:.1e} of the largest (<= 1e-10)")


def _data_parallel(S, G, device):
    import torch

    devices = torch.cuda.device_count() if device.type == "cuda" else 0
    x = torch.randn(2 * max(devices, 1), 32, 32)
    out = torch.nn.DataParallel(G)(x.to(device))
    error = channel_error(out.cpu().numpy(), S(x).numpy(), 2)
    return (f"DataParallel over the {devices} CUDA device(s) present", error <= 1e-5,
            f"per-channel error {error:.1e} (<= 1e-5)")


def _mixed_batches(S, G, device):
    """One module on batches of several sizes and ranks in turn, an empty one included."""
    import torch

    worst, shapes_kept = 0.0, True
    for batch in ((1,), (3,), (2, 4), (5,), (0,)):
        x = torch.randn(batch + (32, 32))
        out, expected = G(x.to(device)), S(x)
        shapes_kept &= tuple(out.shape) == tuple(expected.shape) == batch + (25, 8, 8)
        if x.shape[0]:
            worst = max(worst, channel_error(out.cpu().numpy(), expected.numpy(), 2))
    return ("mixed batch sizes (1,), (3,), (2, 4), (5,), (0,) on one module: shapes kept, "
            "each = CPU's", shapes_kept and worst <= 1e-5, f"per-channel error {worst:.1e}")


def _compiled(G, device):
    import torch

    x = torch.randn(4, 32, 32, device=device)
    compiled = torch.compile(G)
    start = time.perf_counter()
    out = compiled(x)
    seconds = time.perf_counter() - start
    error = channel_error(out.cpu().numpy(), G(x).cpu().numpy(), 2)
    return (f"torch.compile on {device.type}: = eager", error <= 1e-5,
            f"per-channel error {error:.1e}; first call (compilation) {seconds:.1f} s")


# -- JAX and JTFS, once scatflow has them ---------------------------------------------------------
def jax_frontend(run, section):
    """The fixtures on scatflow's JAX frontend (issue 10), on the GPU; its timing rows are in
    the timing section."""
    if importlib.util.find_spec("scatflow.jax") is None:
        return section.skip("not available in this scatflow (no scatflow.jax; issue 10)")
    if importlib.util.find_spec("jax") is None:
        return section.skip("JAX is not installed")
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 fixtures
    section.markdown.append(f"JAX {jax.__version__} on {jax.devices()[0]}.")
    check_fixtures(run, section, transform_fixtures(), ("jax",),
                   lambda p: TRANSFORMS[transform_of(p)],
                   lambda p, dtype: TOLERANCE[transform_of(p), dtype])


def jtfs(run, section):
    """Joint time-frequency scattering (issue 8): its fixtures on torch CUDA and CuPy
    (tolerances as 1D, DESIGN.md) and its timing rows."""
    import scatflow.torch as sto

    if not hasattr(sto, "TimeFrequencyScattering"):
        return section.skip("not available in this scatflow (no "
                            "scatflow.torch.TimeFrequencyScattering; issue 8)")
    import gpu_timing

    paths = sorted(FIXTURES.glob("kymatio-main-jtfs-*.npz"))
    if paths:
        check_fixtures(run, section, paths, ("torch", "cupy"),
                       lambda p: "TimeFrequencyScattering",
                       lambda p, dtype: TOLERANCE.get(("jtfs", dtype), TOLERANCE["1d", dtype]))
    else:
        section.check("JTFS fixtures present (tests/fixtures/kymatio-main-jtfs-*.npz)", False)
    gpu_timing.time_configs(run, section, gpu_timing.jtfs_configs(run), with_kymatio=False)
