"""What the workflow runner costs: `scatflow run` (template, region writes, markers, lock) against
the plain accessor (`ds.scat.scattering2d(...).to_zarr`) on the same zarr input and the same
LocalCluster. Prints markdown (results/workflow.md holds a run).

    python benchmarks/workflow_throughput.py [--size-mb 63] [--workers 2] [--repeats 3]

Input: random float32 images 256x256 in an uncompressed zarr store, 16 images a chunk (the Dask
rows of `make bench`). Transform: 2D J=3, L=8. Output uncompressed. MB/s of input (1e6 bytes),
median of `--repeats` runs after a warm-up; the runner's figure counts its whole run on the
cluster (template, regions, markers), not the spec check and plan before it.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from distributed import LocalCluster

from dask_throughput import accessor_run, image_count, machine, write_dataset
from scatflow.workflow.run import run_workflow
from scatflow.workflow.spec import check_spec


def runner_run(source, target, J, L, region, warm=False):
    """Seconds of `run_workflow` region writes from `source` into a fresh `target`."""
    spec = check_spec({
        "input": {"store": str(source), "dims": ["y", "x"],
                  "select": {"time": [0, 2 * region]} if warm else {}},
        "transform": {"kind": "scattering2d", "J": J, "L": L},
        "output": {"store": str(target), "chunks": 16, "codec": {"name": "none"}},
        "execution": {"region_size": region}}, Path(target).parent)
    report = run_workflow(spec, scheduler_address=runner_run.address, overwrite=True,
                          progress=False, echo=lambda line: None)
    return report.write_seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=63)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    J, L, image, chunk = 3, 8, 256, 16
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = image_count(args.size_mb, image, chunk)
        ds = write_dataset(tmp / "images.zarr", n, image, chunk)
        nbytes = ds["image"].nbytes
        rows = []
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster:
            runner_run.address = cluster.scheduler_address
            from distributed import Client

            with Client(cluster):
                cases = [("`ds.scat.scattering2d(...).to_zarr`", lambda warm=False: accessor_run(
                    ds, tmp / "accessor.zarr", J, L, warm))]
                for region in (16, 64):
                    cases.append((f"`scatflow run`, regions of {region} images",
                                  lambda warm=False, r=region: runner_run(
                                      tmp / "images.zarr", tmp / f"run{r}.zarr", J, L, r, warm)))
                for name, run in cases:
                    run(warm=True)
                    times = [run() for _ in range(args.repeats)]
                    rows.append((name, times, nbytes / 1e6 / statistics.median(times)))
    print(f"# Workflow runner against the accessor\n\n{machine()}\n")
    print(f"{n} images {image}x{image} float32 ({nbytes / 1e6:.0f} MB), zarr chunks of {chunk}, "
          f"2D J={J} L={L}, LocalCluster {args.workers} worker processes x 1 thread; "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("| path | times (s) | MB/s | vs accessor |\n|---|---|---|---|")
    for name, times, mbps in rows:
        print(f"| {name} | {', '.join(f'{t:.2f}' for t in times)} | {mbps:.1f} | "
              f"{mbps / rows[0][2]:.2f}x |")


if __name__ == "__main__":
    main()
