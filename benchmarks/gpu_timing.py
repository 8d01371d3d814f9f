"""The GPU check's timing (gpu_check.py's section timing, and the JTFS rows): scatflow on torch
CUDA and on CuPy against Kymatio 0.3.0's torch frontend on CUDA (gpu_report.py makes the table).

A timing figure is the median of `repeats` calls (`long_repeats` where the warm-up call took over
`long_s`) after one warm-up call, each between two device synchronisations, all libraries on the
same float32 input, in this one process. Peak GPU memory of a library on a row: torch's
`max_memory_allocated` over its calls (input, filters and work), CuPy's memory pool's bytes after
its calls, emptied before them (its peak reservation). Kymatio's filter banks are built on the
CPU in a background thread from the check's start (its 3D bank at 128^3 takes a minute), and
the timing section waits for them before timing anything.

Kymatio 0.3.0's 3D filters call `scipy.special.sph_harm`, which SciPy 1.17 removed: the
benchmark gives it `sph_harm_shim` (as Kymatio's users do), never scatflow.
"""

import gc
import importlib.util
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass

import numpy as np

from compare_kymatio import ASV, GUIDE, Config

FLOAT32 = ("float32",)
# Kymatio's user-guide batches and two of its asv rows (float32), as issue 14 lists them.
TIMING_CONFIGS = [
    Config("Scattering1D", dict(J=10, Q=8, shape=65536), (64,), GUIDE, dtypes=FLOAT32),
    Config("Scattering1D", dict(J=13, Q=12, shape=65536), (32, 1), ASV, dtypes=FLOAT32),
    Config("Scattering2D", dict(J=3, L=8, shape=(256, 256)), (128, 3), GUIDE, dtypes=FLOAT32),
    Config("Scattering2D", dict(J=3, L=8, shape=(224, 224)), (32, 3), ASV, dtypes=FLOAT32),
    Config("HarmonicScattering3D", dict(J=2, L=2, shape=(128, 128, 128)), (8,), GUIDE,
           dtypes=FLOAT32),
]
DRY_RUN_CONFIGS = [
    Config("Scattering1D", dict(J=6, Q=8, shape=1024), (4,), "dry run", dtypes=FLOAT32),
    Config("Scattering2D", dict(J=2, L=8, shape=(32, 32)), (4, 3), "dry run", dtypes=FLOAT32),
    Config("HarmonicScattering3D", dict(J=1, L=2, shape=(16, 16, 16)), (2,), "dry run",
           dtypes=FLOAT32),
]
JTFS_CONFIGS = [Config("TimeFrequencyScattering", dict(J=10, J_fr=4, Q=(12, 2), shape=65536),
                       (8,), "issue 8", dtypes=FLOAT32)]
DRY_RUN_JTFS_CONFIGS = [Config("TimeFrequencyScattering", dict(J=6, J_fr=3, Q=8, shape=1024),
                               (2,), "dry run", dtypes=FLOAT32)]
RATIO_TARGET = 3.0  # scatflow's forward >= 3x Kymatio's torch CUDA on every row
# Per batch of the user guide, on one H100 (the targets), and the seed's figures
# (Kymatio's user guide, one V100).
H100_TARGET_S = {"Scattering1D": 0.03, "Scattering2D": 0.1, "HarmonicScattering3D": 0.15}
V100_SEED = {"Scattering1D": "Kymatio torch 0.15 s, skcuda 0.11 s",
             "Scattering2D": "Kymatio torch 2.9 s, skcuda 0.5 s, PyScatWave 0.5 s",
             "HarmonicScattering3D": "Kymatio torch 0.88 s, skcuda 0.74 s"}
KYMATIO = "Kymatio 0.3.0 torch"


def sph_harm_shim(special=None):
    """Give SciPy >= 1.17 back `sph_harm(m, n, azimuth, polar)` as its successor
    `sph_harm_y(n, m, polar, azimuth)`, for Kymatio 0.3.0's 3D filters (in `special`, default
    `scipy.special`); True if it was missing. This process only: scatflow calls neither."""
    if special is None:
        import scipy.special as special

    if hasattr(special, "sph_harm"):
        return False

    def sph_harm(m, n, azimuth, polar):
        return special.sph_harm_y(n, m, polar, azimuth)

    special.sph_harm = sph_harm
    return True


# -- libraries ------------------------------------------------------------------------------------
@dataclass
class Library:
    """One column of the table: how to build its transform for a configuration, on which
    framework its input lives (torch | cupy | jax), and so how its peak memory is read."""

    name: str
    framework: str
    build: object  # (run, config) -> the transform, on the device


def _scatflow_torch(run, config):
    import scatflow.torch as sto

    return getattr(sto, config.transform)(**_params(config)).to(run.accelerator.torch_device)


