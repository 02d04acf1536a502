"""The firewall check's one read of a host: which firewall runs, and its whole state.

One command reads everything both firewall checks need, whichever backend runs, so an audit
needs a single round trip per host.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        " echo '## policies'; firewall-cmd --list-all-policies 2>&1; fi",
        # The kernel's own ruleset, whichever manager runs: a manager's view is not proof.
        "echo '## nft'; nft -j list ruleset 2>&1; echo \"## nft-rc $?\"",
    ]
)


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


def parse_state(text: str) -> FirewallState:
    units: dict[str, Unit] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## unit "):
            name, *states = line[len("## unit ") :].split()
            units[name] = Unit(*[*states, "", ""][:2])
            current = None
        elif line.startswith("## nft-rc "):
            sections["nft-rc"] = [line.split()[-1]]
            current = None
        elif line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    for name in ("firewalld", "nftables"):
        units.setdefault(name, Unit("", ""))
    return FirewallState(units, {k: "\n".join(v) for k, v in sections.items()})
