"""One measurement in this (fresh) process, for compare_kymatio.py: construct a transform cold,
then, by mode, nothing more, or time forward calls, or run one forward for the peak memory.

    python benchmarks/measure_once.py '{"library": "kymatio", "frontend": "numpy", ...}'

Prints one JSON line: constructor_s (always); forward_s (list), warmup_s and output_dtype
("forward" mode; on JAX also call_mode: "jit" or "eager"); peak_mib (peak RSS of this process)
and imported_mib (its RSS once the frontend module was imported, before anything was built) in
"memory" mode. Imports nothing of either
library before the constructor is timed but its frontend module, so the filter bank is built
from empty caches.
"""

import importlib
import json
import resource
import sys
import time
import warnings

import numpy as np


def rss_mib(field="VmHWM"):
    """This process's peak (VmHWM) or current (VmRSS) resident memory, from Linux's
    /proc/self/status: ru_maxrss would also count the parent's memory that the child had before
    its exec. Elsewhere ru_maxrss, or None for the current RSS."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024
    except (OSError, StopIteration):
        if field == "VmHWM":
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return None


def measure(library, frontend, transform, params, input_shape, dtype, mode, repeats=5,
            long_repeats=3, long_s=10.0):
    """Time the constructor; in "forward" mode also a warm-up call and then `repeats` calls
    (`long_repeats` where the warm-up took over `long_s`); in "memory" mode one call."""
    if frontend == "jax":
        import jax

        jax.config.update("jax_enable_x64", dtype == "float64")  # JAX's float64 needs it
    module = importlib.import_module(f"{library}.{frontend}")
    if library == "kymatio":
        # its 3D filter bank calls scipy.special.sph_harm, deprecated since SciPy 1.15, which
        # warns on every call: ignored, as Python's default filters ignore a library's
        warnings.simplefilter("ignore")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    imported_mib = rss_mib("VmRSS")
    start = time.perf_counter()
    S = getattr(module, transform)(**params)
    result = {"constructor_s": time.perf_counter() - start}
    if mode == "constructor":
        return result

    x = np.random.default_rng(0).standard_normal(input_shape).astype(dtype)
    if frontend == "torch":
        import torch

        x = torch.from_numpy(x)
        if library == "kymatio" and dtype == "float64":
            S = S.double()  # Kymatio's torch filters are float32 until .double()
    call_mode, finished = None, (lambda output: output)
    if frontend == "jax":
        S, x, call_mode = jitted_where_it_traces(S, x)
        finished = jax.block_until_ready  # JAX returns before the work is done
    start = time.perf_counter()
    output = finished(S(x))
    warmup = time.perf_counter() - start
    if mode == "memory":
        result.update(peak_mib=rss_mib(), imported_mib=imported_mib)
        return result

    times = []
    for _ in range(long_repeats if warmup > long_s else repeats):
        start = time.perf_counter()
        finished(S(x))
        times.append(time.perf_counter() - start)
    result.update(warmup_s=warmup, forward_s=times,
                  output_dtype=str(output.dtype).removeprefix("torch."))
    if call_mode:
        result["call_mode"] = call_mode
    return result


def jitted_where_it_traces(S, x):
    """(call, JAX input, "jit" or "eager"): `jax.jit(S)` if S traces (tried on an abstract
    input: nothing compiled or run), else S itself."""
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(x)
    jitted = jax.jit(S)
    try:
        jitted.trace(jax.ShapeDtypeStruct(x.shape, x.dtype))
    except jax.errors.JAXTypeError:
        return S, x, "eager"
    return jitted, x, "jit"


if __name__ == "__main__":
    print(json.dumps(measure(**json.loads(sys.argv[1]))))
