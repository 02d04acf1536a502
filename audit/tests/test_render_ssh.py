"""The ssh role's platform names and rendered sshd configuration, for every family (no host).

The rendered files are read in sshd's order (the main file, its Includes expanded in place,
first value wins) and judged by the same evaluators the compliance checks use on ``sshd -T``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import test_ssh as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "ssh"
CONTROLS = (
    "ssh_root_login_disabled",
    "ssh_password_auth_disabled",
    "ssh_crypto_nist",
    "ssh_idle_timeout",
)

EXPECTED = {  # service, sftp-server, user-key keyword, sysconfig file
    "debian12": ("ssh", "/usr/lib/openssh/sftp-server", "PubkeyAcceptedAlgorithms", ""),
    "rhel8": (
        "sshd",
        "/usr/libexec/openssh/sftp-server",
        "PubkeyAcceptedKeyTypes",
        "/etc/sysconfig/sshd",
    ),
    "rhel9": ("sshd", "/usr/libexec/openssh/sftp-server", "PubkeyAcceptedAlgorithms", ""),
    "rhel10": ("sshd", "/usr/libexec/openssh/sftp-server", "PubkeyAcceptedAlgorithms", ""),
    "sles15": ("sshd", "/usr/lib/ssh/sftp-server", "PubkeyAcceptedKeyTypes", ""),
}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


def _rendered(family: str, **extra: Any) -> dict[str, str]:
    """Target path -> rendered text of every file the role writes on this family."""
    variables = _vars(family, **extra)
    fragments = variables["__ssh_fragment_dir"]
    files = {
        variables["__ssh_config_path"]: render_template(ROLE, "etc/ssh/sshd_config.j2", variables)
    }
    for control in CONTROLS:
        files[f"{fragments}/{control}.conf"] = render_template(
            ROLE, f"etc/ssh/driftvakt.d/{control}.conf.j2", variables
        )
    if variables["__ssh_sysconfig_path"]:
        files[variables["__ssh_sysconfig_path"]] = render_template(
            ROLE, "etc/sysconfig/sshd.j2", variables
        )
    return files


def _effective(files: dict[str, str], main: str, distro_dropins: dict[str, str]) -> dict[str, str]:
    """sshd's reading order: Include expands its files (sorted) in place; first value wins."""
    lines: list[str] = []

    def read(text: str) -> None:
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keyword, _, value = line.partition(" ")
            if keyword.lower() == "include":
                folder = value.rsplit("/", 1)[0]
                for path in sorted(set(files) | set(distro_dropins)):
                    if path.startswith(folder + "/") and path.endswith(".conf"):
                        read(files.get(path) or distro_dropins[path])
            else:
                lines.append(f"{keyword} {value}")

    read(files[main])
    config: dict[str, str] = CHECK.parse_sshd_t("\n".join(lines))
    return config


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_names(family: str) -> None:
    variables = _vars(family)
    service, sftp, keyword, sysconfig = EXPECTED[family]
    assert variables["__ssh_service"] == service
    assert variables["__ssh_config_path"] == "/etc/ssh/sshd_config"
    assert variables["__ssh_pubkey_keyword"] == keyword
    assert variables["__ssh_sysconfig_path"] == sysconfig
    assert variables["__ssh_managed_paths"] == [
        "/etc/ssh/sshd_config",
        "/etc/ssh/driftvakt.d",
        *([sysconfig] if sysconfig else []),
    ]
    main = render_template(ROLE, "etc/ssh/sshd_config.j2", variables)
    assert f"Subsystem sftp {sftp}" in main


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_controls_are_read_before_anything_else(family: str) -> None:
    files = _rendered(family)
    main = [
        ln for ln in files["/etc/ssh/sshd_config"].splitlines() if ln and not ln.startswith("#")
    ]
    assert main[:2] == [
        "Include /etc/ssh/driftvakt.d/*.conf",
        "Include /etc/ssh/sshd_config.d/*.conf",
    ]
    assert all(text.startswith("#") for text in files.values())  # ansible_managed first


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_rendered_configuration_passes_the_checks(family: str) -> None:
    # A hostile drop-in and RHEL 9's crypto-policy drop-in come later and cannot win.
    hostile = {
        "/etc/ssh/sshd_config.d/00-drift.conf": "PermitRootLogin yes\n"
        "PasswordAuthentication yes\n"
        "Ciphers chacha20-poly1305@openssh.com\n"
        "ClientAliveInterval 0\n"
    }
    config = _effective(_rendered(family), "/etc/ssh/sshd_config", hostile)
    assert CHECK.root_login_problems(config) == []
    assert CHECK.password_auth_problems(config) == []
    assert CHECK.crypto_problems(config) == []
    assert (
        CHECK.idle_problems(config, CHECK.DEFAULT_MAX_ALIVE_INTERVAL, CHECK.DEFAULT_IDLE_TIMEOUT)
        == []
    )


def test_rhel8_opts_sshd_out_of_the_command_line_crypto_policy() -> None:
    files = _rendered("rhel8")
    assert "\nCRYPTO_POLICY=\n" in files["/etc/sysconfig/sshd"]
    assert "/etc/sysconfig/sshd" not in _rendered("rhel9")


