"""The rights report (SKA-SEC-16, RST-6.2.5, LB-ACCESS-REPORT): per host every account with its
groups, administrator rights, sudo rules, SSH key fingerprints and last login, and what changed
since an earlier run.

The inventory is collected by the audit itself (``tests/accounts_inventory.py``), recorded as the
``rights_inventory`` fact of the ``accounts_admins_approved`` result, and so stored with the run:
this module only reads run JSON. Pure apart from :func:`write`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from driftvakt.localefmt import Formatter
from driftvakt.messages import translator
from driftvakt.results import write_text_atomic

FACT = "rights_inventory"
SOURCE_CONTROL = "accounts_admins_approved"


def inventories(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{host: rights inventory} for every host of the run that has one."""
    found: dict[str, dict[str, Any]] = {}
    for result in run.get("results", []):
        inventory = (result.get("facts") or {}).get(FACT)
        if isinstance(inventory, dict):
            found[str(result["host"])] = inventory
    return found


@dataclass(frozen=True)
class AccountChange:
    """How one account's rights moved; empty tuples: no change of that kind."""

    account: str
    groups_added: tuple[str, ...] = ()
    groups_removed: tuple[str, ...] = ()
    admin_added: tuple[str, ...] = ()
    admin_removed: tuple[str, ...] = ()
    keys_added: tuple[str, ...] = ()  # "TYPE fingerprint comment"
    keys_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostChanges:
    host: str
    accounts_added: tuple[str, ...] = ()
    accounts_removed: tuple[str, ...] = ()
    changed: tuple[AccountChange, ...] = ()
    sudo_added: tuple[str, ...] = ()  # the rule's source: file and line
    sudo_removed: tuple[str, ...] = ()
    new_host: bool = False
    host_gone: bool = False

    @property
    def is_empty(self) -> bool:
        return not (
            self.accounts_added
            or self.accounts_removed
            or self.changed
            or self.sudo_added
            or self.sudo_removed
            or self.new_host
            or self.host_gone
        )


