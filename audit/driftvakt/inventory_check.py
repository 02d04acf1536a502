"""Check each host's inventory before any host is contacted: one line per host and variable.

Two sources say what a host's variables must be. The checks (``needs.py``): a variable a
control's check reads with ``required()`` must be set. The roles' ``meta/argument_specs.yml``:
a variable that is set must have the declared type and one of the declared ``choices``, and
list elements their required options; Ansible's own validator judges it, as
``ansible-playbook`` does when the role starts. A problem makes the controls whose checks read
the variable ``error`` (kind ``config``) on that host only; a control the host does not need
judged (a valid waiver, or its concern's ``<concern>_enabled`` is false) is ``waived`` or
``not_applicable`` instead, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from driftvakt.applicability import is_windows
from driftvakt.catalog import controls
from driftvakt.errors import BadInputError
from driftvakt.inventory import Target
from driftvakt.needs import Needs, suite_needs
from driftvakt.results import ErrorKind, Result, Status
from driftvakt.waivers import Waiver, find

# "Not set", as the checks' required() has it (tests/required_vars.py UNSET).
UNSET: tuple[Any, ...] = (None, "", [])
TOGGLE = "{concern}_enabled"
NOT_SET = "is not set"


@dataclass(frozen=True)
class Problem:
    host: str
    variable: str
    what: str  # "is not set", or what is wrong with the value
    role: str
    controls: tuple[str, ...]  # controls that cannot be judged on this host because of it
    fix: str  # where to set or correct it

    def line(self) -> str:
        needed = (
            f"needed by {', '.join(self.controls)}"
            if self.controls
            else "the audit's checks do not read it"
        )
        return f"{self.host}: {self.variable} {self.what} (role {self.role}; {needed}): {self.fix}"


@dataclass(frozen=True)
class Override:
    """A control's result on a host, decided by the inventory alone."""

    status: Status
    reason: str
    waiver: Waiver | None = None


@dataclass
class InventoryCheck:
    problems: list[Problem] = field(default_factory=list)
    overrides: dict[str, dict[str, Override]] = field(default_factory=dict)  # host -> control

    def lines(self) -> list[str]:
        return [p.line() for p in self.problems]


@dataclass(frozen=True)
class RoleSpec:
    role: str
    option: dict[str, Any]


def role_specs(roles: Path) -> dict[str, RoleSpec]:
    """Variable -> the role declaring it and its option spec (every role's ``main`` entry
    point); none when the roles are not beside the audit (an install outside the checkout)."""
    specs: dict[str, RoleSpec] = {}
    for path in sorted(roles.glob("*/meta/argument_specs.yml")):
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
            options = data["argument_specs"]["main"].get("options") or {}
            if not isinstance(options, dict):
                raise TypeError("options is not a mapping")
        except (OSError, UnicodeDecodeError, yaml.YAMLError, LookupError, TypeError) as exc:
            detail = " ".join(str(exc).split())[:200]
            raise BadInputError(f"{path}: not a usable argument spec ({detail})") from exc
        role = path.parent.parent.name
        for name, option in options.items():
            if isinstance(option, dict):
                specs.setdefault(str(name), RoleSpec(role, option))
    return specs


def wanted_variables(needs: Needs, specs: dict[str, RoleSpec]) -> frozenset[str]:
    """Every variable the check reads: the checks' reads, the roles' options, the toggles."""
    toggles = {TOGGLE.format(concern=c.concern) for c in controls().values()}
    return needs.variables | frozenset(specs) | frozenset(toggles)


def check_inventory(
    hosts: Iterable[Target],
    needs: Needs,
    specs: dict[str, RoleSpec],
    waivers: list[Waiver],
    today: date,
    inventory: str,
) -> InventoryCheck:
    """Every host's problems and the results they decide; O(hosts): a value shared by many
    hosts (group_vars) is validated once."""
    base = Path(inventory) if Path(inventory).is_dir() else Path(inventory).parent
    out = InventoryCheck()
    verdicts: dict[tuple[str, str], str] = {}  # (variable, value as JSON) -> what is wrong

    def invalid(name: str, value: Any) -> str:
        key = (name, json.dumps(value, sort_keys=True, default=str))
        if key not in verdicts:
            verdicts[key] = _validate(name, value, specs[name].option)
        return verdicts[key]

    for target in hosts:
        _check_host(target, needs, specs, waivers, today, base, invalid, out)
    return out


