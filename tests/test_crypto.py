"""Crypto: TLS 1.2 or later is the system-wide minimum; certificates valid and from approved CAs.

Requirements SKA-SEC-11 (industry-standard crypto per NIST SP 800-131A) and RST-7.1.1 (established
protocols configured to good practice). RHEL is asked for its crypto policy; on every platform the
system's OpenSSL is asked what a new TLS context allows (Python's ssl module reports the minimum
OpenSSL applies from its system default configuration), and the configured MinProtocol lines are
quoted as evidence.

Certificates (SKA-SEC-12, RST-7.1.3): every ``crypto_certificates`` path is read in one command
together with the CA anchors the host trusts locally, and judged here (tests/certificates.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from . import certificates as certs
from . import windows_crypto
from .windows_facts import windows_facts

APPROVED_POLICIES = ("DEFAULT", "FUTURE", "FIPS")
# TLS protocol numbers as OpenSSL (and Python's ssl.TLSVersion) report them.
TLS_VERSIONS = {
    -2: "not set (OpenSSL's built-in default)",
    768: "SSLv3",
    769: "TLSv1",
    770: "TLSv1.1",
    771: "TLSv1.2",
    772: "TLSv1.3",
}
TLS_1_2 = 771
OPENSSL_CONFIGS = ("/etc/ssl/openssl.cnf", "/etc/pki/tls/openssl.cnf")  # Debian, SLES; RHEL
# RHEL 8 minimal may have only the platform Python; both link the system's OpenSSL.
# SSLContext.minimum_version is new in Python 3.7; RHEL 8's platform-python and SLES 15's python3
# are 3.6, where the probe prints PYTHON_CANNOT_TELL instead of failing.
PYTHON_CANNOT_TELL = -3
PROBE = (
    "for p in python3 /usr/libexec/platform-python; do if command -v $p >/dev/null; then "
    "exec $p -c 'import ssl; c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); "
    f'print(int(getattr(c, "minimum_version", {PYTHON_CANNOT_TELL})))\'; '
    "fi; done; echo 'no python to ask OpenSSL'"
)
# Where each family keeps locally added trust anchors (the crypto role deploys CAs there).
ANCHOR_DIRS = (
    "/usr/local/share/ca-certificates",  # Debian
    "/etc/pki/ca-trust/source/anchors",  # RHEL
    "/etc/pki/trust/anchors",  # SLES
)
_MIN = re.compile(r"^\s*MinProtocol\s*=\s*(\S+)", re.MULTILINE)


def policy_base(output: str) -> str:
    """``update-crypto-policies --show`` (``DEFAULT``, ``DEFAULT:SHA1``) -> the base policy."""
    return output.strip().split(":")[0]


def parse_probe(output: str) -> int | None:
    """The probe's integer TLS version, or None when it printed something else."""
    text = output.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def min_protocols(config: str) -> list[str]:
    """The MinProtocol values an OpenSSL configuration sets, in file order."""
    return _MIN.findall(config)


def configured_floor(configured: list[str]) -> int | None:
    """The lowest TLS version the MinProtocol lines allow (DTLS ones aside); None: none set,
    or one names a version this does not know."""
    by_name = {name: number for number, name in TLS_VERSIONS.items() if number > 0}
    tls = [value for value in configured if not value.upper().startswith("DTLS")]
    if not tls or any(value not in by_name for value in tls):
        return None
    return min(by_name[value] for value in tls)


