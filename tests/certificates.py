"""Certificates: one judgement for Linux (PEM files parsed here) and Windows (the machine store).

Control crypto_certificates_valid (SKA-SEC-12, RST-7.1.3). A certificate is acceptable when it is
valid now, does not expire within the inventory's threshold, was issued (signature verified) by a
CA the inventory approves, and its key and signature meet NIST SP 800-131A: RSA of at least 2048
bits, EC of at least 256 bits (Ed25519/Ed448 too), no SHA-1 or MD5 signature.

Both platforms describe a certificate as ``CertFacts``; ``problems()`` judges one. Linux builds it
with ``pem_facts()`` from the certificate file (leaf first, then any chain) and the CA anchors the
host trusts locally; Windows from collect.ps1's ``certificates`` section (windows_crypto.py).
Inventory (tests and roles read the same names): ``crypto_certificates``,
``crypto_approved_cas`` (CA subject names or SHA-256 fingerprints) and
``crypto_certificate_min_days``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .required_vars import required

DEFAULT_MIN_DAYS = 30
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
WEAK_HASHES = ("md5", "sha1", "md2", "md4")
_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL | re.MULTILINE
)
_HEX = re.compile(r"[0-9a-f]+")
# Attribute names Windows writes differently from RFC 4514.
_DN_ALIASES = {"S": "ST", "E": "EMAILADDRESS", "1.2.840.113549.1.9.1": "EMAILADDRESS"}


@dataclass(frozen=True)
class Issuer:
    subject: str
    sha256: str


@dataclass(frozen=True)
class CertFacts:
    name: str  # where it is: a path or a store thumbprint
    subject: str
    not_before: datetime
    not_after: datetime
    key_type: str  # RSA | EC | Ed25519 | Ed448 | DSA | ...
    key_bits: int
    signature_hash: str | None  # lower-case (sha256), None for Ed25519/Ed448
    issuer_name: str
    issuer: Issuer | None  # the CA whose signature was verified, None when none was found
    revoked: bool = False


def normalize_dn(text: str) -> tuple[str, ...]:
    """A distinguished name, comparable across RFC 4514 and Windows' spelling and order."""
    parts = [p.strip() for p in re.split(r"(?<!\\),|(?<!\\)\+", text) if p.strip()]
    found = []
    for part in parts:
        kind, _, value = part.partition("=")
        kind = kind.strip().upper()
        value = value.strip().strip('"').lower()
        found.append(f"{_DN_ALIASES.get(kind, kind)}={value}")
    return tuple(sorted(found))


def fingerprint(text: str) -> str | None:
    """A SHA-256 fingerprint in any spelling (colons, case) -> 64 hex digits, else None."""
    cleaned = text.replace(":", "").replace(" ", "").lower()
    return cleaned if len(cleaned) == 64 and _HEX.fullmatch(cleaned) else None


def approved_cas(hostvars: dict[str, Any]) -> tuple[set[str], set[tuple[str, ...]]]:
    """``crypto_approved_cas`` -> (fingerprints, subject names). Bad input raises ValueError."""
    # the CAs allowed to issue this host's certificates: subject names or SHA-256 fingerprints
    entries = required(hostvars, "crypto_approved_cas", given="crypto_certificates")
    if not isinstance(entries, list):
        raise ValueError("crypto_approved_cas must be a list of subject names or fingerprints")
    prints, subjects = set(), set()
    for entry in entries:
        text = str(entry).strip()
        if fingerprint(text):
            prints.add(str(fingerprint(text)))
        elif "=" in text:
            subjects.add(normalize_dn(text))
        else:
            raise ValueError(
                f"crypto_approved_cas entry {text!r} is neither a SHA-256 fingerprint "
                "(64 hex digits) nor a subject name (CN=...)"
            )
    return prints, subjects


def min_days(hostvars: dict[str, Any]) -> int:
    value = hostvars.get("crypto_certificate_min_days", DEFAULT_MIN_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"crypto_certificate_min_days is {value!r}, expected whole days >= 0")
    return value


