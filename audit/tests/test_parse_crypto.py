"""The pure parsers of tests/test_crypto.py, on captured crypto-policy, probe and openssl.cnf."""

from __future__ import annotations

from driftvakt_checks import test_crypto as CHECK


def test_policy_base() -> None:
    assert CHECK.policy_base("DEFAULT\n") == "DEFAULT"
    assert CHECK.policy_base("DEFAULT:SHA1\n") == "DEFAULT"
    assert CHECK.policy_base("LEGACY\n") not in CHECK.APPROVED_POLICIES


def test_probe_values() -> None:
    # Debian 12 lab host: converged, drifted (MinProtocol = TLSv1), no configuration.
    assert CHECK.parse_probe("771\n") == CHECK.TLS_1_2
    assert CHECK.parse_probe("769\n") == 769
    assert CHECK.parse_probe("-2\n") == -2
    assert CHECK.parse_probe("Traceback (most recent call last):\n") is None


def test_min_protocols_in_file_order() -> None:
    conf = """\
[openssl_init]
ssl_conf = driftvakt_ssl_sect
# MinProtocol = SSLv3
[driftvakt_system_default_sect]
MinProtocol = TLSv1.2
"""
    assert CHECK.min_protocols(conf) == ["TLSv1.2"]
    assert CHECK.min_protocols("") == []
