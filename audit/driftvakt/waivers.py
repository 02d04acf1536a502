"""Waivers: documented, approved, time-limited exceptions (RSK-NET-01: any override of a
protection needs a documented risk analysis).

A waived result is ``waived``, never ``pass``; an expired waiver stops counting and the result
says so; a malformed waiver file is an error naming the file and line, never ignored.

```yaml
waivers:
  - control: auditd_running
    hosts: [lab]                 # host names, groups or Ansible patterns
    reason: "containers get no kernel audit socket"
    risk_analysis: "RA-2026-014"
    approver: "Anna Andersson, CISO"
    expires: 2027-06-30
```
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import yaml

from driftvakt.errors import BadInputError

REQUIRED = ("control", "hosts", "reason", "risk_analysis", "approver", "expires")


@dataclass(frozen=True)
class Waiver:
    control: str
    hosts: tuple[str, ...]
    reason: str
    risk_analysis: str
    approver: str
    expires: dt.date
    source: str  # file:line, for reports

    def covers(self, host: str, groups: set[str]) -> bool:
        return any(p == "all" or p in groups or fnmatch(host, p) for p in self.hosts)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def as_json(self) -> dict[str, str]:
        """The waiver as a result carries it (``waiver``), for reports and machines."""
        return {
            "source": self.source,
            "reason": self.reason,
            "risk_analysis": self.risk_analysis,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
        }


def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


STR_TAG = "tag:yaml.org,2002:str"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def load(path: Path, known_controls: set[str]) -> list[Waiver]:
    """Parse and validate a waiver file; every problem is a BadInputError naming file:line.

    Validation walks YAML's node tree rather than the loaded data, so that every message can
    name the line, a key given twice is caught (a loaded mapping silently keeps the last one:
    a second ``hosts: ["*"]`` would waive the control everywhere), and a value's type is judged
    as written (``hosts: 5`` is a number, ``"5"`` a host name).
    """
    try:
        text = path.read_bytes().decode("utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise BadInputError(f"waivers {path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(
            f"waivers {path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        problem = " ".join(str(exc.problem or exc.context or "unreadable").split())
        raise BadInputError(f"waivers {path}:{line}: not valid YAML ({problem})") from exc
    except yaml.YAMLError as exc:  # e.g. a control character: one line, whatever YAML says
        raise BadInputError(
            f"waivers {path}: not valid YAML ({' '.join(str(exc).split())})"
        ) from exc
    if root is None:
        return []
    top = _mapping(root, path) if isinstance(root, yaml.MappingNode) else None
    listed = top.get("waivers") if top else None
    if listed is None or not isinstance(listed, yaml.SequenceNode):
        raise BadInputError(
            f"waivers {_where(path, root)}: expected a mapping with a 'waivers' list"
        )
    return [_parse(node, path, known_controls) for node in listed.value]


def _mapping(node: yaml.MappingNode, path: Path) -> dict[str, yaml.Node]:
    """A mapping node's keys and value nodes; a key given twice or a non-text key is an error."""
    fields: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != STR_TAG:
            raise BadInputError(f"waivers {_where(path, key)}: field names must be text")
        if key.value in fields:
            raise BadInputError(f"waivers {_where(path, key)}: {key.value!r} is given twice")
        fields[key.value] = value
    return fields


def _text(fields: dict[str, yaml.Node], name: str, where: str) -> str:
    node = fields[name]
    if not isinstance(node, yaml.ScalarNode) or node.tag != STR_TAG or not node.value.strip():
        raise BadInputError(f"waivers {where}: {name} must be text")
    return str(node.value)


def _hosts(node: yaml.Node, where: str) -> tuple[str, ...]:
    items = [node] if isinstance(node, yaml.ScalarNode) else getattr(node, "value", None)
    if not isinstance(items, list) or not items:
        raise BadInputError(f"waivers {where}: hosts must be a host, group or pattern, or a list")
    names: list[str] = []
    for item in items:
        if not isinstance(item, yaml.ScalarNode) or item.tag != STR_TAG or not item.value.strip():
            raise BadInputError(
                f"waivers {where}: hosts must be host names, groups or patterns (text), "
                f"not {getattr(item, 'value', item)!r}"
            )
        names.append(str(item.value))
    return tuple(names)


def _expiry(node: yaml.Node, where: str) -> dt.date:
    problem = f"waivers {where}: expires must be a date (YYYY-MM-DD)"
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value.strip()):
        raise BadInputError(f"{problem}, not {value!r}" if isinstance(value, str) else problem)
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadInputError(f"{problem}; {value.strip()} is no such day") from exc


def _parse(node: yaml.Node, path: Path, known: set[str]) -> Waiver:
    where = _where(path, node)
    if not isinstance(node, yaml.MappingNode):
        raise BadInputError(f"waivers {where}: each waiver must be a mapping")
    fields = _mapping(node, path)
    missing = [key for key in REQUIRED if key not in fields]
    if missing:
        raise BadInputError(f"waivers {where}: missing {', '.join(missing)}")
    unknown = sorted(set(fields) - set(REQUIRED))
    if unknown:
        raise BadInputError(f"waivers {where}: unknown field(s) {', '.join(unknown)}")
    control = _text(fields, "control", where)
    if control not in known:
        raise BadInputError(f"waivers {where}: unknown control {control!r}")
    return Waiver(
        control,
        _hosts(fields["hosts"], where),
        _text(fields, "reason", where),
        _text(fields, "risk_analysis", where),
        _text(fields, "approver", where),
        _expiry(fields["expires"], where),
        where,
    )


def default_path(inventory: str) -> Path:
    """Beside the inventory: ``<folder>.waivers.yml`` for an inventory folder (a file inside it
    would be read by Ansible as an inventory source), ``waivers.yml`` next to an inventory file."""
    inv = Path(inventory.rstrip("/"))
    return inv.with_name(inv.name + ".waivers.yml") if inv.is_dir() else inv.parent / "waivers.yml"


def find(waivers: list[Waiver], control: str, host: str, groups: set[str]) -> Waiver | None:
    return next((w for w in waivers if w.control == control and w.covers(host, groups)), None)
