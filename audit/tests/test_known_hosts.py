"""known_hosts: parsed once, OpenSSH's markers understood, a revoked key never trusted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest

from driftvakt.transport import known_hosts


@pytest.fixture
def keys(tmp_path: Path) -> list[paramiko.PKey]:
    made = []
    for n in range(2):
        path = tmp_path / f"k{n}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        made.append(paramiko.Ed25519Key.from_private_key_file(str(path)))
    return made


def _line(names: str, key: paramiko.PKey) -> str:
    return f"{names} {key.get_name()} {key.get_base64()}"


def test_plain_hashed_and_port_entries_are_found(keys: list[paramiko.PKey]) -> None:
    hashed = paramiko.HostKeys.hash_host("web1")
    text = "\n".join(
        [
            "# a comment",
            _line("lab-01,10.0.0.1", keys[0]),
            _line(hashed, keys[1]),
            _line("[10.0.0.5]:2222", keys[1]),
        ]
    )
    known = known_hosts.parse(text)
    assert [k.get_base64() for k in known.keys_for("10.0.0.1")] == [keys[0].get_base64()]
    assert [k.get_base64() for k in known.keys_for("web1")] == [keys[1].get_base64()]
    assert [k.get_base64() for k in known.keys_for("[10.0.0.5]:2222")] == [keys[1].get_base64()]
    assert known.keys_for("10.0.0.5") == []
    assert known.skipped == 0


def test_a_revoked_key_is_trusted_for_no_host(keys: list[paramiko.PKey]) -> None:
    text = "\n".join(
        [
            _line("lab-01", keys[0]),
            _line("lab-02", keys[0]),
            _line("lab-02", keys[1]),
            "@revoked " + _line("*", keys[0]),
        ]
    )
    known = known_hosts.parse(text)
    assert known.keys_for("lab-01") == []
    assert [k.get_base64() for k in known.keys_for("lab-02")] == [keys[1].get_base64()]
    assert known.is_revoked(keys[0]) and not known.is_revoked(keys[1])


@pytest.mark.fault(
    "input",
    "garbled, `@cert-authority` or unknown-marker lines in known_hosts",
    "skipped as OpenSSH skips them; the other hosts' keys still work",
)
@pytest.mark.parametrize(
    "bad",
    [
        "lab-02 ssh-ed25519 AAAAnotbase64!!",
        "lab-02",
        "@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDw0hvoWvyZ3QR2Pn",
        "@revoked",
        "@bogus lab-02 ssh-ed25519 AAAA",
        "lab-02 ssh-unknown-type AAAAB3Nza",
    ],
)
def test_lines_openssh_skips_are_skipped_not_fatal(keys: list[paramiko.PKey], bad: str) -> None:
    # paramiko's own loader raised InvalidHostKey on the first of these, ending the audit.
    known = known_hosts.parse(bad + "\n" + _line("lab-01", keys[0]))
    assert [k.get_base64() for k in known.keys_for("lab-01")] == [keys[0].get_base64()]
    assert known.keys_for("lab-02") == []
    assert known.skipped == 1


def test_the_file_is_parsed_once_until_it_changes(
    keys: list[paramiko.PKey], tmp_path: Path
) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line("lab-01", keys[0]) + "\n")
    first = known_hosts.read(path)
    assert known_hosts.read(path) is first
    path.write_text(_line("lab-01", keys[1]) + "\n" + _line("lab-02", keys[1]) + "\n")
    again = known_hosts.read(path)
    assert again is not first
    assert [k.get_base64() for k in again.keys_for("lab-01")] == [keys[1].get_base64()]
