"""A per-host rights inventory (SKA-SEC-16, RST-6.2.5): who has which account, groups, sudo
rules and SSH keys, and when each account last logged in.

``rights_inventory(host)`` takes a testinfra host and returns a plain, JSON-serialisable dict;
the parsing is pure (``accounts_rights`` plus the two parsers here) and unit-tested. Nothing
secret is collected: password fields only as their class (hash, locked, empty, no_login),
SSH keys only as fingerprints.
"""

from __future__ import annotations

import re
from typing import Any

from . import accounts_rights as rights

# Fingerprints of every authorized_keys file under the accounts' homes, each introduced by
# "### <account>".
_KEYS = (
    "getent passwd | while IFS=: read -r name _ _ _ _ home _; do "
    'for f in "$home/.ssh/authorized_keys" "$home/.ssh/authorized_keys2"; do '
    '[ -f "$f" ] && echo "### $name" && ssh-keygen -lf "$f" 2>/dev/null; done; done; true'
)
_LASTLOG = "lastlog 2>/dev/null || true"
_FINGERPRINT = re.compile(r"^(\d+) (\S+:\S+) (.*?) ?\((\S+)\)$")


def parse_key_fingerprints(text: str) -> dict[str, list[dict[str, Any]]]:
    """{account: [{bits, fingerprint, comment, type}]} from the _KEYS output."""
    keys: dict[str, list[dict[str, Any]]] = {}
    account = None
    for line in text.splitlines():
        if line.startswith("### "):
            account = line[4:].strip()
            continue
        match = _FINGERPRINT.match(line.strip())
        if account and match:
            bits, fingerprint, comment, kind = match.groups()
            keys.setdefault(account, []).append(
                {"bits": int(bits), "fingerprint": fingerprint, "comment": comment, "type": kind}
            )
    return keys


def parse_lastlog(text: str) -> dict[str, str | None]:
    """{account: last login as printed, or None for '**Never logged in**'} from ``lastlog``."""
    last: dict[str, str | None] = {}
    for line in text.splitlines()[1:]:
        name = line.split(None, 1)[0] if line.strip() else ""
        if not name:
            continue
        last[name] = None if "**Never logged in**" in line else line[43:].strip() or None
    return last


def build_inventory(
    passwd: str,
    group: str,
    shadow_classes: str,
    sudoers: str,
    keys: str,
    lastlog: str,
    admin_groups: list[str],
) -> dict[str, Any]:
    """The inventory from the raw outputs (pure)."""
    accounts = rights.parse_passwd(passwd)
    groups = rights.parse_group(group)
    classes = rights.parse_shadow_classes(shadow_classes)
    rules = rights.parse_sudoers(sudoers)
    admins = rights.administrators(accounts, groups, rules, admin_groups)
    fingerprints = parse_key_fingerprints(keys)
    last = parse_lastlog(lastlog)
    gid_names = {g.gid: g.name for g in groups}
    return {
        "accounts": [
            {
                "name": a.name,
                "uid": a.uid,
                "primary_group": gid_names.get(a.gid, str(a.gid)),
                "groups": sorted(g.name for g in groups if a.name in g.members),
                "shell": a.shell,
                "password": classes.get(a.name, "unknown"),
                "administrator": admins.get(a.name, []),
                "ssh_keys": fingerprints.get(a.name, []),
                "last_login": last.get(a.name),
            }
            for a in accounts
        ],
        "sudo_rules": [
            {
                "principals": list(r.principals),
                "commands": list(r.commands),
                "nopasswd": r.nopasswd,
                "source": r.source,
            }
            for r in rules.rules
        ],
        "duplicate_uids": rights.duplicates(a.uid for a in accounts),
        "duplicate_names": rights.duplicates(a.name for a in accounts),
    }


def rights_inventory(host: Any, admin_groups: list[str] | None = None) -> dict[str, Any]:
    """Collect the rights inventory of one host (reads as root)."""
    with host.sudo():
        passwd, group, shadow_classes, sudoers, keys, lastlog = (
            str(host.run(command).stdout)
            for command in (
                "getent passwd",
                "getent group",
                rights.SHADOW_CLASSIFY,
                rights.SUDOERS_DUMP,
                _KEYS,
                _LASTLOG,
            )
        )
    return build_inventory(
        passwd,
        group,
        shadow_classes,
        sudoers,
        keys,
        lastlog,
        admin_groups=admin_groups or ["sudo", "wheel", "admin"],
    )
