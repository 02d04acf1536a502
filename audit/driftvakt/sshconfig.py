"""An OpenSSH client config for the audit, built from the targets' Ansible connection vars.

Host keys are verified (StrictHostKeyChecking yes) against the inventory's known_hosts file
(``-o UserKnownHostsFile=`` in ``ansible_ssh_common_args``) or the user's default one.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from driftvakt.inventory import Target

# ssh -o options we let through from ansible_ssh_common_args; anything weakening host-key
# checking is deliberately not among them.
PASSED_OPTIONS = {
    "userknownhostsfile",
    "proxyjump",
    "proxycommand",
    "hostkeyalgorithms",
    "kexalgorithms",
    "ciphers",
    "macs",
    "pubkeyacceptedalgorithms",
    "serveraliveinterval",
    "serveralivecountmax",
}


def common_args_options(args: str) -> dict[str, str]:
    """Parse ``-o Key=Value`` / ``-o 'Key Value'`` / ``-J jump`` from an ssh argument string."""
    options: dict[str, str] = {}
    words = shlex.split(args)
    for i, word in enumerate(words):
        value = None
        if word == "-o" and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith("-o") and len(word) > 2:
            value = word[2:]
        elif word == "-J" and i + 1 < len(words):
            options["proxyjump"] = words[i + 1]
        if value:
            key, _, val = value.replace("=", " ", 1).partition(" ")
            if key.lower() in PASSED_OPTIONS:
                options[key.lower()] = val.strip()
    return options


def render(targets: list[Target], timeout: int) -> str:
    blocks = []
    for t in targets:
        opts = common_args_options(t.ssh_common_args)
        if t.known_hosts:
            opts["userknownhostsfile"] = t.known_hosts
        lines = [
            f"Host {t.name}",
            f"  HostName {t.address}",
            f"  Port {t.port}",
            "  StrictHostKeyChecking yes",
            "  BatchMode yes",
            f"  ConnectTimeout {timeout}",
            "  ServerAliveInterval 5",
            "  ServerAliveCountMax 3",
            "  LogLevel ERROR",
        ]
        if t.user:
            lines.append(f"  User {t.user}")
        if t.private_key:
            lines += [f"  IdentityFile {t.private_key}", "  IdentitiesOnly yes"]
        lines += [f"  {key} {value}" for key, value in sorted(opts.items())]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write(targets: list[Target], folder: Path, timeout: int = 10) -> Path:
    path = folder / "ssh_config"
    path.write_text(render(targets, timeout))
    path.chmod(0o600)
    return path
