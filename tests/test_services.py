"""Services: only approved listeners, no forbidden packages, rare protocol modules blocked.

Requirements SKA-SEC-08 (only necessary ports, protocols and services), SKA-SEC-01 and RST-6.1.3
(no remote-control or tunnel software beside the region's VPN), SKA-SEC-09 and RD-10 (no
unauthorised software). Listeners are read with ``ss -Hltunp`` as root; the approved ones come
from the inventory (``services_allowed_listeners``, ``services_allow_loopback``).
"""

from __future__ import annotations

from typing import Any

import pytest

from . import windows_remote_software, windows_services
from .services_apps import (
    APP_UNIT_PROPERTIES,
    UNIT_NAME,
    app_problems,
    parse_getent,
    parse_systemctl_show,
)
from .services_listeners import DEFAULT_ALLOWED, DHCP_CLIENT_LISTENERS, parse_ss, unapproved
from .services_packages import (
    BLOCKED_MODULES,
    FORBIDDEN_PACKAGES,
    MODPROBE_DIRS,
    parse_installed,
    parse_modprobe,
)
from .windows_facts import windows_facts


def _family(host: Any) -> str:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: a Linux check, this is {host.system_info.type}")
    distribution = str(host.system_info.distribution).lower()
    if distribution in ("debian", "ubuntu"):
        return "debian"
    if distribution in ("sles", "suse", "opensuse-leap", "sled"):
        return "suse"
    return "redhat"


@pytest.mark.control("services_listeners_allowed")
def test_only_approved_listeners(host: Any, hostvars: dict[str, Any]) -> None:
    _family(host)
    with host.sudo():
        out = host.run("ss -Hltunp")
    assert out.rc == 0, f"`ss -Hltunp` failed (rc {out.rc}): {out.stderr.strip()[:200]}"
    listeners = parse_ss(out.stdout)
    allowed = list(hostvars.get("services_allowed_listeners") or DEFAULT_ALLOWED)
    loopback = bool(hostvars.get("services_allow_loopback", True))
    dhcp = list(DHCP_CLIENT_LISTENERS) if hostvars.get("services_allow_dhcp_client", True) else []
    rogue = unapproved(listeners, allowed + dhcp, loopback)
    assert not rogue, (
        "unapproved listeners: "
        + "; ".join(
            f"{s['proto']}/{s['port']} on {s['address']} by {s['process'] or '?'} (pid {s['pid']})"
            for s in rogue
        )
        + f" (approved: {allowed}, loopback allowed: {loopback})"
    )


@pytest.mark.control("services_forbidden_packages_absent")
def test_no_forbidden_packages(host: Any, hostvars: dict[str, Any]) -> None:
    family = _family(host)
    names = [
        *FORBIDDEN_PACKAGES[family],
        *(hostvars.get("services_forbidden_packages_extra") or []),
    ]
    if family == "debian":
        query = (
            "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' "
            + " ".join(names)
            + " 2>/dev/null"
        )
    else:
        query = (
            "rpm -q --qf '%{NAME} installed\\n' "
            + " ".join(names)
            + " 2>/dev/null | grep installed"
        )
    installed = parse_installed(host.run(query + "; true").stdout)
    found = sorted(installed & set(names))
    assert not found, f"forbidden packages installed: {found}"


@pytest.mark.control("services_protocol_modules_blocked")
def test_rare_protocol_modules_blocked(host: Any, hostvars: dict[str, Any]) -> None:
    _family(host)
    modules = list(hostvars.get("services_blocked_modules") or BLOCKED_MODULES)
    with host.sudo():
        conf = host.run(
            "for d in " + " ".join(MODPROBE_DIRS) + "; do "
            'for f in "$d"/*.conf; do [ -f "$f" ] && echo "==> $f <==" && cat "$f"; done; '
            "done; true"
        ).stdout
        loaded = host.run("cat /proc/modules 2>/dev/null || echo 'no /proc/modules'").stdout
    rules = parse_modprobe(conf)
    problems = []
    for module in modules:
        entry = rules.get(module, {"install": [], "blacklist": []})
        commands = entry["install"]
        if not commands or any(c not in ("/bin/false", "/bin/true") for c in commands):
            problems.append(f"{module}: install {commands or 'not set'} (want /bin/false)")
        if not entry["blacklist"]:
            problems.append(f"{module}: not blacklisted")
    running = [
        line.split()[0]
        for line in loaded.splitlines()
        if line.split()[0:1] and line.split()[0] in modules
    ]
    # In a lab container the loaded modules are the machine's kernel's: the evidence says so.
    kernel = "no /proc/modules" if "no /proc/modules" in loaded else "the running kernel"
    assert not problems and not running, (
        f"protocol modules not blocked in {', '.join(MODPROBE_DIRS)}: {problems}; "
        f"loaded ({kernel}; in a container, the machine's kernel): {running}"
    )


@pytest.mark.control("app_services_least_privilege")
def test_app_components_run_as_unprivileged_services(host: Any, hostvars: dict[str, Any]) -> None:
    _family(host)
    components = hostvars.get("services_app_components") or []
    if not components:
        pytest.skip("not applicable: the inventory declares no services_app_components")
    names = [str(c.get("name", "")) if isinstance(c, dict) else "" for c in components]
    bad = [n for n in names if not UNIT_NAME.match(n)]
    if bad:
        raise ValueError(f"services_app_components names must be unit names, got {bad!r}")
    units = [f"{n}.service" for n in names]
    out = host.run(
        f"systemctl show -p {APP_UNIT_PROPERTIES} {' '.join(units)}; "
        "echo '==> passwd <=='; getent passwd; echo '==> group <=='; getent group"
    )
    shown, _, rest = out.stdout.partition("==> passwd <==")
    passwd_text, _, group_text = rest.partition("==> group <==")
    props = parse_systemctl_show(shown)
    passwd, groups = parse_getent(passwd_text), parse_getent(group_text)
    found = []
    for component, unit in zip(components, units, strict=True):
        expected = str(component.get("user") or component["name"])
        problems = app_problems(unit, props.get(unit), expected, passwd, groups)
        # The drop-in list is evidence, not a problem of its own.
        if any(not p.startswith("(") for p in problems):
            found += problems
    assert not found, "; ".join(found)


# --- Windows Server (one collection per host, judged in windows_services.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("win_spooler_disabled")
def test_windows_spooler_disabled(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_spooler_disabled(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_smb1_removed")
def test_windows_smb1_removed(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_smb1_removed(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_app_services_least_privilege")
def test_windows_app_services_least_privilege(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_app_services_least_privilege(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_browser_plugins_absent")
def test_windows_browser_plugins_absent(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_browser_plugins_absent(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_unapproved_remote_software_absent")
def test_windows_unapproved_remote_software_absent(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_remote_software.judge_win_unapproved_remote_software_absent(
        windows_facts(host), hostvars
    )
    assert not found, "; ".join(found)
