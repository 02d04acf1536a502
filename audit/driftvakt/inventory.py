"""Ansible inventory -> audit targets, read with Ansible's own inventory code.

Using ansible-core's InventoryManager (not a parser of our own) means every source Ansible
accepts — INI, YAML, directories, group_vars/host_vars, plugins — reads exactly as it does for
``ansible-playbook``, so ops name hosts, users and keys in one place only.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from driftvakt.credentials import mask_assigned_secrets
from driftvakt.errors import BadInputError


@dataclass(frozen=True)
class Target:
    """One host to audit, with the connection settings Ansible would use."""

    name: str
    address: str
    port: int
    user: str | None
    private_key: str | None
    connection: str
    become: bool
    ssh_common_args: str
    known_hosts: str | None
    os_family: str | None
    vars: dict[str, Any] = field(compare=False, repr=False)
    groups: tuple[str, ...] = ()
    # The baseline settings asked for by name (``targets(keep=...)``), templated: what the
    # inventory check reads before any host is contacted (driftvakt/inventory_check.py).
    settings: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@contextmanager
def _ansible_quiet() -> Iterator[io.StringIO]:
    """Make a source Ansible cannot parse an error, and keep its multi-line warnings off the
    terminal (they are read back to build one clear line)."""
    os.environ.setdefault("ANSIBLE_HOST_KEY_CHECKING", "True")
    from ansible import constants

    constants.INVENTORY_ANY_UNPARSED_IS_FAILED = True
    constants.LOCALHOST_WARNING = False
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        yield captured


_ORIGIN = re.compile(r"Origin: (/[^\s>]+?:\d+(?::\d+)?)")


def _one_line(text: str, source: str) -> str:
    """The most useful line of Ansible's parse failure: file:line and what was wrong."""
    origin = _ORIGIN.search(text)
    reasons = [
        ln.strip() for ln in text.splitlines() if "failed:" in ln.lower() or "error" in ln.lower()
    ]
    reason = reasons[-1] if reasons else (text.strip().splitlines() or ["cannot be parsed"])[0]
    reason = re.sub(r"^\[WARNING\]:\s*", "", reason)
    where = origin.group(1) if origin else source
    return f"{where}: {mask_assigned_secrets(reason)[:200]}"


@cache
def _load(inventory: str) -> tuple[Any, Any, Any]:
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    path = Path(inventory)
    if not path.exists():
        raise BadInputError(f"inventory {inventory}: no such file or directory")
    loader = DataLoader()
    try:
        with _ansible_quiet() as captured:
            manager = InventoryManager(loader=loader, sources=[str(path)])
    except AnsibleError as exc:
        raise BadInputError(
            f"inventory {_one_line(captured.getvalue() + str(exc), inventory)}"
        ) from exc
    _refuse_duplicates(captured.getvalue(), inventory)
    return loader, manager, VariableManager(loader=loader, inventory=manager)


_DUPLICATE = re.compile(r"Found duplicate mapping key '([^']*)'\.\s*Origin: (\S+?)(?::\d+)?\s")


def _refuse_duplicates(warnings: str, source: str) -> None:
    """A key given twice (a host, a variable) is an error: Ansible keeps the last one silently,
    so a second entry for a host would replace its address or settings unseen."""
    found = _DUPLICATE.search(warnings)
    if found:
        key, where = found.groups()
        raise BadInputError(
            f"inventory {where}: {key!r} is given twice (Ansible would silently keep the last); "
            "remove or merge one"
        )


# Templated variables of the hosts being evaluated. Every check of a host asks for them and
# templating is the slow part (~5 ms), so they are kept until the host is done
# (forget_host_variables); a fleet's worth is never held at once.
_TEMPLATED: dict[tuple[str, str], dict[str, Any]] = {}


def host_variables(inventory: str, name: str) -> dict[str, Any]:
    """A host's variables as a play would see them (group_vars, host_vars, templated).

    Each caller gets its own dict, so a check that sets a key changes nothing else."""
    key = (inventory, name)
    if key not in _TEMPLATED:
        _TEMPLATED[key] = _template_variables(inventory, name)
    return dict(_TEMPLATED[key])


def forget_host_variables(inventory: str, name: str) -> None:
    _TEMPLATED.pop((inventory, name), None)


