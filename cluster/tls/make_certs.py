"""Make a private certificate authority and TLS certificates for a Dask cluster.

    python cluster/tls/make_certs.py CERTS_DIR [--host NAME_OR_IP ...] [--days 365]

writes into CERTS_DIR (created; existing files are never overwritten):

    ca.pem                        the CA certificate: every scheduler, worker and client trusts it
    ca-key.pem                    the CA's private key: keep it offline, it signs new certificates
    scheduler.pem, scheduler-key.pem
    worker.pem, worker-key.pem
    client.pem, client-key.pem    for `scatflow run` and any other Dask client

Dask uses mutual TLS: each side must present a certificate signed by a CA that the other side
trusts, so a process without one of these certificates cannot connect at all. Dask does not
check host names (distributed/security.py sets check_hostname=False); the --host names go into
the certificates' subjectAltName for tools that do. Private keys are written with mode 0600.
Needs the `cryptography` package (a dependency of distributed's TLS support).
"""

import argparse
import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Schedulers and workers both accept connections and open them; clients only open them.
ROLES = {
    "scheduler": [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
    "worker": [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
    "client": [ExtendedKeyUsageOID.CLIENT_AUTH],
}


def make_certificates(directory, hosts=("localhost", "127.0.0.1"), days=365,
                      common_name="scatflow dask"):
    """Writes a CA and a certificate + key per role (ROLES) into `directory`; returns
    {"ca": path, "<role>": (cert path, key path), ...}. Raises FileExistsError rather than
    overwrite a file."""
    directory = Path(directory)
    names = ["ca.pem", "ca-key.pem"] + [f"{role}{suffix}.pem" for role in ROLES
                                        for suffix in ("", "-key")]
    existing = [name for name in names if (directory / name).exists()]
    if existing:
        raise FileExistsError(f"{directory}: would overwrite {', '.join(existing)}")
    directory.mkdir(parents=True, exist_ok=True)

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), valid)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(directory / "ca.pem", _pem(ca_cert))
    _write(directory / "ca-key.pem", _pem_key(ca_key), private=True)

    alt_names = x509.SubjectAlternativeName([_alt_name(host) for host in hosts])
    ca_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    paths = {"ca": directory / "ca.pem"}
    for role, usages in ROLES.items():
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} {role}")])
        cert = (
            _builder(name, ca_name, key.public_key(), valid)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(alt_names, critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(ca_key_id, critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        paths[role] = (directory / f"{role}.pem", directory / f"{role}-key.pem")
        _write(paths[role][0], _pem(cert))
        _write(paths[role][1], _pem_key(key), private=True)
    return paths


def _builder(subject, issuer, public_key, valid):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1]))


def _key_usage(cert_sign):
    """Signing for TLS handshakes (ECDSA); certificate signing only for the CA."""
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


def _alt_name(host):
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path, data, private=False):
    """Creates `path` (never replaces one), readable by its owner only when `private`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", help="where to write the files (created if missing)")
    parser.add_argument("--host", action="append", default=None,
                        help="DNS name or IP address of the cluster's hosts, repeatable "
                             "(default: localhost and 127.0.0.1)")
    parser.add_argument("--days", type=int, default=365, help="validity (default 365)")
    args = parser.parse_args(argv)
    try:
        make_certificates(args.directory, hosts=args.host or ("localhost", "127.0.0.1"),
                          days=args.days)
    except FileExistsError as error:
        parser.exit(1, f"{error}\n")
    print(f"wrote the CA and the {', '.join(ROLES)} certificates into {args.directory}")


if __name__ == "__main__":
    main()
