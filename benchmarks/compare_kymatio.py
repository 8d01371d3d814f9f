"""Side-by-side constructor and forward times of scatflow and Kymatio 0.3.0 (NumPy or torch CPU frontends).

Run it with a Python that has both libraries (Kymatio needs scipy<1.17, so not the project's
.venv), e.g. the fixture venv of tests/fixtures/make_fixtures.py:

    /tmp/kym030/bin/python -m pip install dask distributed xarray "zarr>=3.1,<4" click pyyaml
    PYTHONPATH=. /tmp/kym030/bin/python benchmarks/compare_kymatio.py
    /tmp/kym030/bin/python -m pip install torch==2.13.0      # for --frontend torch
    PYTHONPATH=. /tmp/kym030/bin/python benchmarks/compare_kymatio.py --frontend torch

Each figure is measured in a fresh process, the libraries alternating: the constructor cold (scatflow's
filter caches are empty in a new process), then the median of `--repeats` forward calls after one
warm-up call, and the peak resident memory of that process. Time ratios are Kymatio / scatflow
(above 1: scatflow is faster).
"""

import argparse
import json
import subprocess
import sys

CONFIGS = {
    "1d J=8 Q=8 N=4096 B=32": ("Scattering1D", dict(J=8, shape=4096, Q=8), (32, 4096)),
    "1d J=13 Q=12 N=65536 B=4": ("Scattering1D", dict(J=13, shape=65536, Q=12), (4, 65536)),
    "2d J=3 L=8 224x224 B=4": ("Scattering2D", dict(J=3, shape=(224, 224), L=8), (4, 224, 224)),
    "2d J=2 L=8 32x32 B=32": ("Scattering2D", dict(J=2, shape=(32, 32), L=8), (32, 32, 32)),
    "3d J=2 L=2 32^3 B=4": ("HarmonicScattering3D", dict(J=2, shape=(32, 32, 32), L=2), (4, 32, 32, 32)),
}

WORKER = r"""
import json, resource, statistics, sys, time, warnings
import numpy as np
library, frontend, cls_name, kwargs, x_shape, dtype, repeats = json.loads(sys.argv[1])
import importlib
module = importlib.import_module(f"{library}.{frontend}")
if library == "kymatio":
    warnings.resetwarnings(); warnings.simplefilter("ignore")
kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
x = np.random.default_rng(0).standard_normal(x_shape).astype(dtype)
start = time.perf_counter(); S = getattr(module, cls_name)(**kwargs); built = time.perf_counter() - start
if frontend == "torch":
    import torch
    x = torch.from_numpy(x)
    if library == "kymatio" and dtype == "float64":
        S = S.double()  # Kymatio's torch filters are float32 until .double()
S(x)
times = []
for _ in range(repeats):
    start = time.perf_counter(); S(x); times.append(time.perf_counter() - start)
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"constructor": built, "forward": statistics.median(times), "peak_mb": peak_kb / 1024}))
"""


def measure(library, frontend, config, dtype, repeats):
    cls_name, kwargs, x_shape = config
    args = json.dumps([library, frontend, cls_name, kwargs, x_shape, dtype, repeats])
    done = subprocess.run([sys.executable, "-c", WORKER, args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{library} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--frontend", default="numpy", choices=["numpy", "torch"])
    parser.add_argument("--only", nargs="*", help="substrings of configuration names to run")
    args = parser.parse_args()
    print("| configuration | kymatio ctor (s) | scatflow ctor (s) | ratio | kymatio fwd (s) "
          "| scatflow fwd (s) | ratio | kymatio peak MB | scatflow peak MB |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for name, config in CONFIGS.items():
        if args.only and not any(s in name for s in args.only):
            continue
        kym = measure("kymatio", args.frontend, config, args.dtype, args.repeats)
        ours = measure("scatflow", args.frontend, config, args.dtype, args.repeats)
        print(f"| {name} {args.frontend} {args.dtype} | {kym['constructor']:.3f} | {ours['constructor']:.3f} "
              f"| {kym['constructor'] / ours['constructor']:.1f}x | {kym['forward']:.3f} "
              f"| {ours['forward']:.3f} | {kym['forward'] / ours['forward']:.1f}x "
              f"| {kym['peak_mb']:.0f} | {ours['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
