"""TLS for the federation's gRPC link: the coordinator's certificates, the clients' trust.

The coordinator serves with a certificate and key signed by a CA; a home trusts that CA
(`--root-cert`), or the system's CAs when the certificate comes from a public one. Plaintext
only with an explicit `--insecure`. `make_certificates` writes a private CA and a server
certificate for given hosts (what a shop without a PKI, or a test, uses).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path


class TLSError(ValueError):
    """Missing or unreadable certificate material (a usage error, not a crash)."""


@dataclass(frozen=True)
class ServerTLS:
    """PEM bytes as Flower's server takes them: (CA certificate, certificate, private key)."""

    ca: bytes
    cert: bytes
    key: bytes

    @classmethod
    def read(cls, ca: Path | None, cert: Path | None, key: Path | None) -> ServerTLS:
        missing = [flag for flag, path in (("--ca-cert", ca), ("--cert", cert), ("--key", key))
                   if path is None]
        if missing:
            raise TLSError(f"TLS needs {', '.join(missing)} (make them with `shopsense "
                           f"federated make-certs`), or --insecure for plaintext")
        return cls(_pem(ca, "--ca-cert"), _pem(cert, "--cert"), _pem(key, "--key"))

    def triple(self) -> tuple[bytes, bytes, bytes]:
        return self.ca, self.cert, self.key


def client_trust(root_cert: Path | None, insecure: bool) -> tuple[bytes | None, bool]:
    """(root certificates or None for the system's, insecure) for Flower's client."""
    if insecure and root_cert is not None:
        raise TLSError("--insecure and --root-cert exclude each other")
    if insecure:
        return None, True
    return (_pem(root_cert, "--root-cert") if root_cert is not None else None), False


def _pem(path: Path | None, flag: str) -> bytes:
    assert path is not None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TLSError(f"{flag} {path}: {exc.strerror or exc}") from exc
    if b"-----BEGIN " not in data:
        raise TLSError(f"{flag} {path} is not a PEM file")
    return data


def make_certificates(folder: Path, hosts: list[str], *, days: int = 365) -> dict[str, str]:
    """A private CA (ca.pem, ca.key) and a server certificate (server.pem, server.key) for
    `hosts` (DNS names or IP addresses), signed by it. Returns the paths written."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if not hosts:
        raise TLSError("at least one host name or address is needed")
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shopsense federation CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
              .issuer_name(ca_name).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5))
              .not_valid_after(now + dt.timedelta(days=days))
              .add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]),
                             critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    files = {"ca_cert": (folder / "ca.pem", ca.public_bytes(pem)),
             "ca_key": (folder / "ca.key", _key_bytes(ca_key)),
             "cert": (folder / "server.pem", server.public_bytes(pem)),
             "key": (folder / "server.key", _key_bytes(key))}
    for path, data in files.values():
        path.write_bytes(data)
        if path.suffix == ".key":
            path.chmod(0o600)
    return {name: str(path) for name, (path, _) in files.items()}


def _san(host: str) -> object:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_bytes(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM,  # type: ignore[attr-defined]
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