@pytest.mark.control("crypto_tls_minimum")
def test_tls_1_2_is_the_system_minimum(host: Any, hostvars: dict[str, Any]) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: a Linux check, this is {host.system_info.type}")
    policies = host.run(
        "if command -v update-crypto-policies >/dev/null; then update-crypto-policies --show; "
        "else echo 'no crypto policies'; fi"
    )
    has_policies = policies.rc == 0 and "no crypto policies" not in policies.stdout
    if has_policies:
        base = policy_base(policies.stdout)
        assert base in APPROVED_POLICIES, (
            f"system-wide crypto policy {policies.stdout.strip()!r}, expected one of "
            f"{', '.join(APPROVED_POLICIES)} (LEGACY allows TLS 1.0 and 1.1)"
        )
    config = host.run(f"cat {' '.join(OPENSSL_CONFIGS)} 2>/dev/null; true").stdout
    configured = min_protocols(config)
    probe = host.run(PROBE)
    version = parse_probe(probe.stdout)
    assert version is not None, (
        f"cannot ask OpenSSL for its TLS minimum: {(probe.stdout + probe.stderr).strip()[:200]}"
    )
    if version == PYTHON_CANNOT_TELL:
        # Python 3.6 cannot ask OpenSSL: judged by what OpenSSL reads instead. An approved
        # crypto policy (checked above) sets TLS 1.2 for OpenSSL; without one, MinProtocol.
        floor = configured_floor(configured)
        assert has_policies or (floor is not None and floor >= TLS_1_2), (
            "the host's Python (3.6) cannot ask OpenSSL for its TLS minimum, and openssl.cnf "
            f"sets no MinProtocol of TLSv1.2 or later: MinProtocol {configured or 'none'}"
        )
        return
    allowed = TLS_VERSIONS.get(version, str(version))
    assert version >= TLS_1_2, (
        f"OpenSSL's system default allows {allowed} (protocol {version}), "
        f"expected TLSv1.2 or later; MinProtocol in openssl.cnf: {configured or 'none'}"
    )


def certificate_paths(hostvars: dict[str, Any]) -> list[str]:
    """The Linux certificate files the inventory names (entries with a ``path``)."""
    entries = hostvars.get("crypto_certificates") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("crypto_certificates must be a list of {path: ...} entries")
    paths = [str(e["path"]) for e in entries if e.get("path")]
    bad = [p for p in paths if not p.startswith("/") or re.search(r"[\s'\"$`\\]", p)]
    if bad:
        raise ValueError(f"crypto_certificates paths must be absolute, without quotes: {bad}")
    return paths


def read_certificates_command(paths: list[str]) -> str:
    """One read: each certificate file, then every locally trusted CA anchor. Only certificate
    blocks are printed: a combined PEM (certificate and key in one file) never sends its key."""
    blocks = "sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p'"
    return (
        f'for f in {" ".join(paths)}; do echo "==> $f <=="; {blocks} -- "$f" 2>&1; done; '
        f'for d in {" ".join(ANCHOR_DIRS)}; do for f in "$d"/*; do '
        f'[ -f "$f" ] && echo "==> anchor:$f <==" && {blocks} -- "$f"; done; done; true'
    )


@pytest.mark.control("crypto_certificates_valid")
def test_certificates_valid_and_from_approved_cas(host: Any, hostvars: dict[str, Any]) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: a Linux check, this is {host.system_info.type}")
    paths = certificate_paths(hostvars)
    if not paths:
        pytest.skip("not applicable: the inventory names no certificates (crypto_certificates)")
    prints, subjects = certs.approved_cas(hostvars)
    days = certs.min_days(hostvars)
    with host.sudo():
        files = certs.split_files(host.run(read_certificates_command(paths)).stdout)
    anchors = [
        block
        for name, text in files.items()
        if name.startswith("anchor:")
        for block in certs.pem_blocks(text)
    ]
    now = certs.utc_now()
    found = []
    for path in paths:
        text = files.get(path, "")
        if not certs.pem_blocks(text):
            found.append(f"{path}: no certificate ({text.strip()[:120] or 'empty'})")
            continue
        facts = certs.pem_facts(path, text, anchors)
        found += certs.problems(facts, now, days, prints, subjects)
    assert not found, "; ".join(found)


# --- Windows Server (one collection per host, judged in windows_crypto.py) ------------------------


@pytest.mark.windows
@pytest.mark.control("win_schannel_protocols")
def test_windows_schannel_protocols(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_crypto.judge_win_schannel_protocols(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_schannel_ciphers")
def test_windows_schannel_ciphers(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_crypto.judge_win_schannel_ciphers(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("crypto_certificates_valid")
def test_windows_certificates_valid(host: Any, hostvars: dict[str, Any]) -> None:
    if not hostvars.get("crypto_certificates"):
        pytest.skip("not applicable: the inventory names no certificates (crypto_certificates)")
    found = windows_crypto.judge_crypto_certificates_valid(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
