"""The patching role for every family (no host): its reboot probe, the apt hook's configuration,
and its selections of what to install, rendered by Ansible's templar over captured output."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest
import rpmkit
import yaml
from test_parse_patching import APT_DEBIAN, APT_LAB

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template, trusted
from driftvakt_checks import patching_pending as PENDING
from driftvakt_checks import test_patching as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "patching"
TASKS = yaml.safe_load((ROLE / "tasks" / "security_updates_installed.yml").read_text())

EXPECTED_PROBE = {
    "debian12": (["test", "-e", "/var/run/reboot-required"], 0, 1),
    "rhel8": (["dnf", "needs-restarting", "-r"], 1, 0),
    "rhel9": (["dnf", "needs-restarting", "-r"], 1, 0),
    "rhel10": (["dnf", "needs-restarting", "-r"], 1, 0),
    "sles15": (["zypper", "--non-interactive", "needs-rebooting"], 102, 0),
}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


def _task(words: str) -> dict[str, Any]:
    (task,) = [t for t in TASKS if words in t["name"]]
    assert task["name"].startswith("security_updates_installed | ")
    assert "security_updates_installed" in task["tags"]
    return dict(task)


def _render(expression: str, **variables: Any) -> Any:
    from ansible.template import Templar

    return Templar(loader=None, variables=trusted(variables)).template(trusted(expression))


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_reboot_probe_per_family(family: str) -> None:
    variables = _vars(family)
    probe, needed, not_needed = EXPECTED_PROBE[family]
    assert variables["__patching_reboot_probe"] == probe
    assert variables["__patching_reboot_rc"] == {"needed": needed, "not_needed": not_needed}


# dnf 4.14.0 (Debian 12's, the version RHEL 9 ships) without dnf-plugins-core, run here as
# `dnf --installroot=ROOT needs-restarting -r`: exit 1, the code that otherwise means "reboot".
DNF_NO_PLUGIN = (
    "No such command: needs-restarting. Please use /usr/bin/dnf --help\n"
    "It could be a DNF plugin command, try: \"dnf install 'dnf-command(needs-restarting)'\"\n"
)


@pytest.mark.parametrize(
    ("rc", "stderr", "required"),
    [(1, "", True), (0, "", False), (1, DNF_NO_PLUGIN, None), (2, "", None)],
)
def test_reboot_answer_without_the_dnf_plugin_is_unknown(
    rc: int, stderr: str, required: bool | None
) -> None:
    task = _task("Report whether a reboot is needed")
    expression = task["ansible.builtin.set_fact"]["patching_reboot_required"]
    variables = {**_vars("rhel9"), "__patching_reboot": {"rc": rc, "stderr": stderr}}
    assert _render(expression, **variables) is required


def test_limit_default_is_the_checks() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["patching_critical_max_age_hours"] == CHECK.DEFAULT_MAX_AGE_HOURS


def test_apt_hook_configuration_runs_the_recorder() -> None:
    variables = _vars("debian12")
    conf = render_template(ROLE, "etc/apt/apt.conf.d/50driftvakt-security-seen.j2", variables)
    recorder = "/usr/local/sbin/driftvakt-security-seen"
    assert f'APT::Update::Post-Invoke {{ "[ ! -x {recorder} ] || {recorder} || true"; }};' in conf
    assert 'APT::Periodic::Update-Package-Lists "1";' in conf
    assert variables["__patching_record"] == PENDING.RECORD


def test_role_reads_what_the_check_reads() -> None:
    commands = {
        "apt would take": CHECK.APT_SIMULATE,
        "pending Critical security advisories": CHECK.DNF_LIST,
        "needed critical security patches": CHECK.ZYPPER_PATCHES,
    }
    for words, check_command in commands.items():
        command = " ".join(str(_task(words)["ansible.builtin.command"]).split())
        assert check_command.endswith(command), (command, check_command)


def test_apt_selection_is_the_security_suites_updates() -> None:
    task = _task("Install the security suite's updates")
    expression = task["vars"]["__patching_apt_security"]
    for output, expected in (
        (APT_LAB, ["driftvakt-lab-canary"]),
        (APT_DEBIAN, ["libssl3", "linux-image-6.1.0-28-amd64"]),
        ("Reading package lists...\n", []),
    ):
        selected = _render(
            expression, __patching_apt_simulation={"stdout_lines": output.splitlines()}
        )
        assert selected == expected
        # the role installs exactly what the check counts as pending security updates
        assert selected == [u.name for u in PENDING.parse_apt_simulation(output) if u.security]
    assert task["ansible.builtin.apt"]["only_upgrade"] is True


def _recorded(name: str, command_part: str) -> str:
    """What the real dnf or zypper answered to the role's (= the check's) read."""
    (answer,) = [a for a in rpmkit.load(name)["answers"] if command_part in a["command"]]
    text: str = answer["stdout"]
    return text.partition(CHECK.SECTION)[0]  # the check's dnf read has more sections


@pytest.mark.parametrize("family", ["rhel8", "rhel9", "rhel10"])
def test_dnf_selection_is_the_critical_advisories_packages(family: str) -> None:
    assert _vars(family)["ansible_os_family"] == "RedHat"
    task = _task("Install the packages of the Critical security advisories")
    expression = task["vars"]["__patching_dnf_packages"]
    # recorded from the real dnf: Important and non-security advisories are listed too
    for name, expected in (
        ("dnf-mixed", ["driftvakt-lab-canary-1.1-1.noarch"]),
        ("dnf-important-only", []),
        ("dnf-installed", []),
    ):
        listed = _recorded(name, "updateinfo list")
        selected = _render(
            expression, __patching_dnf_advisories={"stdout_lines": listed.splitlines()}
        )
        assert selected == expected, name
        assert selected == sorted({p for ps in PENDING.parse_dnf_list(listed).values() for p in ps})
    assert task["when"][0] == "ansible_facts['os_family'] == 'RedHat'"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # zypper's XML ignores --category and --severity (recorded from zypper 1.14): the
        # important and the non-security patch are listed and must not be installed
        ("zypper-mixed", ["DVLAB-2026-0001"]),
        ("zypper-important-only", []),
        ("zypper-critical-60h", ["DVLAB-2026-0001"]),
        ("zypper-installed", []),
    ],
)
def test_zypper_selection_is_the_needed_critical_security_patches(
    name: str, expected: list[str]
) -> None:
    assert _vars("sles15")["ansible_os_family"] == "Suse"
    task = _task("Install the critical security patches")
    expression = task["vars"]["__patching_zypper_needed"]
    xml = _recorded(name, "list-patches")
    assert _render(expression, __patching_zypper_patches={"stdout": xml}) == expected
    counted = [
        p.what.split()[0] for p in PENDING.suse_pending(PENDING.parse_zypper_patches(xml), 0)
    ]
    assert counted == expected  # the role installs exactly what the check counts
    assert task["community.general.zypper"]["type"] == "patch"


# The head of a Debian security suite's InRelease as apt stores it (signature shortened).
IN_RELEASE = """\
-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Origin: Debian
Label: Debian-Security
Suite: stable-security
Version: 12
Codename: bookworm-security
Date: {date}
Valid-Until: Sat, 28 Nov 2026 10:00:00 UTC
Acquire-By-Hash: yes
Architectures: amd64 arm64
Components: updates/main
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEE
-----END PGP SIGNATURE-----
"""
SECURITY = "deb.debian.org_debian-security_dists_bookworm-security_"


def test_apt_hook_records_first_appearance(tmp_path: Path) -> None:
    hook = runpy.run_path(str(ROLE / "files" / "driftvakt-security-seen"), run_name="hook")
    lists, state = tmp_path / "lists", tmp_path / "state.json"
    lists.mkdir()
    hook["main"].__globals__.update(LISTS=lists, STATE=state)
    packages = lists / f"{SECURITY}updates_main_binary-amd64_Packages"
    (lists / "deb.debian.org_debian_dists_bookworm_InRelease").write_text(
        "Origin: Debian\nSuite: stable\nCodename: bookworm\nDate: Sat, 09 Nov 2026 10:00:00 UTC\n"
    )
    (lists / f"{SECURITY}InRelease").write_text(
        IN_RELEASE.format(date="Sat, 21 Nov 2026 10:00:00 UTC")
    )
    packages.write_text("Package: openssl\nVersion: 3.0.15-1~deb12u1\n\n")
    hook["main"]()
    first = json.loads(state.read_text())["packages"]
    assert first == {
        "openssl 3.0.15-1~deb12u1": {
            "suite": "bookworm-security",
            "list": f"{SECURITY}InRelease",
            "first_seen": 1795255200,  # 2026-11-21 10:00 UTC
            "after": None,  # in the suite the first time this host looked
        }
    }
    # The next update: a new version, and the suite re-dated; the old record is kept as it was.
    (lists / f"{SECURITY}InRelease").write_text(
        IN_RELEASE.format(date="Sun, 22 Nov 2026 12:00:00 UTC")
    )
    packages.write_text(
        "Package: openssl\nVersion: 3.0.15-1~deb12u1\n\nPackage: libssl3\nVersion: 3.0.16-1\n"
    )
    hook["main"]()
    second = json.loads(state.read_text())["packages"]
    assert second["openssl 3.0.15-1~deb12u1"] == first["openssl 3.0.15-1~deb12u1"]
    assert second["libssl3 3.0.16-1"]["first_seen"] == 1795348800
    assert second["libssl3 3.0.16-1"]["after"] == 1795255200
    # A version gone from the suite is forgotten; the check reads what the record holds.
    packages.write_text("Package: libssl3\nVersion: 3.0.16-1\n")
    hook["main"]()
    assert set(json.loads(state.read_text())["packages"]) == {"libssl3 3.0.16-1"}
    assert PENDING.parse_record(state.read_text())["libssl3 3.0.16-1"]["after"] == 1795255200