def _check_host(
    target: Target,
    needs: Needs,
    specs: dict[str, RoleSpec],
    waivers: list[Waiver],
    today: date,
    base: Path,
    invalid: Callable[[str, Any], str],
    out: InventoryCheck,
) -> None:
    settings = target.settings
    family = "windows" if is_windows(target.vars) else "linux"
    mine = needs.for_family(family)
    wrong: dict[str, str] = {}  # variable -> what is wrong with it
    for need in mine:
        for name, given in need.required:
            if settings.get(name) in UNSET and (not given or settings.get(given) not in UNSET):
                wrong[name] = f"is not set (needed as {given} is set)" if given else "is not set"
    for name, value in settings.items():
        if name in specs and name not in wrong:
            message = invalid(name, value)
            if message:
                wrong[name] = message
    catalog = controls()
    for name, what in sorted(wrong.items()):
        affected = sorted({n.control for n in mine if name in n.read})
        judged = []
        for control in affected:
            exempt = _exemption(target, control, catalog[control].concern, waivers, today, name)
            if exempt is None:
                judged.append(control)
            else:
                out.overrides.setdefault(target.name, {})[control] = exempt
        if what.startswith(NOT_SET) and not judged:
            continue  # every control needing it is waived or switched off on this host
        problem = Problem(
            target.name,
            name,
            what,
            specs[name].role if name in specs else _concerns(affected, catalog),
            tuple(judged),
            _fix(base, target.name, what),
        )
        out.problems.append(problem)
        for control in judged:
            out.overrides.setdefault(target.name, {})[control] = Override(
                Status.ERROR, f"inventory: {problem.line()}"
            )


def _concerns(affected: list[str], catalog: dict[str, Any]) -> str:
    return "/".join(sorted({catalog[c].concern for c in affected})) or "?"


def _fix(base: Path, host: str, what: str) -> str:
    places = f"{base}/group_vars/<group>.yml or {base}/host_vars/{host}.yml"
    return (
        f"set it in {places}" if what == "is not set" else f"correct it where it is set ({places})"
    )


def _exemption(
    target: Target, control: str, concern: str, waivers: list[Waiver], today: date, name: str
) -> Override | None:
    toggle = TOGGLE.format(concern=concern)
    if toggle in target.settings and not _true(target.settings[toggle]):
        return Override(
            Status.NOT_APPLICABLE,
            f"not applicable: {toggle} is false for this host and the inventory's {name} "
            "cannot be used, so the control is not judged",
        )
    waiver = find(waivers, control, target.name, set(target.groups))
    if waiver is not None and not waiver.expired(today):
        return Override(
            Status.WAIVED,
            f"waived until {waiver.expires} ({waiver.risk_analysis}, approved by "
            f"{waiver.approver}): {waiver.reason}; not judged: the inventory's {name} "
            "cannot be used",
            waiver,
        )
    return None


def _true(value: Any) -> bool:
    from ansible.module_utils.parsing.convert_bool import boolean

    try:
        return bool(boolean(value, strict=False))
    except TypeError:
        return True


def _validate(name: str, value: Any, option: dict[str, Any]) -> str:
    """Ansible's own verdict on one variable's value, as the role's argument spec has it."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    result = ArgumentSpecValidator({name: option}).validate({name: value})
    text = "; ".join(" ".join(str(m).split()) for m in result.error_messages)
    for secret in sorted(_no_log_values(value, option), key=len, reverse=True):
        text = text.replace(secret, "********")  # a key's content never reaches a line
    return f"is not valid: {text[:300]}" if text else ""


def _no_log_values(value: Any, option: dict[str, Any]) -> set[str]:
    """The values of the options the spec marks ``no_log``, list elements' options included."""
    found = {str(value)} if option.get("no_log") and value not in UNSET else set()
    suboptions = option.get("options") or {}
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            for key, sub in suboptions.items():
                if key in item and isinstance(sub, dict):
                    found |= _no_log_values(item[key], sub)
    return found


# A host that could not be read keeps that cause on every control: it is what stops the audit
# there (the gate reads it), and the inventory's line was printed before the run.
_HOST_UNREAD = {
    ErrorKind.UNREACHABLE,
    ErrorKind.HOST_KEY,
    ErrorKind.AUTH,
    ErrorKind.TIMEOUT,
    ErrorKind.PROTOCOL,
}


def apply_inventory(results: list[Result], overrides: dict[str, Override]) -> None:
    """Replace the results the inventory decided (in place), unless the host was not read."""
    for r in results:
        decided = overrides.get(r.control)
        if decided is None or (r.status is Status.ERROR and r.error_kind in _HOST_UNREAD):
            continue
        r.status, r.reason, r.evidence = decided.status, decided.reason, []
        r.error_kind = ErrorKind.CONFIG if decided.status is Status.ERROR else ""
        r.waiver = {**decided.waiver.as_json(), "expired": False} if decided.waiver else {}


def wanted_by_check(roles: Path) -> frozenset[str]:
    return wanted_variables(suite_needs(), role_specs(roles))


def variable_problems(
    name: str,
    variables: dict[str, Any],
    groups: Iterable[str],
    roles: Path,
    waivers: list[Waiver],
    today: date,
    inventory: str,
) -> list[str]:
    """One host's problem lines from its variables as a play sees them (the playbook's check,
    plugins/action/driftvakt_inventory_check.py): the same rules as the audit's."""
    needs, specs = suite_needs(), role_specs(roles)
    wanted = wanted_by_check(roles)
    connection: dict[str, Any] = {
        k: variables[k] for k in ("ansible_connection", "ansible_os_family") if k in variables
    }
    target = Target(
        name, "", 0, None, None, str(connection.get("ansible_connection") or "ssh"), False, "",
        None, connection.get("ansible_os_family"), connection, tuple(groups),
        {k: v for k, v in variables.items() if k in wanted},
    )  # fmt: skip
    return check_inventory([target], needs, specs, waivers, today, inventory).lines()
