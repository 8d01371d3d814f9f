"""A Dask cluster on this machine's GPUs for scatflow, held until Ctrl-C or SIGTERM:
dask-cuda's LocalCUDACluster, one worker process per GPU (each pinned to its GPU through
CUDA_VISIBLE_DEVICES), each declaring the worker resource GPU=1.

    python cluster/local-gpu.py [--devices 0,1] [--threads-per-worker 2] [--port 8786]
    scatflow run WORKFLOW.yaml --scheduler-address tcp://127.0.0.1:8786      (in another shell)

Needs `pip install "scatflow[gpu]"` (CuPy and dask-cuda). The workflow's own `cluster:
{kind: local}` starts CPU workers; this script is the GPU counterpart. `scatflow run` asks for
the resource GPU=1 for workflows with `transform: {backend: cupy}` (and `scatflow.dask.compute`
for CuPy-backed arrays), so their tasks go to these workers only.
"""

import argparse
import signal
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default=None,
                        help="GPUs to use, e.g. 0,1 (default: all, or CUDA_VISIBLE_DEVICES)")
    parser.add_argument("--threads-per-worker", type=int, default=2,
                        help="threads per GPU worker (default 2: one decodes the next block "
                             "while one keeps the GPU busy)")
    parser.add_argument("--memory-limit", default="auto", help="host memory per worker")
    parser.add_argument("--device-memory-limit", default="default",
                        help="GPU memory above which a worker spills to host memory "
                             "(dask-cuda's default: a fraction of the device)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0: reachable from other machines)")
    parser.add_argument("--port", type=int, default=8786, help="scheduler port (0: any free one)")
    parser.add_argument("--dashboard-address", default=":8787")
    parser.add_argument("--scheduler-file", default=None,
                        help="also write the address here, for `scatflow run --scheduler-file`")
    args = parser.parse_args(argv)

    from dask_cuda import LocalCUDACluster

    # SIGTERM ends the `with` block like Ctrl-C, so the workers are shut down with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    scheduler_kwargs = {"scheduler_file": args.scheduler_file} if args.scheduler_file else {}
    with LocalCUDACluster(CUDA_VISIBLE_DEVICES=args.devices,
                          threads_per_worker=args.threads_per_worker,
                          memory_limit=args.memory_limit,
                          device_memory_limit=args.device_memory_limit,
                          resources={"GPU": 1}, host=args.host, scheduler_port=args.port,
                          dashboard_address=args.dashboard_address,
                          scheduler_kwargs=scheduler_kwargs) as cluster:
        print(f"{len(cluster.workers)} GPU worker(s); dashboard {cluster.dashboard_link}")
        print(f"scatflow run WORKFLOW.yaml --scheduler-address {cluster.scheduler_address}",
              flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
