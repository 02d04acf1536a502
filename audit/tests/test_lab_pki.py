"""The lab CA (driftvakt.lab.pki): made once, kept, renewed near expiry; its host certificates
pass crypto_certificates_valid's judgement (no root, no lab needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from driftvakt.lab import pki
from driftvakt_checks import certificates as certs


def test_the_lab_ca_issues_certificates_the_check_accepts(tmp_path: Path) -> None:
    lab = pki.ensure(tmp_path, "t", ["lab-01", "lab-02"])
    ca_pem = lab.ca_cert.read_text()
    prints, subjects = certs.approved_cas({"crypto_approved_cas": [lab.ca_fingerprint]})
    for host in ("lab-01", "lab-02"):
        facts = certs.pem_facts("/etc/ssl/certs/x.pem", lab.host_cert(host).read_text(), [ca_pem])
        assert facts.issuer is not None and facts.issuer.sha256 == lab.ca_fingerprint
        assert certs.problems(facts, datetime.now(UTC), 30, prints, subjects) == []
        assert lab.host_key(host).stat().st_mode & 0o077 == 0  # keys are private


def test_made_once_and_renewed_near_expiry(tmp_path: Path) -> None:
    first = pki.ensure(tmp_path, "t", ["lab-01"])
    cert_before = first.host_cert("lab-01").read_bytes()
    again = pki.ensure(tmp_path, "t", ["lab-01"])
    assert again.ca_fingerprint == first.ca_fingerprint
    assert again.host_cert("lab-01").read_bytes() == cert_before
    # A host certificate too close to expiry is issued again by the same CA.
    soon = datetime.now(UTC) + timedelta(days=pki.HOST_DAYS - pki.RENEW_DAYS + 1)
    assert pki._fresh(first.host_cert("lab-01"), soon) is False
    first.host_cert("lab-01").write_text("not a certificate")
    renewed = pki.ensure(tmp_path, "t", ["lab-01"])
    assert renewed.ca_fingerprint == first.ca_fingerprint
    cert = x509.load_pem_x509_certificate(renewed.host_cert("lab-01").read_bytes())
    assert cert.not_valid_after_utc - datetime.now(UTC) > timedelta(days=pki.HOST_DAYS - 1)