def test_keeping_platform_dropins_is_optional() -> None:
    main = _rendered("debian12", ssh_include_dropin_dir=False)["/etc/ssh/sshd_config"]
    assert "Include /etc/ssh/sshd_config.d/*.conf" not in main
    assert "Include /etc/ssh/driftvakt.d/*.conf" in main


def test_default_algorithms_are_within_the_checks_approved_sets() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    for var, keyword in (
        ("ssh_ciphers", "ciphers"),
        ("ssh_macs", "macs"),
        ("ssh_kex_algorithms", "kexalgorithms"),
        ("ssh_host_key_algorithms", "hostkeyalgorithms"),
        ("ssh_pubkey_accepted_algorithms", "pubkeyacceptedalgorithms"),
    ):
        assert set(defaults[var]) <= CHECK.APPROVED[keyword], var


# --- OpenSSH before 8.2 (RHEL 8: 8.0, SLES 15 SP2: 8.1): no Include in sshd_config (issue 15) ---


def _version_decision(ssh_v_stderr: str) -> tuple[str, bool]:
    """The role's set_fact on `ssh -V`'s answer, through Ansible's templar."""
    from ansible.template import Templar

    from driftvakt.rendering import trusted

    tasks = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    block = tasks[0]["block"]
    snapshot = next(t for t in block if t["name"].startswith("Snapshot the proved"))
    decide = next(t for t in snapshot["block"] if t["name"].startswith("Decide whether sshd"))
    variables: dict[str, Any] = {"__ssh_version_out": {"stderr": ssh_v_stderr, "stdout": ""}}
    templar = Templar(loader=None, variables=trusted(variables))
    variables["__ssh_openssh_version_read"] = templar.template(
        trusted(decide["vars"]["__ssh_openssh_version_read"])
    )
    templar = Templar(loader=None, variables=trusted(variables))
    facts = decide["ansible.builtin.set_fact"]
    return (
        str(templar.template(trusted(facts["__ssh_openssh_version"]))).strip(),
        bool(templar.template(trusted(facts["__ssh_include_supported"]))),
    )


def test_include_is_used_only_where_sshd_has_it() -> None:
    # `sshd -V` as each release answers it on stderr: before 9.x an "illegal option" and the
    # usage text, whose first line is the version
    old_sshd = (
        "/usr/sbin/sshd: illegal option -- V\n"
        "OpenSSH_8.0p1, OpenSSL 1.1.1k  FIPS 25 Mar 2021\n"
        "usage: sshd [-46DdeiqTt] [-C connection_spec] [-c host_cert_file]\n"
    )
    assert _version_decision(old_sshd) == ("8.0", False)
    assert _version_decision("OpenSSH_8.0p1, OpenSSL 1.1.1k  FIPS 25 Mar 2021") == ("8.0", False)
    assert _version_decision("OpenSSH_8.1p1, OpenSSL 1.1.1d  10 Sep 2019") == ("8.1", False)
    assert _version_decision("OpenSSH_8.2p1 Ubuntu-4ubuntu0.11, OpenSSL 1.1.1f") == ("8.2", True)
    # Debian 12's sshd on a lab host, as it answered `sshd -V`
    assert _version_decision("OpenSSH_9.2, OpenSSL 3.0.20 7 Apr 2026") == ("9.2", True)
    assert _version_decision("OpenSSH_10.0p2, OpenSSL 3.5.0") == ("10.0", True)
    # no answer at all: the main file carries the settings, which every sshd reads
    assert _version_decision("") == ("0.0", False)


@pytest.mark.parametrize("family", ["rhel8", "sles15"])
def test_without_include_the_controls_are_written_into_the_main_file(family: str) -> None:
    files = _rendered(family, __ssh_include_supported=False, __ssh_openssh_version="8.0")
    main = files["/etc/ssh/sshd_config"]
    settings = [ln for ln in main.splitlines() if ln and not ln.startswith("#")]
    assert not [ln for ln in settings if ln.lower().startswith("include")]
    # the controls come first, in the order Include would read their files, then the stock ones
    assert settings[0].startswith("Ciphers ")
    assert settings.index("PermitRootLogin no") < settings.index("UsePAM yes")
    # sshd reads only the main file, and it passes the same checks as with Include
    config = _effective({"/etc/ssh/sshd_config": main}, "/etc/ssh/sshd_config", {})
    assert CHECK.root_login_problems(config) == []
    assert CHECK.password_auth_problems(config) == []
    assert CHECK.crypto_problems(config) == []
    assert (
        CHECK.idle_problems(config, CHECK.DEFAULT_MAX_ALIVE_INTERVAL, CHECK.DEFAULT_IDLE_TIMEOUT)
        == []
    )
    # a waived control is left out, as its file would be left alone
    waived = _rendered(
        family, __ssh_include_supported=False, driftvakt_waived_controls=["ssh_idle_timeout"]
    )["/etc/ssh/sshd_config"]
    assert "ClientAliveInterval" not in waived and "PermitRootLogin no" in waived


def test_the_inline_list_names_every_fragment_template() -> None:
    variables = _vars("rhel8")
    assert sorted(variables["__ssh_controls"]) == sorted(CONTROLS)
    templates = sorted(p.name for p in (ROLE / "templates/etc/ssh/driftvakt.d").glob("*.conf.j2"))
    assert templates == sorted(f"{c}.conf.j2" for c in CONTROLS)
