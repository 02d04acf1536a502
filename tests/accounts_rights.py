"""Pure parsing and judging behind tests/test_accounts.py and tests/accounts_inventory.py.

Inputs are the plain output of ``getent passwd``, ``getent group``, the sudoers files (each
introduced by a ``### <path>`` line) and a classification of /etc/shadow that carries no
secret (name, length of the password field, its first three characters: ``$y$``, ``!$6``, ``*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

SUDO_TAGS = re.compile(r"^(NO)?(PASSWD|EXEC|SETENV|LOG_INPUT|LOG_OUTPUT|MAIL|FOLLOW|INTERCEPT):\s*")
# Defaults flags that make sudo ask for the target's (root's) password instead of the user's.
ROOT_PASSWORD_FLAGS = ("targetpw", "rootpw", "runaspw")
ALIAS_KINDS = ("User_Alias", "Runas_Alias", "Host_Alias", "Cmnd_Alias")
# `awk` program printing name:length:first three characters of every password field.
SHADOW_CLASSIFY = 'awk -F: \'{print $1 ":" length($2) ":" substr($2, 1, 3)}\' /etc/shadow'
# Every sudoers file sudo reads (it skips drop-ins whose name has a dot or ends with ~).
SUDOERS_DUMP = (
    'for f in /etc/sudoers /etc/sudoers.d/*; do [ -f "$f" ] || continue; '
    'case "${f##*/}" in *~|*.*) continue;; esac; echo "### $f"; cat "$f"; done'
)


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class SudoRule:
    principals: tuple[str, ...]  # as written: user, %group, %#gid, #uid, alias, ALL
    commands: tuple[str, ...]
    nopasswd: bool
    source: str  # file and the rule line, e.g. "/etc/sudoers.d/ops: ops ALL=(ALL) NOPASSWD: ALL"

    @property
    def grants_all(self) -> bool:
        return "ALL" in self.commands


@dataclass
class Sudoers:
    rules: list[SudoRule] = field(default_factory=list)
    user_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Global `Defaults targetpw`, `rootpw` or `runaspw` (the last setting wins, as in sudo): sudo
    # asks for the target's (root's) password, not the invoking user's. SLES ships targetpw.
    asks_root_password: bool = False


def parse_passwd(text: str) -> list[Account]:
    accounts = []
    for line in text.splitlines():
        f = line.split(":")
        if len(f) >= 7 and f[2].isdigit() and f[3].isdigit():
            accounts.append(Account(f[0], int(f[2]), int(f[3]), f[5], f[6]))
    return accounts


def parse_group(text: str) -> list[Group]:
    groups = []
    for line in text.splitlines():
        f = line.split(":")
        if len(f) >= 4 and f[2].isdigit():
            members = tuple(m.strip() for m in f[3].split(",") if m.strip())
            groups.append(Group(f[0], int(f[2]), members))
    return groups


def parse_shadow_classes(text: str) -> dict[str, str]:
    """{account: empty | locked | no_login | hash} from SHADOW_CLASSIFY's output."""
    classes = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        length, _, head = rest.partition(":")
        if not name or not length.isdigit():
            continue
        if int(length) == 0:
            classes[name] = "empty"
        elif head.startswith("!"):
            classes[name] = "locked"
        elif head.startswith("*"):
            classes[name] = "no_login"
        else:
            classes[name] = "hash"
    return classes


def parse_default_password_report(text: str) -> tuple[list[str], list[str]]:
    """(accounts with a default password, 'NAME (SCHEME)' that could not be tested)."""
    found, unverifiable = [], []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "default":
            found.append(words[1])
        elif len(words) == 3 and words[0] == "unverifiable":
            unverifiable.append(f"{words[1]} ({words[2]})")
    return sorted(found), sorted(unverifiable)


def _logical_lines(text: str) -> Iterable[tuple[str, str]]:
    """(file, line) with comments removed and backslash continuations joined."""
    source, pending = "?", ""
    for raw in text.splitlines():
        if raw.startswith("### "):
            source, pending = raw[4:].strip(), ""
            continue
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        stripped = line.strip()
        if stripped.startswith(("#include", "@include")):
            continue
        stripped = re.sub(r"(^|\s)#(?!\d).*$", "", stripped).strip()
        if stripped:
            yield source, stripped


