"""Start Dask workers as SLURM jobs (dask-jobqueue) and run a scatflow workflow on them.

    python cluster/slurm/launch.py wf.yaml --config cluster/slurm/jobqueue.yaml --jobs 4
    python cluster/slurm/launch.py wf.yaml --config cluster/slurm/jobqueue-gpu.yaml -- --resume
    python cluster/slurm/launch.py --config cluster/slurm/jobqueue-gpu.yaml --print-job-script
    python cluster/slurm/launch.py wf.yaml --config cluster/slurm/jobqueue.yaml --tls CERTS_DIR

The Dask scheduler runs inside this process and the workers connect back to it, so start the
launcher where it may live for the whole workflow and where the compute nodes can reach it (a
login node inside tmux, or a small batch job, as your site allows). It submits `--jobs` worker
jobs with `sbatch`, runs `scatflow run wf.yaml --scheduler-address ADDRESS [options after --]`,
and cancels the jobs when the run ends, fails or is interrupted. Its exit status is the run's.
With --tls, every connection (scheduler, workers, `scatflow run`) uses TLS with the
certificates of cluster/tls/make_certs.py, which must lie where the compute nodes can read them.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dask
import yaml


def config_block(path):
    """(name, settings) of the one `jobqueue.<name>` block in the YAML file `path`."""
    blocks = yaml.safe_load(Path(path).read_text())["jobqueue"]
    if len(blocks) != 1:
        raise ValueError(f"{path}: expected one block under `jobqueue`, found {sorted(blocks)}")
    return next(iter(blocks.items()))


def make_cluster(path, **kwargs):
    """A SLURMCluster from the jobqueue YAML file `path` (keywords override it).

    The block is put into Dask's config for good, not for a `with` block: dask-jobqueue reads
    it again each time it creates a job, at `scale()`."""
    from dask_jobqueue import SLURMCluster

    name, settings = config_block(path)
    dask.config.set({f"jobqueue.{name}": settings})
    return SLURMCluster(config_name=name, **kwargs)


def tls_settings(certs):
    """For the certificates of make_certs.py in `certs`: the SLURMCluster keywords (the workers
    get --tls-* flags in their job script) and the environment for the `scatflow run` client."""
    from distributed import Security

    certs = Path(certs).resolve()
    files = {"tls_ca_file": str(certs / "ca.pem")}
    for role in ("scheduler", "worker", "client"):
        files[f"tls_{role}_cert"] = str(certs / f"{role}.pem")
        files[f"tls_{role}_key"] = str(certs / f"{role}-key.pem")
    missing = [path for path in files.values() if not Path(path).exists()]
    if missing:
        raise SystemExit(f"--tls: missing {', '.join(missing)} (cluster/tls/make_certs.py)")
    environment = {
        "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": files["tls_ca_file"],
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": files["tls_client_cert"],
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": files["tls_client_key"],
    }
    options = {"protocol": "tls://", "security": Security(require_encryption=True, **files)}
    return options, environment


def scatflow_command():
    """The `scatflow` script of this interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).with_name("scatflow")
    found = str(beside) if beside.exists() else shutil.which("scatflow")
    if found is None:
        raise SystemExit("no `scatflow` command: install scatflow in this environment")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Options after `--` go to `scatflow run`, e.g. -- --resume.")
    parser.add_argument("workflow", nargs="?", help="workflow YAML file for `scatflow run`")
    parser.add_argument("--config", required=True, help="jobqueue YAML file (cluster/slurm/*.yaml)")
    parser.add_argument("--jobs", type=int, default=1, help="SLURM worker jobs to submit")
    parser.add_argument("--tls", metavar="CERTS_DIR",
                        help="secure the cluster with the certificates in CERTS_DIR")
    parser.add_argument("--print-job-script", action="store_true",
                        help="print the worker job script and exit; submits nothing")
    argv = sys.argv[1:] if argv is None else list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args, run_options = parser.parse_args(argv[:split]), argv[split + 1:]
    if not args.print_job_script and args.workflow is None:
        parser.error("a workflow file is needed (or --print-job-script)")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    cluster_options, client_environment = tls_settings(args.tls) if args.tls else ({}, {})
    with make_cluster(args.config, **cluster_options) as cluster:
        if args.print_job_script:
            print(cluster.job_script())
            return 0
        command = [scatflow_command(), "run", args.workflow,
                   "--scheduler-address", cluster.scheduler_address, *run_options]
        cluster.scale(jobs=args.jobs)
        print(f"scheduler {cluster.scheduler_address}, dashboard {cluster.dashboard_link}; "
              f"{args.jobs} worker job(s) submitted (squeue --me)", flush=True)
        return subprocess.call(command, env=os.environ | client_environment)


if __name__ == "__main__":
    sys.exit(main())
