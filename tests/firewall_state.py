"""The firewall check's one read of a host: which firewall runs, and its whole state.

One command reads everything both firewall checks need, whichever backend runs, so an audit
needs a single round trip per host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Sections start with "## <name>" lines.
STATE_COMMAND = "; ".join(
    [
        "for u in firewalld nftables; do"
        ' echo "## unit $u $(systemctl is-active $u.service 2>/dev/null)'
        ' $(systemctl is-enabled $u.service 2>/dev/null)"; done',
        "if systemctl is-active --quiet firewalld.service; then"
        " echo '## default-zone'; firewall-cmd --get-default-zone 2>&1",
        " echo '## zones'; firewall-cmd --list-all-zones 2>&1",
        " echo '## permanent-zones'; firewall-cmd --permanent --list-all-zones 2>&1",
        " echo '## policies'; firewall-cmd --list-all-policies 2>&1",
        " echo '## permanent-policies'; firewall-cmd --permanent --list-all-policies 2>&1",
        # What nftables.service loads at the next boot or restart: the file its ExecStart names,
        # loaded into a throwaway network namespace (the live ruleset is untouched) and listed.
        "else f=$(systemctl show -p ExecStart nftables.service 2>/dev/null"
        " | sed -n 's/.*argv\\[\\]=[^;]* -f \\([^ ;]*\\).*/\\1/p')",
        " echo \"## nft-saved-path $f\"; echo '## nft-saved'",
        ' if [ -n "$f" ]; then'
        ' unshare --net sh -c \'nft -f "$1" && nft -j list ruleset\' - "$f" 2>&1;'
        ' echo "## nft-saved-rc $?"; fi; fi',
        # The kernel's own ruleset, whichever manager runs: a manager's view is not proof.
        "echo '## nft'; nft -j list ruleset 2>&1; echo \"## nft-rc $?\"",
    ]
)


# "## <name> <value>" lines carry one value rather than starting a section.
_VALUE_LINES = ("## nft-rc ", "## nft-saved-rc ", "## nft-saved-path ")


@dataclass(frozen=True)
class Unit:
    active: str  # systemctl is-active: active, inactive, failed, ...
    enabled: str  # systemctl is-enabled: enabled, disabled, masked, "" (no such unit)


@dataclass
class FirewallState:
    units: dict[str, Unit]
    sections: dict[str, str]

    @property
    def backend(self) -> str:
        """The firewall that actually runs: firewalld when its daemon is active, else nftables."""
        return "firewalld" if self.units["firewalld"].active == "active" else "nftables"

    def saved_ruleset(self) -> tuple[str, Any, str | None]:
        """(file, its ruleset as nft JSON, problem): what nftables.service loads at the next
        boot or restart, as the read loaded it into a throwaway network namespace."""
        path = self.sections.get("nft-saved-path", "")
        if not path:
            return "", None, "nftables.service names no ruleset file (`nft -f` in its ExecStart)"
        rc, text = self.sections.get("nft-saved-rc"), self.sections.get("nft-saved", "")
        if rc != "0":
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            return (
                path,
                None,
                f"the saved ruleset {path} does not load (rc {rc}: {first[:200] or 'no output'}):"
                " the next boot or restart of nftables.service leaves the host unfiltered",
            )
        try:
            return path, json.loads(text), None
        except ValueError:
            return path, None, f"the saved ruleset {path} could not be listed: {text.strip()[:200]}"


def parse_state(text: str) -> FirewallState:
    units: dict[str, Unit] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## unit "):
            name, *states = line[len("## unit ") :].split()
            units[name] = Unit(*[*states, "", ""][:2])
            current = None
        elif line.startswith(_VALUE_LINES):
            name, _, value = line[3:].partition(" ")
            sections[name] = [value.strip()]
            current = None
        elif line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    for name in ("firewalld", "nftables"):
        units.setdefault(name, Unit("", ""))
    return FirewallState(units, {k: "\n".join(v) for k, v in sections.items()})
