"""crypto_certificates_valid's judgement (tests/certificates.py) on certificates made here.

Each case is a real X.509 certificate built with ``cryptography`` and read back as the Linux
check reads it (PEM text, leaf first, then its chain; the host's anchors beside it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from driftvakt_checks import test_crypto as CHECK

certs = CHECK.certs
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Region Example"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    cn: str,
    key: Any,
    issuer: x509.Name | None = None,
    signer: Any = None,
    days: int = 365,
    start: datetime | None = None,
    digest: Any = None,
) -> x509.Certificate:
    begin = start or NOW - timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer or _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .sign(signer or key, digest or hashes.SHA256())
    )


def pem(*chain: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)


CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA = _cert("Region Issuing CA", CA_KEY, days=3650, start=NOW - timedelta(days=100))
CA_SHA256 = CA.fingerprint(hashes.SHA256()).hex()
HOST_KEY = ec.generate_private_key(ec.SECP256R1())
GOOD = _cert("app01.region.example", HOST_KEY, CA.subject, CA_KEY)
APPROVED = {"crypto_approved_cas": [CA_SHA256]}


def judge(text: str, anchors: tuple[str, ...] = (pem(CA),), hostvars: Any = None) -> list[str]:
    prints, subjects = certs.approved_cas(hostvars or APPROVED)
    facts = certs.pem_facts("/etc/pki/tls/certs/app.pem", text, list(anchors))
    return list(certs.problems(facts, NOW, 30, prints, subjects))


def test_a_cert_from_an_approved_ca_passes_with_the_ca_as_anchor_or_in_the_chain() -> None:
    assert judge(pem(GOOD)) == []
    assert judge(pem(GOOD, CA), anchors=()) == []


def test_the_ca_may_be_approved_by_subject_in_either_spelling() -> None:
    by_rfc = {"crypto_approved_cas": ["CN=Region Issuing CA,O=Region Example,C=SE"]}
    by_windows = {"crypto_approved_cas": ["cn=region issuing ca, o=Region Example, c=SE"]}
    assert judge(pem(GOOD), hostvars=by_rfc) == []
    assert judge(pem(GOOD), hostvars=by_windows) == []


def test_self_signed_fails() -> None:
    own = _cert("app01.region.example", HOST_KEY)
    assert judge(pem(own)) == [
        "/etc/pki/tls/certs/app.pem (CN=app01.region.example,O=Region Example,C=SE) is self-signed"
    ]


def test_a_forged_issuer_name_is_not_the_approved_ca() -> None:
    # Same subject as the approved CA, another key: the signature does not verify.
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    forged = _cert("app01.region.example", HOST_KEY, CA.subject, rogue_key)
    by_name = {"crypto_approved_cas": ["CN=Region Issuing CA,O=Region Example,C=SE"]}
    assert "cannot be verified" in "; ".join(judge(pem(forged), hostvars=by_name))


def test_another_ca_fails_even_when_trusted_on_the_host() -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("Some Public CA", other_key, days=3650, start=NOW - timedelta(days=10))
    issued = _cert("app01.region.example", HOST_KEY, other.subject, other_key)
    found = judge(pem(issued), anchors=(pem(CA), pem(other)))
    assert len(found) == 1 and "not an approved CA" in found[0]


@pytest.mark.parametrize(
    ("days", "start", "evidence"),
    [
        (40, NOW - timedelta(days=15), "(25 days), within the 30-day threshold"),
        (10, NOW - timedelta(days=20), "expired 2026-05-22"),
        (365, NOW + timedelta(days=2), "is not valid before 2026-06-03"),
    ],
)
def test_validity_and_the_expiry_threshold(days: int, start: datetime, evidence: str) -> None:
    cert = _cert("app01.region.example", HOST_KEY, CA.subject, CA_KEY, days=days, start=start)
    assert evidence in "; ".join(judge(pem(cert)))


def test_weak_keys_and_sha1_signatures_fail() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the case)
    weak = _cert("app01.region.example", small, CA.subject, CA_KEY)
    assert "RSA key of 1024 bits, below 2048" in "; ".join(judge(pem(weak)))
    # cryptography no longer signs with SHA-1: the parsed facts of such a certificate instead.
    facts = certs.pem_facts("/etc/app.pem", pem(GOOD), [pem(CA)])
    sha1 = certs.CertFacts(**{**facts.__dict__, "signature_hash": "sha1"})
    assert certs.problems(sha1, NOW, 30, {CA_SHA256}, set()) == [
        "/etc/app.pem (CN=app01.region.example,O=Region Example,C=SE) is signed with SHA1, "
        "no longer acceptable"
    ]


def test_bad_inventory_is_an_error_not_a_verdict() -> None:
    with pytest.raises(LookupError, match="sets no crypto_approved_cas"):
        certs.approved_cas({})
    with pytest.raises(ValueError, match="neither a SHA-256 fingerprint"):
        certs.approved_cas({"crypto_approved_cas": ["Region CA"]})
    with pytest.raises(ValueError, match="crypto_certificate_min_days"):
        certs.min_days({"crypto_certificate_min_days": "30"})
    with pytest.raises(ValueError, match="absolute"):
        CHECK.certificate_paths({"crypto_certificates": [{"path": "app.pem"}]})
    with pytest.raises(ValueError, match="holds no PEM"):
        certs.pem_facts("/x.pem", "cat: /x.pem: No such file or directory\n", [])


def test_the_one_read_is_split_per_file() -> None:
    anchor = "anchor:/usr/local/share/ca-certificates/r.crt"
    output = f"==> /etc/app.pem <==\n{pem(GOOD)}==> {anchor} <==\n{pem(CA)}"
    files = certs.split_files(output)
    assert list(files) == ["/etc/app.pem", anchor]
    assert certs.pem_blocks(files["/etc/app.pem"]) == [pem(GOOD).strip()]
    command = CHECK.read_certificates_command(["/etc/app.pem"])
    assert all(d in command for d in CHECK.ANCHOR_DIRS)
