"""The lab's own certificate authority: one CA per lab, one TLS certificate per lab host.

Made here with ``cryptography`` (no network), kept under the lab's state directory across
``lab up``/``lab down`` like its SSH keys, and renewed when fewer than ``RENEW_DAYS`` are left, so
the lab's certificates always pass crypto_certificates_valid's expiry threshold. The inventory
hands the files to the crypto role (``crypto_ca_certificates``, ``crypto_certificates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from driftvakt.results import write_text_atomic

CA_DAYS = 3650
HOST_DAYS = 397  # the CA/Browser Forum's limit for a TLS server certificate
RENEW_DAYS = 90


@dataclass(frozen=True)
class LabPki:
    ca_cert: Path
    ca_fingerprint: str  # SHA-256, hex
    ca_subject: str  # RFC 4514

    def host_cert(self, name: str) -> Path:
        return self.ca_cert.parent / f"{name}.pem"

    def host_key(self, name: str) -> Path:
        return self.ca_cert.parent / f"{name}.key"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "driftvakt lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _fresh(path: Path, now: datetime, issuer: x509.Certificate | None = None) -> bool:
    """The certificate exists, has RENEW_DAYS left and (for a host) is signed by ``issuer``."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        if issuer is not None:
            cert.verify_directly_issued_by(issuer)
    except (OSError, ValueError, TypeError, InvalidSignature):  # unreadable, or another CA's
        return False
    return cert.not_valid_after_utc - now > timedelta(days=RENEW_DAYS)


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    days: int,
    now: datetime,
    ca: bool,
    dns: str = "",
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def ensure(directory: Path, lab: str, hosts: list[str]) -> LabPki:
    """The lab CA and a certificate for each host, created or renewed as needed."""
    now = datetime.now(UTC)
    ca_cert_path, ca_key_path = directory / "ca.pem", directory / "ca.key"
    if not _fresh(ca_cert_path, now) or not ca_key_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(f"driftvakt lab CA ({lab})")
        cert = _issue(name, key, name, key, CA_DAYS, now, ca=True)
        write_text_atomic(ca_key_path, _key_pem(key))
        write_text_atomic(ca_cert_path, cert.public_bytes(serialization.Encoding.PEM).decode())
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca_key_path} is not the lab CA's EC key: remove {directory}")
    pki = LabPki(
        ca_cert_path,
        ca_cert.fingerprint(hashes.SHA256()).hex(),
        ca_cert.subject.rfc4514_string(),
    )
    for host in hosts:
        if _fresh(pki.host_cert(host), now, ca_cert) and pki.host_key(host).exists():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(_name(host), key, ca_cert.subject, ca_key, HOST_DAYS, now, False, host)
        write_text_atomic(pki.host_key(host), _key_pem(key))
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        write_text_atomic(pki.host_cert(host), pem)
    return pki
