"""A TLS-secured Dask cluster on this machine (LocalCluster with distributed's `Security`), held
until Ctrl-C or SIGTERM: to try scatflow's TLS setup, or to serve one large shared host.

    python cluster/tls/make_certs.py certs
    python cluster/tls/tls_cluster.py certs [--host 127.0.0.1] [--port 8786] [--n-workers 2]

It prints the environment that a client such as `scatflow run` needs, then the command:

    export DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True
    export DASK_DISTRIBUTED__COMM__TLS__CA_FILE=/abs/certs/ca.pem
    export DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=/abs/certs/client.pem
    export DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=/abs/certs/client-key.pem
    scatflow run WORKFLOW.yaml --scheduler-address tls://127.0.0.1:8786

On several hosts, start `dask scheduler` and `dask worker` with --tls-* flags instead
(cluster/README.md, "TLS").
"""

import argparse
import signal
import sys
from pathlib import Path


def security(certs, roles=("scheduler", "worker", "client")):
    """A distributed `Security` from the files of make_certs.py in `certs` for `roles`, with
    encryption required (no plain tcp:// connection is accepted or made)."""
    from distributed import Security

    certs = Path(certs).resolve()
    files = {"tls_ca_file": str(certs / "ca.pem")}
    for role in roles:
        files[f"tls_{role}_cert"] = str(certs / f"{role}.pem")
        files[f"tls_{role}_key"] = str(certs / f"{role}-key.pem")
    missing = [path for path in files.values() if not Path(path).exists()]
    if missing:
        raise FileNotFoundError(f"missing {', '.join(missing)}: run cluster/tls/make_certs.py")
    return Security(require_encryption=True, **files)


def client_environment(certs):
    """The environment variables (Dask config) that make a client use `certs`' client files."""
    certs = Path(certs).resolve()
    return {
        "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(certs / "ca.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(certs / "client.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(certs / "client-key.pem"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("certs", help="directory written by make_certs.py")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8786, help="scheduler port (0: any free one)")
    parser.add_argument("--n-workers", type=int, default=None, help="default: from the CPU count")
    parser.add_argument("--threads-per-worker", type=int, default=None)
    parser.add_argument("--memory-limit", default="auto", help="per worker, e.g. 4GiB")
    parser.add_argument("--scheduler-file", default=None,
                        help="also write the address here, for `scatflow run --scheduler-file`")
    args = parser.parse_args(argv)

    from distributed import LocalCluster

    # SIGTERM ends the `with` block like Ctrl-C, so the workers are shut down with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    scheduler_kwargs = {"scheduler_file": args.scheduler_file} if args.scheduler_file else {}
    with LocalCluster(protocol="tls", host=args.host, scheduler_port=args.port,
                      n_workers=args.n_workers, threads_per_worker=args.threads_per_worker,
                      memory_limit=args.memory_limit, security=security(args.certs),
                      dashboard_address=None, scheduler_kwargs=scheduler_kwargs) as cluster:
        for name, value in client_environment(args.certs).items():
            print(f"export {name}={value}")
        print(f"scatflow run WORKFLOW.yaml --scheduler-address {cluster.scheduler_address}",
              flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
