"""The federation's TLS material: a private CA, a coordinator certificate it signed, and the
checks on what the commands are given."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from shopsense.federated.tls import ServerTLS, TLSError, client_trust, make_certificates


def test_the_server_certificate_is_signed_by_the_ca_for_its_hosts(tmp_path: Path) -> None:
    paths = make_certificates(tmp_path, ["127.0.0.1", "coordinator.example"], days=2)
    ca = x509.load_pem_x509_certificate(Path(paths["ca_cert"]).read_bytes())
    server = x509.load_pem_x509_certificate(Path(paths["cert"]).read_bytes())
    server.verify_directly_issued_by(ca)  # raises if the signature or issuer is wrong
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["coordinator.example"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert 2 * 86400 <= lifetime.total_seconds() <= 2 * 86400 + 600
    assert Path(paths["key"]).stat().st_mode & 0o077 == 0  # the key is the owner's alone
    other = make_certificates(tmp_path / "other", ["127.0.0.1"])
    foreign = x509.load_pem_x509_certificate(Path(other["ca_cert"]).read_bytes())
    with pytest.raises(InvalidSignature):
        server.verify_directly_issued_by(foreign)
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)


def test_server_tls_reads_three_pem_files_and_names_what_is_missing(tmp_path: Path) -> None:
    paths = make_certificates(tmp_path, ["localhost"])
    tls = ServerTLS.read(Path(paths["ca_cert"]), Path(paths["cert"]), Path(paths["key"]))
    assert tls.triple()[1].startswith(b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(TLSError, match="--key"):
        ServerTLS.read(Path(paths["ca_cert"]), Path(paths["cert"]), None)
    with pytest.raises(TLSError, match="No such file"):
        ServerTLS.read(Path(paths["ca_cert"]), tmp_path / "nope.pem", Path(paths["key"]))
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(TLSError, match="not a PEM"):
        ServerTLS.read(tmp_path / "junk.pem", Path(paths["cert"]), Path(paths["key"]))


def test_client_trust_is_tls_unless_insecure_is_asked_for(tmp_path: Path) -> None:
    paths = make_certificates(tmp_path, ["localhost"])
    assert client_trust(None, False) == (None, False)  # TLS with the system's CAs
    roots, insecure = client_trust(Path(paths["ca_cert"]), False)
    assert roots == Path(paths["ca_cert"]).read_bytes() and insecure is False
    assert client_trust(None, True) == (None, True)
    with pytest.raises(TLSError, match="exclude"):
        client_trust(Path(paths["ca_cert"]), True)
    with pytest.raises(TLSError):
        make_certificates(tmp_path / "none", [])


def test_flower_telemetry_is_off_once_the_transport_is_loaded() -> None:
    """Flower phones home (telemetry.flower.ai) unless FLWR_TELEMETRY_ENABLED=0."""
    import importlib
    import os

    import shopsense.federated.transport as transport

    importlib.reload(transport)
    assert os.environ.get("FLWR_TELEMETRY_ENABLED") == "0"
    from flwr.common import telemetry

    assert telemetry.FLWR_TELEMETRY_ENABLED == "0"
