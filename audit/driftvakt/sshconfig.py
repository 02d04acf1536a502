"""Read the OpenSSH options Ansible users put in ``ansible_ssh_common_args``.

The audit's own SSH transport honours the known_hosts file and a jump host given there, so a
host is reached the way ``ansible-playbook`` reaches it.
"""

from __future__ import annotations

import shlex

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