@dataclass(frozen=True)
class RightsDiff:
    before_id: str | None  # None: nothing to compare with
    before_started: str | None
    hosts: tuple[HostChanges, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return all(h.is_empty for h in self.hosts)


def _key_label(key: dict[str, Any]) -> str:
    return f"{key.get('type', '?')} {key.get('fingerprint', '?')} {key.get('comment', '')}".strip()


def _moved(before: list[str], after: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(set(after) - set(before))), tuple(sorted(set(before) - set(after)))


def _host_changes(host: str, old: dict[str, Any], new: dict[str, Any]) -> HostChanges:
    old_accounts = {a["name"]: a for a in old.get("accounts", [])}
    new_accounts = {a["name"]: a for a in new.get("accounts", [])}
    changed = []
    for name in sorted(old_accounts.keys() & new_accounts.keys()):
        a, b = old_accounts[name], new_accounts[name]
        groups = _moved(a.get("groups", []), b.get("groups", []))
        admin = _moved(a.get("administrator", []), b.get("administrator", []))
        keys = _moved(
            [_key_label(k) for k in a.get("ssh_keys", [])],
            [_key_label(k) for k in b.get("ssh_keys", [])],
        )
        change = AccountChange(name, *groups, *admin, *keys)
        if any((*groups, *admin, *keys)):
            changed.append(change)
    for name in sorted(new_accounts.keys() - old_accounts.keys()):
        # a new account's groups, rights and keys are all "added": shown with it
        b = new_accounts[name]
        extras = AccountChange(
            name,
            groups_added=tuple(b.get("groups", [])),
            admin_added=tuple(b.get("administrator", [])),
            keys_added=tuple(_key_label(k) for k in b.get("ssh_keys", [])),
        )
        if extras.groups_added or extras.admin_added or extras.keys_added:
            changed.append(extras)
    sudo_added, sudo_removed = _moved(
        [r["source"] for r in old.get("sudo_rules", [])],
        [r["source"] for r in new.get("sudo_rules", [])],
    )
    return HostChanges(
        host,
        accounts_added=tuple(sorted(new_accounts.keys() - old_accounts.keys())),
        accounts_removed=tuple(sorted(old_accounts.keys() - new_accounts.keys())),
        changed=tuple(changed),
        sudo_added=sudo_added,
        sudo_removed=sudo_removed,
    )


def compare(before: dict[str, Any] | None, after: dict[str, Any]) -> RightsDiff:
    """What changed in every host's rights from ``before`` to ``after`` (None: first run)."""
    if before is None:
        return RightsDiff(None, None)
    old, new = inventories(before), inventories(after)
    hosts = []
    for host in sorted(old.keys() | new.keys()):
        if host not in old:
            hosts.append(HostChanges(host, new_host=True))
        elif host not in new:
            hosts.append(HostChanges(host, host_gone=True))
        else:
            hosts.append(_host_changes(host, old[host], new[host]))
    return RightsDiff(str(before.get("id", "")), str(before.get("started", "")), tuple(hosts))


def to_json(run: dict[str, Any], diff: RightsDiff) -> dict[str, Any]:
    return {
        "run": run.get("id"),
        "started": run.get("started"),
        "hosts": inventories(run),
        "compared_with": diff.before_id,
        "changes": [
            {
                "host": h.host,
                "new_host": h.new_host,
                "host_gone": h.host_gone,
                "accounts_added": list(h.accounts_added),
                "accounts_removed": list(h.accounts_removed),
                "sudo_rules_added": list(h.sudo_added),
                "sudo_rules_removed": list(h.sudo_removed),
                "accounts_changed": [c.__dict__ for c in h.changed],
            }
            for h in diff.hosts
            if not h.is_empty
        ],
    }


CSV_FIELDS = (
    "host",
    "account",
    "uid",
    "primary_group",
    "groups",
    "administrator",
    "password",
    "shell",
    "ssh_key_fingerprints",
    "last_login",
)


def to_csv(run: dict[str, Any]) -> str:
    """One row per host and account; lists joined with "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for host, inventory in sorted(inventories(run).items()):
        for a in inventory.get("accounts", []):
            writer.writerow(
                [
                    host,
                    a["name"],
                    a["uid"],
                    a.get("primary_group", ""),
                    "; ".join(a.get("groups", [])),
                    "; ".join(a.get("administrator", [])),
                    a.get("password", ""),
                    a.get("shell", ""),
                    "; ".join(k.get("fingerprint", "") for k in a.get("ssh_keys", [])),
                    a.get("last_login") or "",
                ]
            )
    return out.getvalue()


_WHY_SV = (
    (re.compile(r"^member of (.+)$"), r"medlem i \1"),
    (re.compile(r"^sudo ALL via (.+)$"), r"sudo ALL via \1"),
    (re.compile(r"^UID 0$"), "UID 0"),
)


def why_admin(reason: str, lang: str) -> str:
    """An administrator reason of the inventory (English, as collected) in the report's language."""
    if lang != "sv":
        return reason
    for pattern, swedish in _WHY_SV:
        if pattern.match(reason):
            return pattern.sub(swedish, reason)
    return reason


def _is_person(account: dict[str, Any]) -> bool:
    """Accounts worth reading first: a login shell, a usable password, a key or any right."""
    shell = str(account.get("shell", ""))
    login = not shell.endswith(("nologin", "/false", "/sync", "/shutdown", "/halt"))
    return bool(login or account.get("ssh_keys") or account.get("administrator"))


def render_html(run: dict[str, Any], diff: RightsDiff, lang: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("driftvakt", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    fmt = Formatter(lang)
    hosts = []
    for host, inventory in sorted(inventories(run).items()):
        accounts = inventory.get("accounts", [])
        hosts.append(
            {
                "name": host,
                "people": [a for a in accounts if _is_person(a)],
                "system": [a for a in accounts if not _is_person(a)],
                "sudo_rules": inventory.get("sudo_rules", []),
                "admins": sum(1 for a in accounts if a.get("administrator")),
            }
        )
    missing = [h for h in run.get("hosts", []) if h not in inventories(run)]
    return env.get_template("rights.html.j2").render(
        run=run,
        lang=lang,
        t=translator(lang),
        fmt=fmt,
        why=lambda reason: why_admin(reason, lang),
        hosts=hosts,
        missing=missing,
        diff=diff,
    )


def write(path: Path, text: str) -> Path:
    write_text_atomic(path, text)
    return path


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
