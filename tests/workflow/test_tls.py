"""TLS for scatflow's Dask clusters, on 127.0.0.1, with certificates made by
cluster/tls/make_certs.py into a temporary folder.

A `dask scheduler` and a `dask worker` started with --tls-* flags, as cluster/README.md says,
serve the clients that hold the client certificate, however it is configured: a `Security`
object, the environment variables that the README gives for `scatflow run`, or
cluster/tls/dask-tls.yaml. They run scatflow.dask.scattering2d on the worker. Every other
client is refused: plain tcp://, tls:// without certificates, a certificate signed by another
CA; and a client that does not trust the scheduler's CA refuses it. cluster/tls/tls_cluster.py,
the one-process TLS cluster, is run too.
"""

import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest
import yaml

from processes import stop_group

pytest.importorskip("cryptography")

from distributed import Client, Security  # noqa: E402
from distributed.comm.core import CommClosedError, FatalCommClosedError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]  # the repository root
TLS = ROOT / "cluster" / "tls"


def load_script(path):
    """cluster/ holds scripts, not a package: import one by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_certs = load_script(TLS / "make_certs.py")
tls_cluster = load_script(TLS / "tls_cluster.py")


def dask_cli(command):
    """`dask <command>` of this interpreter's environment."""
    script = Path(sys.executable).with_name("dask")
    if script.exists():
        return [str(script), command]
    return [sys.executable, "-m", f"distributed.cli.dask_{command}"]


def wait_for(predicate, process, log, timeout=60):
    """Polls `predicate` until true; fails early, with the log, if `process` dies."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, Path(log).read_text()
        assert time.monotonic() < deadline, f"timed out\n{Path(log).read_text()}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")
    make_certs.make_certificates(directory)
    return directory


@pytest.fixture(scope="module")
def foreign_certs(tmp_path_factory):
    """A valid set from another CA: what someone without our CA's key can make."""
    directory = tmp_path_factory.mktemp("foreign")
    make_certs.make_certificates(directory)
    return directory