def parse_sudoers(text: str) -> Sudoers:
    """User specifications and User_Alias definitions of the given sudoers files."""
    result = Sudoers()
    for source, line in _logical_lines(text):
        keyword = line.split(None, 1)[0]
        if keyword == "Defaults":
            for option in re.split(r"[\s,]+", line.partition("Defaults")[2]):
                if option.lstrip("!") in ROOT_PASSWORD_FLAGS:
                    result.asks_root_password = not option.startswith("!")
            continue
        if keyword.startswith("Defaults"):
            continue
        if keyword in ALIAS_KINDS:
            if keyword == "User_Alias":
                for definition in line.split(None, 1)[1].split(":"):
                    name, _, members = definition.partition("=")
                    result.user_aliases[name.strip()] = tuple(
                        m.strip() for m in members.split(",") if m.strip()
                    )
            continue
        left, eq, right = line.partition("=")
        if not eq or len(left.split()) < 2:
            continue
        users = left.strip().rsplit(None, 1)[0]
        principals = tuple(u.strip() for u in users.split(",") if u.strip())
        # Tags carry over to the following commands until another tag changes them.
        nopasswd, any_nopasswd, commands = False, False, []
        for command in right.split(","):
            command = re.sub(r"^\s*\([^)]*\)\s*", "", command.strip())
            while match := SUDO_TAGS.match(command):
                if match.group(2) == "PASSWD":
                    nopasswd = match.group(1) == "NO"
                command = command[match.end() :]
            any_nopasswd = any_nopasswd or nopasswd
            commands.append(command.strip())
        nopasswd = any_nopasswd
        result.rules.append(SudoRule(principals, tuple(commands), nopasswd, f"{source}: {line}"))
    return result


def expand(
    principal: str,
    accounts: list[Account],
    groups: list[Group],
    aliases: dict[str, tuple[str, ...]],
    _seen: frozenset[str] = frozenset(),
) -> set[str]:
    """The account names a sudoers principal stands for (negations are not subtracted)."""
    if principal.startswith("!") or principal in _seen:
        return set()
    if principal == "ALL":
        return {a.name for a in accounts}
    if principal in aliases:
        names: set[str] = set()
        for member in aliases[principal]:
            names |= expand(member, accounts, groups, aliases, _seen | {principal})
        return names
    if principal.startswith("%"):
        wanted = principal[1:]
        group = next(
            (
                g
                for g in groups
                if (wanted.startswith("#") and str(g.gid) == wanted[1:]) or g.name == wanted
            ),
            None,
        )
        return group_members(group, accounts) if group else set()
    if principal.startswith("#") and principal[1:].isdigit():
        return {a.name for a in accounts if a.uid == int(principal[1:])}
    return {principal}


def group_members(group: Group, accounts: list[Account]) -> set[str]:
    """Listed members plus the accounts whose primary group it is."""
    return set(group.members) | {a.name for a in accounts if a.gid == group.gid}


def administrators(
    accounts: list[Account], groups: list[Group], sudoers: Sudoers, admin_groups: list[str]
) -> dict[str, list[str]]:
    """{account: [why it is an administrator]}; root itself is not listed."""
    found: dict[str, list[str]] = {}
    for group in groups:
        if group.name in admin_groups:
            for name in sorted(group_members(group, accounts)):
                found.setdefault(name, []).append(f"member of {group.name}")
    for account in accounts:
        if account.uid == 0 and account.name != "root":
            found.setdefault(account.name, []).append("UID 0")
    for rule in sudoers.rules:
        if rule.grants_all:
            for principal in rule.principals:
                if principal == "ALL" and rule in root_password_rules(sudoers):
                    continue  # no account's own right: root's password is (root_password_rules)
                for name in sorted(expand(principal, accounts, groups, sudoers.user_aliases)):
                    found.setdefault(name, []).append(f"sudo ALL via {principal}")
    found.pop("root", None)
    return found


def root_password_rules(sudoers: Sudoers) -> list[SudoRule]:
    """Rules letting every user run anything who knows root's password: `ALL ALL=(ALL) ALL`
    under `Defaults targetpw` (SLES's stock sudoers). They make no account an administrator by
    itself, so they are not listed per account; the admins check fails on them as one finding
    (SLES-15-020101: remove `ALL ALL=(ALL) ALL`; the stock file itself says to delete both lines
    once sudo is configured)."""
    return [
        rule
        for rule in sudoers.rules
        if sudoers.asks_root_password
        and rule.grants_all
        and not rule.nopasswd
        and "ALL" in rule.principals
    ]


def nopasswd_for_people(sudoers: Sudoers, automation: list[str]) -> list[str]:
    """Rules without a password for anything but an automation account (by name)."""
    return [
        rule.source
        for rule in sudoers.rules
        if rule.nopasswd and any(p not in automation for p in rule.principals)
    ]


def duplicates(values: Iterable[object]) -> list[object]:
    seen: set[object] = set()
    dup: list[object] = []
    for value in values:
        if value in seen and value not in dup:
            dup.append(value)
        seen.add(value)
    return dup
