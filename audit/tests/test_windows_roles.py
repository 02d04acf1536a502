"""The Windows tasks of the concern roles against the modules' and Microsoft's documentation
(issue 16). No Windows host runs here: the tasks are read as YAML, the modules' documentation
from the collections installed with ansible (the versions ansible-lint validates against)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ansible_collections
import pytest
import yaml
from windowskit import PROJECT

from driftvakt_checks import windows_patching

COLLECTIONS = Path(next(iter(ansible_collections.__path__)))


def _tasks(path: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = yaml.safe_load((PROJECT / path).read_text())
    return tasks


def _module_doc(collection: str, module: str) -> dict[str, Any]:
    source = (COLLECTIONS / collection / "plugins" / "modules" / f"{module}.py").read_text()
    doc = re.search(r"DOCUMENTATION = r?'''(.*?)'''", source, re.S)
    assert doc, module
    data: dict[str, Any] = yaml.safe_load(doc.group(1))
    return data


def test_the_firewall_keeps_its_own_rules_by_display_name() -> None:
    """win_firewall_rule's ``name`` is the DisplayName; Windows gives the rule a generated Name,
    so filtering ``Name -notlike 'driftvakt-*'`` disabled the management rule on every run."""
    name_doc = _module_doc("community/windows", "win_firewall_rule")["options"]["name"]
    assert "The rule's display name." in name_doc["description"]
    tasks = _tasks("roles/firewall/tasks/windows/firewall_approved_paths_only.yml")
    created = tasks[0]["community.windows.win_firewall_rule"]["name"]
    prefix = created.split("{{")[0]
    assert prefix == "driftvakt-"
    script = tasks[1]["ansible.windows.win_powershell"]["script"]
    assert f"$_.DisplayName -notlike '{prefix}*'" in script
    assert f"$_.Name -notlike '{prefix}*'" not in script


def test_the_builtin_administrator_guard_asks_the_host_who_is_connected() -> None:
    """``$admin.Name -eq '{{ ansible_user }}'`` missed .\\Administrator, HOST\\Administrator and
    a UPN; the SID of the connected logon is the same whatever form the inventory uses."""
    task = _tasks("roles/accounts/tasks/windows/win_builtin_accounts.yml")[0]
    script = task["ansible.windows.win_powershell"]["script"]
    assert "WindowsIdentity]::GetCurrent().User" in script
    assert "$admin.SID -eq $me" in script
    assert "ansible_user" not in script
    # The guard stands before both the disable and the rename.
    guard = script.index("$admin.SID -eq $me")
    assert guard < script.index("Disable-LocalUser -InputObject $admin")
    assert guard < script.index("Rename-LocalUser")


def test_updates_are_installed_by_category_id_not_by_localised_name() -> None:
    """win_updates matches category_names against ICategory.Name, which is localised: the role
    finds the KBs by CategoryID and installs exactly those."""
    updates_ps = (COLLECTIONS / "ansible/windows/plugins/modules/win_updates.ps1").read_text()
    assert "categories = @($Update.Categories | ForEach-Object { $_.Name })" in updates_ps
    defaults = yaml.safe_load((PROJECT / "roles/patching/defaults/main.yml").read_text())
    assert tuple(defaults["windows_patch_category_ids"]) == windows_patching.SECURITY_CATEGORY_IDS
    search, install, _ = _tasks("roles/patching/tasks/windows/win_updates_critical_48h.yml")
    assert "CategoryIDs contains" in search["ansible.windows.win_powershell"]["script"]
    assert install["ansible.windows.win_updates"]["category_names"] == "*"
    assert "accept_list" in install["ansible.windows.win_updates"]
    # win_updates matches accept_list entries as regular expressions (-imatch): anchored KBs.
    assert "$entry -imatch $matchEntry" in updates_ps
    assert "'^KB' + $_ + '$'" in search["ansible.windows.win_powershell"]["script"]


def test_the_example_keeps_the_core_networking_rules_path_mtu_and_dhcp_need() -> None:
    """Disabling every other inbound allow rule would include ICMPv6 Packet Too Big, ICMPv4
    Fragmentation Needed and DHCP: path-MTU discovery and address leases break."""
    example = yaml.safe_load((PROJECT / "inventories/example/group_vars/windows.yml").read_text())
    kept = set(example["windows_firewall_exceptions"])
    assert {"CoreNet-ICMP6-PTB-In", "CoreNet-ICMP4-DUFRAG-In"} <= kept
    assert {"CoreNet-DHCP-In", "CoreNet-DHCPV6-In"} <= kept


# The controls' Windows tasks; guarded_change's arming of a rollback rightly skips in check mode.
WINDOWS_TASK_FILES = sorted(
    str(p.relative_to(PROJECT))
    for p in (PROJECT / "roles").glob("*/tasks/windows/**/*.yml")
    if p.parts[-4] != "guarded_change"
)


def _flat(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for task in tasks:
        found.append(task)
        for part in ("block", "rescue", "always"):
            found += _flat(task.get(part) or [])
    return found


def _conditions(task: dict[str, Any]) -> list[str]:
    when = task.get("when", [])
    return [str(w).strip() for w in (when if isinstance(when, list) else [when])]


def _windows_guarded_firewall() -> list[dict[str, Any]]:
    tasks = _flat(_tasks("roles/firewall/tasks/main.yml"))
    return [t for t in tasks if "ansible_facts['os_family'] == 'Windows'" in _conditions(t)]


@pytest.mark.parametrize("path", [*WINDOWS_TASK_FILES, "roles/firewall/tasks/main.yml"])
def test_windows_changes_show_in_check_mode(path: str) -> None:
    """--check --diff shows what would change: a change made through win_powershell supports
    ShouldProcess and honours $Ansible.CheckMode (the module skips any other script in check
    mode); a task that must not run in check mode (a guarded change that drops the connection,
    an import whose file --check did not copy) has a check-mode counterpart in the same file
    that shows the change instead of a silent "skipped"."""
    tasks = _windows_guarded_firewall() if path.endswith("main.yml") else _flat(_tasks(path))
    hidden = [t["name"] for t in tasks if "not ansible_check_mode" in _conditions(t)]
    shown = [t["name"] for t in tasks if "ansible_check_mode" in _conditions(t)]
    assert not hidden or shown, f"{path}: skipped in check mode with nothing shown: {hidden}"
    for task in tasks:
        script = (task.get("ansible.windows.win_powershell") or {}).get("script", "")
        reads = task.get("changed_when") in (False, "false") or task.get("check_mode") is False
        if script and not reads:
            # win_powershell skips a script in check mode unless it supports ShouldProcess.
            assert "SupportsShouldProcess" in script and "$Ansible.CheckMode" in script, task
    assert not any(
        "ansible.windows.win_shell" in t
        and "changed_when" in t
        and t["changed_when"] not in (False, "false")
        for t in tasks
    ), path


def test_guarded_changes_are_previewed_with_their_apply_tasks() -> None:
    for path, apply in (
        (
            "roles/remote_access/tasks/windows/win_rdp_nla_tls.yml",
            "windows/apply/win_rdp_nla_tls.yml",
        ),
        (
            "roles/remote_access/tasks/windows/win_winrm_https_only.yml",
            "windows/apply/win_winrm_https_only.yml",
        ),
    ):
        tasks = _tasks(path)
        guarded = next(t for t in tasks if "ansible.builtin.include_role" in t)
        preview = next(t for t in tasks if "ansible.builtin.include_tasks" in t)
        assert guarded["vars"]["guarded_change_apply_tasks"] == apply
        assert preview["ansible.builtin.include_tasks"]["file"] == apply
        assert _conditions(preview) == ["ansible_check_mode"]
    firewall = _windows_guarded_firewall()
    guarded = next(t for t in firewall if "ansible.builtin.include_role" in t)
    preview = next(t for t in firewall if "ansible.builtin.include_tasks" in t)
    assert (
        preview["ansible.builtin.include_tasks"]["file"]
        == guarded["vars"]["guarded_change_apply_tasks"]
    )


def test_timesync_check_mode_does_not_wait_for_a_change_it_did_not_make() -> None:
    wait = _tasks("roles/timesync/tasks/windows/ntp_source_selected.yml")[-1]
    assert wait["until"].startswith("ansible_check_mode")
    assert "if ansible_check_mode" in wait["ansible.windows.win_shell"]


def test_an_application_service_whose_account_changed_is_restarted() -> None:
    """A service's new logon account applies at its next start: without a restart it runs on
    as LocalSystem while the audit, reading the configured StartName, passes it."""
    change, restart = _tasks("roles/services/tasks/windows/win_app_services_least_privilege.yml")
    assert change["ansible.windows.win_service"]["username"].startswith("NT SERVICE\\")
    registered = change["register"]
    assert restart["ansible.windows.win_service"]["state"] == "restarted"
    assert restart["loop"] == f"{{{{ {registered}.results | selectattr('changed') | list }}}}"


def test_the_administrators_guard_resolves_every_account_form_on_the_host() -> None:
    """The management account must stay in Administrators (``state: pure`` removes the rest).
    Comparing ansible_user's text with windows_local_admins refused ``.\\svc-ansible`` or
    ``HOST\\svc-ansible`` against ``svc-ansible`` and matched a UPN by its short name alone; the
    host now resolves both sides to SIDs."""
    path = "roles/accounts/tasks/windows/win_local_admins_approved.yml"
    tasks = _tasks(path)
    read = next(t for t in tasks if "ansible.windows.win_powershell" in t)
    script = read["ansible.windows.win_powershell"]["script"]
    assert "WindowsIdentity]::GetCurrent()" in script
    assert "NTAccount($account)).Translate(" in script
    assert read["check_mode"] is False  # a read: it runs in --check too
    guard = next(
        t for t in tasks if "me_sid" in str(t.get("ansible.builtin.assert", {}).get("that"))
    )
    assert (
        f"{read['register']}.output[0].me_sid in {read['register']}.output[0].sids"
        in guard["ansible.builtin.assert"]["that"]
    )
    assert "ansible_user" not in str(guard["ansible.builtin.assert"]["that"])
    change = next(t for t in tasks if "ansible.windows.win_group_membership" in t)
    assert tasks.index(guard) < tasks.index(change)
    assert change["ansible.windows.win_group_membership"]["state"] == "pure"