@pytest.fixture(scope="module")
def cluster(certs, tmp_path_factory):
    """(address, scheduler log) of a TLS scheduler and one worker, as separate processes."""
    folder = tmp_path_factory.mktemp("cluster")
    scheduler_file, scheduler_log = folder / "scheduler.json", folder / "scheduler.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes = []
    try:
        with open(scheduler_log, "w") as log:
            processes.append(subprocess.Popen(
                dask_cli("scheduler") + [
                    "--protocol", "tls", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(scheduler_file),
                    "--tls-ca-file", str(certs / "ca.pem"),
                    "--tls-cert", str(certs / "scheduler.pem"),
                    "--tls-key", str(certs / "scheduler-key.pem")],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        # Started at once: the worker waits for the scheduler file.
        with open(folder / "worker.log", "w") as log:
            processes.append(subprocess.Popen(
                dask_cli("worker") + [
                    "--scheduler-file", str(scheduler_file),
                    "--nworkers", "1", "--nthreads", "1", "--memory-limit", "1GiB",
                    "--no-dashboard", "--local-directory", str(folder / "worker-space"),
                    "--death-timeout", "60",
                    "--tls-ca-file", str(certs / "ca.pem"),
                    "--tls-cert", str(certs / "worker.pem"),
                    "--tls-key", str(certs / "worker-key.pem")],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        wait_for(lambda: "Registered to:" in (folder / "worker.log").read_text(), processes[1],
                 folder / "worker.log")
        address = json.loads(scheduler_file.read_text())["address"]
        yield address, scheduler_log
    finally:
        for process in reversed(processes):
            stop_group(process)


def small_images():
    return np.random.default_rng(5).random((4, 32, 32))


def scattering_reference():
    import scatflow.numpy as snp

    return snp.Scattering2D(J=2, shape=(32, 32), L=4)(small_images())


# -- certificates -----------------------------------------------------------------------------
def test_make_certs_writes_a_ca_and_signed_certificates(tmp_path):
    from cryptography import x509

    paths = make_certs.make_certificates(tmp_path / "certs", hosts=["localhost", "127.0.0.1"])
    ca = x509.load_pem_x509_certificate(paths["ca"].read_bytes())
    for role in make_certs.ROLES:
        cert_path, key_path = paths[role]
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca)  # raises if another key signed it
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        assert key_path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "certs" / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    before = paths["ca"].read_bytes()
    with pytest.raises(FileExistsError, match="would overwrite ca.pem"):
        make_certs.make_certificates(tmp_path / "certs")
    assert paths["ca"].read_bytes() == before


# -- clients with the certificates --------------------------------------------------------------
@pytest.mark.cluster
def test_client_with_certificates_runs_scattering(cluster, certs):
    import scatflow.dask as sd

    address, _ = cluster
    security = tls_cluster.security(certs, roles=("client",))
    with Client(address, security=security, timeout=60) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 1 and all(w.startswith("tls://127.0.0.1:") for w in workers)
        assert client.compute(da.arange(1000, chunks=100).sum()).result() == 499500
        x = da.from_array(small_images(), chunks=(2, 32, 32))
        (out,) = sd.compute(sd.scattering2d(x, J=2, L=4), client=client)
    np.testing.assert_allclose(out, scattering_reference(), rtol=1e-10, atol=1e-12)


def readme_client_environment(certs):
    """The `export DASK_...=` lines of cluster/README.md, with $CERTS made `certs`."""
    text = (ROOT / "cluster" / "README.md").read_text()
    found = dict(re.findall(r"^\s*export (DASK_\w+)=(\S+)", text, flags=re.MULTILINE))
    return {name: value.replace("$CERTS", str(certs)) for name, value in found.items()}


def test_readme_and_tls_cluster_give_the_same_client_environment(certs):
    assert readme_client_environment(certs) == tls_cluster.client_environment(certs)


@pytest.mark.cluster
def test_client_configured_by_the_readmes_environment(cluster, certs, tmp_path):
    """What `scatflow run --scheduler-address tls://...` gets: a fresh process whose only TLS
    settings are the README's environment variables; `Client(address)` with no `security=`."""
    address, _ = cluster
    env = dict(os.environ, **readme_client_environment(certs))
    program = textwrap.dedent(f"""\
        import json, numpy as np, dask.array as da
        from distributed import Client
        import scatflow.dask as sd
        x = da.from_array(np.random.default_rng(5).random((4, 32, 32)), chunks=(2, 32, 32))
        with Client({address!r}, timeout=60) as client:
            (out,) = sd.compute(sd.scattering2d(x, J=2, L=4), client=client)
        np.save({str(tmp_path / "out.npy")!r}, out)
        """)
    result = subprocess.run([sys.executable, "-c", program], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), scattering_reference(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.cluster
def test_scatflow_run_on_the_tls_cluster_with_the_readmes_environment(cluster, certs, tmp_path):
    """`scatflow run --scheduler-address tls://...` itself, configured by the README's
    environment only, writes the whole store; without it, the run is refused."""
    address, _ = cluster
    spec = yaml.safe_load((ROOT / "workflows" / "hadcm3_scattering2d.yaml").read_text())
    spec["input"]["select"] = {"time": [0, 24]}
    spec["output"]["store"] = str(tmp_path / "out.zarr")
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    command = [sys.executable, "-m", "scatflow.cli", "run", str(path), "--no-progress",
               "--scheduler-address", address]
    env = dict(os.environ, **readme_client_environment(certs))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 region(s) written, 0 already done" in done.stdout
    plain = {k: v for k, v in os.environ.items() if not k.startswith("DASK_DISTRIBUTED__COMM")}
    refused = subprocess.run(command[:-2] + ["--scheduler-address", address, "--overwrite"],
                             env=dict(plain, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="5s"),
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "cannot connect to tls://" in refused.stderr, refused.stderr


def flatten(config, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}: dask.config.set replaces whole subtrees otherwise."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@pytest.mark.cluster
def test_client_configured_by_dask_tls_yaml(cluster, certs):
    address, _ = cluster
    text = (TLS / "dask-tls.yaml").read_text().replace("/etc/scatflow/tls", str(certs))
    with dask.config.set(flatten(yaml.safe_load(text))):
        with Client(address, timeout=60) as client:
            assert client.submit(sum, [1, 2, 3]).result() == 6


# -- everyone else is refused -----------------------------------------------------------------
def connect_once(address, security):
    """Connects an asynchronous client in a loop of its own and closes it, failure or not (a
    connection that is not refused but times out raises OSError, which no case expects):
    a refused synchronous Client leaves its event-loop thread behind (distributed 2026.8), and
    after a few of those the next one can hang past its timeout."""
    async def attempt():
        client = Client(address, security=security, asynchronous=True, timeout=60)
        try:
            await client
        finally:
            await client.close()

    asyncio.run(asyncio.wait_for(attempt(), 90))


def client_security(ca_dir, cert_dir):
    return Security(tls_ca_file=str(ca_dir / "ca.pem"),
                    tls_client_cert=str(cert_dir / "client.pem"),
                    tls_client_key=str(cert_dir / "client-key.pem"), require_encryption=True)


REFUSED = {
    # name: (address scheme, security, exception, message, scheduler log line or None)
    "plain tcp://": ("tcp", lambda c, f: Security(require_encryption=False), CommClosedError,
                     "Connection reset by peer", "TLS handshake failed"),
    "tls:// without certificates": ("tls", lambda c, f: None, TypeError,
                                    "TLS expects a `ssl_context`", None),
    "client certificate of another CA": ("tls", lambda c, f: client_security(c, f),
                                         CommClosedError, "", "CERTIFICATE_VERIFY_FAILED"),
    "scheduler not trusted (another CA)": ("tls", lambda c, f: client_security(f, f),
                                           FatalCommClosedError, "TLS certificate does not match",
                                           "unknown ca"),
    "tcp:// while encryption is required": ("tcp", lambda c, f: client_security(c, c),
                                            RuntimeError, "encryption required", None),
}


@pytest.mark.cluster
@pytest.mark.parametrize("case", REFUSED)
def test_client_is_refused(cluster, certs, foreign_certs, case):
    address, scheduler_log = cluster
    scheme, security, exception, message, logged = REFUSED[case]
    seen = scheduler_log.read_text().count(logged) if logged else 0
    with pytest.raises(exception, match=re.escape(message) if message else None):
        connect_once(address.replace("tls://", f"{scheme}://"), security(certs, foreign_certs))
    if logged:  # the scheduler itself turned the connection away
        deadline = time.monotonic() + 60
        while scheduler_log.read_text().count(logged) == seen:
            assert time.monotonic() < deadline, scheduler_log.read_text()
            time.sleep(0.1)


# -- cluster/tls/tls_cluster.py ----------------------------------------------------------------
@pytest.mark.cluster
def test_tls_cluster_script(certs, tmp_path):
    scheduler_file, log = tmp_path / "scheduler.json", tmp_path / "cluster.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, str(TLS / "tls_cluster.py"), str(certs), "--port", "0",
             "--n-workers", "1", "--threads-per-worker", "1", "--memory-limit", "1GiB",
             "--scheduler-file", str(scheduler_file)],
            stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
            start_new_session=True)
    try:
        wait_for(lambda: "scatflow run" in log.read_text(), process, log)
        printed = log.read_text()
        exports = dict(re.findall(r"^export (\w+)=(\S+)$", printed, flags=re.MULTILINE))
        assert exports == tls_cluster.client_environment(certs)
        (address,) = re.findall(r"--scheduler-address (tls://127\.0\.0\.1:\d+)", printed)
        assert json.loads(scheduler_file.read_text())["address"] == address
        with Client(address, security=tls_cluster.security(certs, roles=("client",)),
                    timeout=60) as client:
            assert client.submit(sum, [1, 2, 3]).result() == 6
        with pytest.raises(CommClosedError):
            connect_once(address.replace("tls://", "tcp://"), None)
        process.terminate()
        assert process.wait(60) == 0, log.read_text()
    finally:
        stop_group(process)
