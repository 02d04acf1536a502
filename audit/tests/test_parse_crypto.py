"""The pure parsers of tests/test_crypto.py, on captured crypto-policy, probe and openssl.cnf."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def _run_probe(python: Path, tmp_path: Path) -> str:
    """The check's PROBE through /bin/sh with ``python`` as the host's only python3."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python)
    done = subprocess.run(
        ["/bin/sh", "-c", CHECK.PROBE],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(bin_dir)},
        timeout=60,
    )
    return done.stdout + done.stderr


# Python 3.6 as RHEL 8's platform-python and SLES 15's python3 are; pyenv's build on this machine.
PYTHON36 = sorted(Path("/root/.pyenv/versions").glob("3.6.*/bin/python3.6"))


@pytest.mark.skipif(not PYTHON36, reason="no Python 3.6 on this machine (pyenv 3.6.*)")
def test_probe_on_python_3_6_says_it_cannot_tell(tmp_path: Path) -> None:
    # Python 3.6: "AttributeError: 'SSLContext' object has no attribute 'minimum_version'"
    # (new in 3.7), which made the check fail on every RHEL 8 and SLES 15 host.
    output = _run_probe(PYTHON36[-1], tmp_path)
    assert CHECK.parse_probe(output) == CHECK.PYTHON_CANNOT_TELL, output


def test_probe_on_this_python_reports_openssls_minimum(tmp_path: Path) -> None:
    version = CHECK.parse_probe(_run_probe(Path(sys.executable).resolve(), tmp_path))
    assert version is not None and version != CHECK.PYTHON_CANNOT_TELL


def test_configured_floor_judges_python_3_6_hosts() -> None:
    assert CHECK.configured_floor(["TLSv1.2"]) == CHECK.TLS_1_2
    assert CHECK.configured_floor(["TLSv1.3", "DTLSv1.2"]) == 772
    assert CHECK.configured_floor(["TLSv1.2", "TLSv1"]) == 769  # any lower one counts
    assert CHECK.configured_floor([]) is None
    assert CHECK.configured_floor(["TLSv9"]) is None
