"""Crypto: TLS 1.2 or later is the system-wide minimum.

Requirements SKA-SEC-11 (industry-standard crypto per NIST SP 800-131A) and RST-7.1.1 (established
protocols configured to good practice). RHEL is asked for its crypto policy; on every platform the
system's OpenSSL is asked what a new TLS context allows (Python's ssl module reports the minimum
OpenSSL applies from its system default configuration), and the configured MinProtocol lines are
quoted as evidence.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

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
PROBE = (
    "for p in python3 /usr/libexec/platform-python; do if command -v $p >/dev/null; then "
    "exec $p -c 'import ssl; print(int(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).minimum_version))'; "
    "fi; done; echo 'no python to ask OpenSSL'"
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


@pytest.mark.control("crypto_tls_minimum")
def test_tls_1_2_is_the_system_minimum(host: Any, hostvars: dict[str, Any]) -> None:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: a Linux check, this is {host.system_info.type}")
    policies = host.run(
        "if command -v update-crypto-policies >/dev/null; then update-crypto-policies --show; "
        "else echo 'no crypto policies'; fi"
    )
    if policies.rc == 0 and "no crypto policies" not in policies.stdout:
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
    allowed = TLS_VERSIONS.get(version, str(version))
    assert version >= TLS_1_2, (
        f"OpenSSL's system default allows {allowed} (protocol {version}), "
        f"expected TLSv1.2 or later; MinProtocol in openssl.cnf: {configured or 'none'}"
    )