def problems(
    cert: CertFacts,
    now: datetime,
    days: int,
    prints: set[str],
    subjects: set[tuple[str, ...]],
) -> list[str]:
    """Everything wrong with one certificate, each item a line of evidence."""
    found = []
    name = f"{cert.name} ({cert.subject})"
    if now < cert.not_before:
        found.append(f"{name} is not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC")
    if now >= cert.not_after:
        found.append(f"{name} expired {cert.not_after:%Y-%m-%d %H:%M} UTC")
    elif cert.not_after - now < timedelta(days=days):
        left = (cert.not_after - now).days
        found.append(
            f"{name} expires {cert.not_after:%Y-%m-%d} ({left} days), within the "
            f"{days}-day threshold"
        )
    if cert.issuer is None:
        self_signed = normalize_dn(cert.issuer_name) == normalize_dn(cert.subject)
        found.append(
            f"{name} is self-signed"
            if self_signed
            else f"{name}: the signature of its issuer {cert.issuer_name!r} cannot be verified "
            "(the CA is neither in the certificate's chain nor among the host's trusted CAs)"
        )
    elif cert.issuer.sha256 not in prints and normalize_dn(cert.issuer.subject) not in subjects:
        found.append(
            f"{name} is issued by {cert.issuer.subject!r} (SHA-256 {cert.issuer.sha256}), "
            "not an approved CA (crypto_approved_cas)"
        )
    if cert.key_type == "RSA" and cert.key_bits < MIN_RSA_BITS:
        found.append(f"{name} has an RSA key of {cert.key_bits} bits, below {MIN_RSA_BITS}")
    elif cert.key_type == "EC" and cert.key_bits < MIN_EC_BITS:
        found.append(f"{name} has an EC key of {cert.key_bits} bits, below {MIN_EC_BITS}")
    elif cert.key_type not in ("RSA", "EC", "Ed25519", "Ed448"):
        found.append(f"{name} has a {cert.key_type} key, not RSA, EC or EdDSA")
    if cert.signature_hash in WEAK_HASHES:
        found.append(f"{name} is signed with {cert.signature_hash.upper()}, no longer acceptable")
    if cert.revoked:
        found.append(f"{name} is revoked")
    return found


# --- Linux: PEM text parsed on the auditor ---------------------------------------------------


def pem_blocks(text: str) -> list[str]:
    return _PEM.findall(text)


def split_files(output: str) -> dict[str, str]:
    """``==> path <==`` separated output (the check's one read) -> {path: content}."""
    files: dict[str, str] = {}
    current = None
    for line in output.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("==> ") and stripped.endswith(" <=="):
            current = stripped[4:-4]
            files[current] = ""
        elif current is not None:
            files[current] += line
    return files


def pem_facts(name: str, text: str, anchors: list[str]) -> CertFacts:
    """The first certificate in ``text`` judged against the rest of ``text`` and ``anchors``
    (PEM blocks of the CAs the host trusts locally). Unreadable input raises ValueError."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    blocks = pem_blocks(text)
    if not blocks:
        raise ValueError(f"{name} holds no PEM certificate")
    leaf = x509.load_pem_x509_certificate(blocks[0].encode())
    candidates = [x509.load_pem_x509_certificate(b.encode()) for b in blocks[1:]]
    for block in anchors:
        try:
            candidates.append(x509.load_pem_x509_certificate(block.encode()))
        except ValueError:
            continue  # a broken anchor file is not this certificate's problem
    issuer = None
    for candidate in candidates:
        if candidate.subject != leaf.issuer:
            continue
        try:
            leaf.verify_directly_issued_by(candidate)
        except (InvalidSignature, ValueError, TypeError):  # not signed by this one
            continue
        issuer = Issuer(
            candidate.subject.rfc4514_string(), candidate.fingerprint(hashes.SHA256()).hex()
        )
        break
    key = leaf.public_key()
    kind, bits = type(key).__name__, 0
    if isinstance(key, rsa.RSAPublicKey):
        kind, bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kind, bits = "EC", key.curve.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        kind, bits = "Ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        kind, bits = "Ed448", 456
    elif isinstance(key, dsa.DSAPublicKey):
        kind, bits = "DSA", key.key_size
    algorithm = leaf.signature_hash_algorithm
    return CertFacts(
        name=name,
        subject=leaf.subject.rfc4514_string(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        key_type=kind,
        key_bits=bits,
        signature_hash=algorithm.name.lower() if algorithm else None,
        issuer_name=leaf.issuer.rfc4514_string(),
        issuer=issuer,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
