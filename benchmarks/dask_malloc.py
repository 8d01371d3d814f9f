"""Dask worker processes and glibc malloc: throughput of scatflow.dask.scattering2d (J=3, L=8) on
a LocalCluster of 2 worker processes x 1 thread, with the environment Dask gives its workers
(`distributed.nanny.pre-spawn-environ`: MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's
dynamic mmap threshold) and with overrides. Input: 64 MB of float32 images 256x256 in chunks of
16, from memory. Prints MB/s of input (best of 2 runs after a warm-up) per environment, each in
a fresh process (distributed reads the spawn environment once per process):

    .venv/bin/python benchmarks/dask_malloc.py
"""

import time

import dask
import dask.array as da
import numpy as np

import scatflow.dask as sd

ENVIRONMENTS = {
    "Dask's default": {},
    "+ MALLOC_MMAP_THRESHOLD_=64 MiB": {"MALLOC_MMAP_THRESHOLD_": 2**26},
    "+ MALLOC_MMAP_THRESHOLD_=64 MiB, MALLOC_TRIM_THRESHOLD_=128 MiB":
        {"MALLOC_MMAP_THRESHOLD_": 2**26, "MALLOC_TRIM_THRESHOLD_": 2**27},
}


def throughput(x, env):
    from distributed import Client, LocalCluster

    base = dask.config.get("distributed.nanny.pre-spawn-environ")
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {**base, **env}}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster, Client(cluster):
        y = sd.scattering2d(da.from_array(x, chunks=(16,) + x.shape[1:]), J=3, L=8)
        y[:32].compute()
        times = []
        for _ in range(2):
            start = time.perf_counter()
            y.compute()
            times.append(time.perf_counter() - start)
    return x.nbytes / 1e6 / min(times)


def main():
    import json
    import subprocess
    import sys

    if len(sys.argv) > 1:  # one environment, in this fresh process
        x = np.random.default_rng(0).standard_normal((256, 256, 256)).astype(np.float32)
        print(throughput(x, json.loads(sys.argv[1])))
        return
    print("| worker environment | MB/s |\n|---|---|")
    for name, env in ENVIRONMENTS.items():
        done = subprocess.run([sys.executable, __file__, json.dumps(env)], capture_output=True,
                              text=True, check=True)
        print(f"| {name} | {float(done.stdout.split()[-1]):.1f} |", flush=True)


if __name__ == "__main__":
    main()