# Variables Ansible computes from the inventory itself: host and group names, never templates.
# ``groups`` names every host of the inventory, so marking it as template text or templating
# it for each host made loading a fleet cost the square of its size; it is handed on as it is.
_LITERAL = frozenset({"groups"})
_SKIPPED = ("hostvars", "vars", "environment")


def _template_variables(
    inventory: str, name: str, wanted: Callable[[str], bool] = lambda _key: True
) -> dict[str, Any]:
    """The host's variables whose names are ``wanted``, templated; ``groups`` as it is."""
    from ansible.template import Templar

    from driftvakt.rendering import trusted

    loader, manager, variables = _load(inventory)
    host = manager.get_host(name)
    if host is None:
        raise BadInputError(f"inventory {inventory}: no host named {name}")
    raw = variables.get_vars(host=host, include_hostvars=False)
    literal = {k: v for k, v in raw.items() if k in _LITERAL}
    templar = Templar(
        loader=loader,
        variables={**trusted({k: v for k, v in raw.items() if k not in _LITERAL}), **literal},
    )
    result: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SKIPPED or not wanted(key):
            continue
        if key in _LITERAL or not _has_template(value):
            result[key] = value
            continue
        try:
            result[key] = templar.template(trusted(value))
        except Exception:  # a var that cannot be templated outside a play stays raw
            result[key] = value
    return result


_MARKERS = ("{{", "{%", "{#")


def _has_template(value: Any) -> bool:
    """Whether templating could change the value: Jinja markers in a string anywhere in it.
    Text without them templates to itself, and Ansible's templar costs ~0.4 ms a value even
    then (most of a fleet's loading time)."""
    if isinstance(value, str):
        return any(marker in value for marker in _MARKERS)
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_template(v) for v in value)
    return False


def targets(
    inventory: str, limit: str | None = None, keep: frozenset[str] = frozenset()
) -> list[Target]:
    """The hosts an ``ansible-playbook -i INVENTORY --limit LIMIT`` run would touch, with the
    variables named in ``keep`` in their ``settings``."""
    _, manager, _ = _load(inventory)
    if limit:
        with _ansible_quiet():
            manager.subset(limit)
    try:
        hosts = manager.list_hosts("all")
    finally:
        manager.subset(None)
    if not hosts:
        raise BadInputError(
            f"inventory {inventory}: no hosts match {limit!r}"
            if limit
            else f"inventory {inventory}: has no hosts"
        )
    return [_target(inventory, h.name, keep) for h in hosts]


# What a Target keeps of its host's variables: the connection's settings and driftvakt's own.
# The rest (the baseline's settings) is templated again when the host's checks run.
_CONNECTION_VARS = ("ansible_", "driftvakt_")


def _connection_var(key: str) -> bool:
    return key.startswith(_CONNECTION_VARS) or key == "group_names"


def _target(inventory: str, name: str, keep: frozenset[str] = frozenset()) -> Target:
    # Only what the connection needs (and ``keep``) is templated here, for every host up
    # front; the rest waits for the host's checks (host_variables), one host at a time.
    hv = _template_variables(inventory, name, lambda key: _connection_var(key) or key in keep)
    key = hv.get("ansible_ssh_private_key_file") or hv.get("ansible_private_key_file")
    return Target(
        name=name,
        address=str(hv.get("ansible_host") or hv.get("ansible_ssh_host") or name),
        port=int(hv.get("ansible_port") or hv.get("ansible_ssh_port") or 22),
        user=hv.get("ansible_user") or hv.get("ansible_ssh_user"),
        # as Ansible's ssh plugin does: ~ expanded, a relative path relative to the cwd
        private_key=os.path.expanduser(str(key)) if key else None,
        connection=str(hv.get("ansible_connection") or "ssh"),
        become=bool(hv.get("ansible_become", False)),
        ssh_common_args=str(hv.get("ansible_ssh_common_args") or ""),
        known_hosts=hv.get("driftvakt_known_hosts"),
        os_family=hv.get("ansible_os_family"),
        vars={k: v for k, v in hv.items() if k.startswith(_CONNECTION_VARS)},
        groups=tuple(str(g) for g in hv.get("group_names", ())),
        settings={k: v for k, v in hv.items() if k in keep},
    )
