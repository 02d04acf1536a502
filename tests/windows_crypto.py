"""SCHANNEL protocols and ciphers, and the certificates in LocalMachine\\My.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_crypto.py.
"""

from __future__ import annotations

import re
from typing import Any

from . import certificates as certs
from .required_vars import required
from .windows_facts import Facts, HostVars, section, when

PROTOCOLS_OFF = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1")

WEAK_CIPHERS = re.compile(r"^(RC2|RC4|DES|Triple DES|NULL)\b", re.I)

WEAK_SUITES = re.compile(r"(_RC4_|_DES_|_3DES_|_NULL_|_EXPORT_|_MD5$)")


def judge_win_schannel_protocols(facts: Facts, hostvars: HostVars) -> list[str]:
    protocols = section(facts, "schannel").get("Protocols") or {}
    problems = []
    for name in PROTOCOLS_OFF:
        for side in ("Server", "Client"):
            value = protocols.get(f"{name}/{side}") or {}
            if value.get("Enabled") != 0:
                problems.append(f"{name} {side} is not disabled (Enabled={value.get('Enabled')})")
    tls12 = protocols.get("TLS 1.2/Server") or {}
    if tls12.get("Enabled") == 0 or tls12.get("DisabledByDefault") == 1:
        problems.append(f"TLS 1.2 Server is disabled ({tls12})")
    return problems


def judge_win_schannel_ciphers(facts: Facts, hostvars: HostVars) -> list[str]:
    schannel = section(facts, "schannel")
    ciphers = schannel.get("Ciphers") or {}
    problems = [
        f"weak cipher {name} is not disabled (Enabled={value})"
        for name, value in sorted(ciphers.items())
        if WEAK_CIPHERS.match(name) and value != 0
    ]
    for name in ("RC4 128/128", "DES 56/56", "Triple DES 168", "NULL"):
        if name not in ciphers:
            problems.append(f"cipher {name} has no SCHANNEL key (Enabled=0 required)")
    weak_suites = [s for s in schannel.get("CipherSuites") or [] if WEAK_SUITES.search(s)]
    if weak_suites:
        problems.append(f"weak TLS cipher suites enabled: {weak_suites}")
    return problems


def store_cert_facts(entry: dict[str, Any]) -> Any:
    """One collect.ps1 ``certificates`` item -> certificates.CertFacts. Windows built and
    verified the chain: element 1 is the issuing CA (absent for a self-signed or a partial chain).
    Source: X509Certificate2 and X509Chain, Microsoft Learn (.NET API reference)."""
    chain = entry.get("Chain") or []
    status = [str(s) for s in entry.get("ChainStatus") or []]
    issuer = None
    if len(chain) > 1 and "PartialChain" not in status and "NotSignatureValid" not in status:
        issuer = certs.Issuer(str(chain[1]["Subject"]), str(chain[1]["Sha256"]).lower())
    algorithm = str(entry.get("SignatureAlgorithm") or "").lower()
    hash_name = re.match(r"(md5|sha1|sha256|sha384|sha512)", algorithm)
    key_kind = str(entry.get("KeyAlgorithm") or "")
    return certs.CertFacts(
        name=f"Cert:\\LocalMachine\\My\\{entry.get('Thumbprint')}",
        subject=str(entry.get("Subject") or ""),
        not_before=when(str(entry["NotBefore"])),
        not_after=when(str(entry["NotAfter"])),
        key_type={"ECC": "EC"}.get(key_kind, key_kind),
        key_bits=int(entry.get("KeySize") or 0),
        signature_hash=hash_name.group(1) if hash_name else None,
        issuer_name=str(entry.get("Issuer") or ""),
        issuer=issuer,
        revoked="Revoked" in status,
    )


def judge_crypto_certificates_valid(facts: Facts, hostvars: HostVars) -> list[str]:
    wanted = required(hostvars, "crypto_certificates")
    prints, subjects = certs.approved_cas(hostvars)
    days = certs.min_days(hostvars)
    store = section(facts, "certificates")
    now = when(str(facts["collected"]))
    problems = []
    for want in wanted:
        thumbprint = str(want.get("thumbprint") or "").replace(" ", "").upper()
        subject = str(want.get("subject") or "")
        if not thumbprint and not subject:
            raise LookupError("crypto_certificates entries need a thumbprint or a subject here")
        matches = [
            c
            for c in store
            if (thumbprint and str(c.get("Thumbprint")).upper() == thumbprint)
            or (
                not thumbprint
                and certs.normalize_dn(str(c.get("Subject"))) == certs.normalize_dn(subject)
            )
        ]
        if not matches:
            problems.append(f"certificate {thumbprint or subject} is not in LocalMachine\\My")
            continue
        newest = max(matches, key=lambda c: when(str(c["NotAfter"])))
        problems += certs.problems(store_cert_facts(newest), now, days, prints, subjects)
    return problems