def _scatflow_cupy(run, config):
    import scatflow.numpy as snp

    return getattr(snp, config.transform)(**_params(config),
                                          backend=run.accelerator.cupy_backend())


def _scatflow_jax(run, config):
    import jax

    import scatflow.jax as sjax

    S = getattr(sjax, config.transform)(**_params(config))
    return lambda x: jax.block_until_ready(S(x))


def _kymatio_torch(run, config):
    """Kymatio's module for `config`, built in the background (`start_kymatio_builds`)."""
    build = run.background["kymatio"][config.name]
    if not build.done():
        raise RuntimeError("its filter bank was not built in time")
    return build.result().to(run.accelerator.torch_device)


def _params(config):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.params.items()}


def libraries(run, with_kymatio=True):
    found = [Library("scatflow torch", "torch", _scatflow_torch),
             Library("scatflow CuPy", "cupy", _scatflow_cupy)]
    if importlib.util.find_spec("scatflow.jax") and importlib.util.find_spec("jax"):
        found.append(Library("scatflow JAX", "jax", _scatflow_jax))
    if with_kymatio and "kymatio" in run.background:
        found.append(Library(KYMATIO, "torch", _kymatio_torch))
    return found


def configs(run):
    return DRY_RUN_CONFIGS if run.accelerator.dry_run else TIMING_CONFIGS


def jtfs_configs(run):
    return DRY_RUN_JTFS_CONFIGS if run.accelerator.dry_run else JTFS_CONFIGS


def start_kymatio_builds(run):
    """Build Kymatio's torch modules for the timing rows on the CPU in a background thread,
    so that their filter banks (a minute at 3D 128^3) overlap the sections before timing."""
    if importlib.util.find_spec("kymatio") is None:
        run.log("Kymatio is not installed: the timing table has no Kymatio column")
        return
    shimmed = sph_harm_shim()
    import kymatio
    import kymatio.torch

    run.log(f"Kymatio {kymatio.__version__}: its filter banks build in the background"
            + ("; scipy.special.sph_harm shimmed with sph_harm_y (SciPy >= 1.17)" if shimmed
               else ""))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kymatio-build")
    run.background["kymatio"] = {
        config.name: pool.submit(lambda c=config: getattr(kymatio.torch, c.transform)(
            **_params(c))) for config in configs(run)}
    run.background["kymatio-shim"] = shimmed
    pool.shutdown(wait=False)


# -- measuring ------------------------------------------------------------------------------------
def _device_input(run, framework, x):
    if framework == "torch":
        import torch

        return torch.from_numpy(x).to(run.accelerator.torch_device)
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(x)
    return run.accelerator.to_cupy(x)


def _reset_peak(run, framework):
    if run.accelerator.dry_run:
        return
    if framework == "torch":
        import torch

        torch.cuda.reset_peak_memory_stats()
    elif framework == "cupy":
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()


def _peak_mib(run, framework):
    if run.accelerator.dry_run:
        return None
    if framework == "torch":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    if framework == "cupy":
        import cupy

        return cupy.get_default_memory_pool().total_bytes() / 2**20
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use", 0) / 2**20 or None


def _release(run):
    """Drop what the last library left on the device, so that the next one starts empty."""
    gc.collect()
    if run.accelerator.dry_run:
        return
    import cupy
    import torch

    torch.cuda.empty_cache()
    cupy.get_default_memory_pool().free_all_blocks()


def measure(run, library, config, x):
    """Forward times of `library` on `config` with the host input `x`: warm-up, then runs;
    what it left on the device is released after (its module and input gone with `_measure`)."""
    try:
        return _measure(run, library, config, x)
    finally:
        _release(run)


def _measure(run, library, config, x):
    accelerator, sizes = run.accelerator, run.sizes
    S = library.build(run, config)
    device_x = _device_input(run, library.framework, x)
    _reset_peak(run, library.framework)

    def timed():
        accelerator.synchronize()
        start = time.perf_counter()
        out = S(device_x)
        accelerator.synchronize()
        return time.perf_counter() - start, out

    warmup, out = timed()
    dtype = str(getattr(out, "dtype", "-")).removeprefix("torch.")
    del out
    runs = sizes.repeats if warmup <= sizes.long_s else sizes.long_repeats
    times = [timed()[0] for _ in range(runs)]
    return dict(median_s=statistics.median(times), times_s=times, warmup_s=warmup, runs=runs,
                peak_mib=_peak_mib(run, library.framework), output_dtype=dtype)


def missed(run, row, library):
    """Whether scatflow's `library` misses a target on `row` (>= 3x Kymatio's torch; the H100
    time of a user-guide batch): the rows the issue wants profiled. In a dry run the first
    row's torch call, to show the profile's wiring."""
    config, result = row["config"], row["results"].get(library.name, {})
    if library.name == KYMATIO or "median_s" not in result:
        return False
    if run.accelerator.dry_run:
        return library.framework == "torch" and config is configs(run)[0]
    target = H100_TARGET_S.get(config.transform) if config.source == GUIDE else None
    slow = ratio(row, library.name)
    return (slow is not None and slow < RATIO_TARGET) or (
        target is not None and result["median_s"] > target)


def profile(run, library, config, x, top=12):
    """The `top` operations and kernels of one call (after a warm-up call) by their own device
    time (CPU time in a dry run), from torch's profiler, which records CuPy's kernels too
    (CUPTI); the whole table goes to the log."""
    on_gpu = not run.accelerator.dry_run
    try:
        events = _profiled(run, library, config, x)
    finally:
        _release(run)

    def own_time(event):
        if not on_gpu:
            return event.self_cpu_time_total
        return getattr(event, "self_device_time_total", None) or getattr(
            event, "self_cuda_time_total", 0)

    total = sum(own_time(e) for e in events) or 1
    ranked = sorted(events, key=own_time, reverse=True)[:top]
    run.log_to_file(f"profile of one call: {config.name}, {library.name}")
    for key in ("self_device_time_total", "self_cuda_time_total") if on_gpu else (
            "self_cpu_time_total",):
        try:  # torch's name for the sort key has changed over releases
            run.log_to_file(events.table(sort_by=key, row_limit=25))
            break
        except (AttributeError, KeyError, ValueError):
            continue
    return [dict(name=e.key[:90], calls=e.count, ms=own_time(e) / 1e3,
                 share=own_time(e) / total) for e in ranked]


def _profiled(run, library, config, x):
    """torch profiler's averages over one call, after a warm-up call."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU]
    if not run.accelerator.dry_run:
        activities.append(ProfilerActivity.CUDA)
    S = library.build(run, config)
    device_x = _device_input(run, library.framework, x)
    S(device_x)
    run.accelerator.synchronize()
    with torch_profile(activities=activities) as profiler:
        S(device_x)
        run.accelerator.synchronize()
    return profiler.key_averages()


# -- the section ----------------------------------------------------------------------------------
def timing(run, section):
    """The timing table: every configuration on every library, with the ratios and targets."""
    builds = run.background.get("kymatio", {})
    if builds:
        start = time.monotonic()
        _, pending = wait_for(builds.values(), timeout=max(0.0, run.time_for("timing") - 30))
        run.log(f"  waited {time.monotonic() - start:.0f} s for Kymatio's filter banks"
                + (f"; {len(pending)} not built in time" if pending else ""))
        if run.background["kymatio-shim"]:
            section.markdown += ["Kymatio 0.3.0 ran with `scipy.special.sph_harm` shimmed "
                                 "(`gpu_timing.sph_harm_shim`: SciPy >= 1.17 has only "
                                 "`sph_harm_y`).", ""]
    else:
        section.markdown += ["Kymatio is not installed here: no Kymatio column.", ""]
    time_configs(run, section, configs(run), with_kymatio=True)


def time_configs(run, section, chosen, with_kymatio):
    """Time each configuration of `chosen` on each library, within the section's time."""
    used = libraries(run, with_kymatio)
    rows = []
    for config in chosen:
        if run.time_for(section.name) < 20:
            section.reason = f"out of time before {config.name} and later rows"
            run.log(f"  {section.reason}")
            break
        x = np.random.default_rng(0).standard_normal(config.input_shape, dtype=np.float32)
        row = dict(config=config, results={})
        for library in used:
            try:
                result = measure(run, library, config, x)
            except Exception as error:  # one library failing leaves the others' figures
                result = dict(error=f"{type(error).__name__}: {str(error)[:200]}")
            row["results"][library.name] = result
            peak = result.get("peak_mib")
            run.log(f"  {config.name} {library.name}: " + (
                result["error"] if "error" in result else
                f"{result['median_s']:.4g} s (median of {result['runs']}, warm-up "
                f"{result['warmup_s']:.3g} s), peak {'-' if peak is None else f'{peak:.0f}'}"
                " MiB"))
            section.check(f"{config.name}: {library.name} ran", "error" not in result,
                          result.get("error", ""))
        for library in used:
            if missed(run, row, library) and run.time_for(section.name) > 20:
                row["results"][library.name]["profile"] = profile(run, library, config, x)
        rows.append(row)
    section.data.setdefault("timing", []).extend(rows)  # gpu_report.py makes the table


def ratio(row, library):
    """Kymatio's median over `library`'s (above 1: `library` is faster); None if missing."""
    kymatio, ours = (row["results"].get(name, {}).get("median_s") for name in (KYMATIO, library))
    return kymatio / ours if kymatio and ours else None
