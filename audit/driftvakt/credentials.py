"""The inventory variables that carry secrets, under every name Ansible accepts for them.

Ansible reads a connection's password from several aliases (``ansible_ssh_pass``,
``ansible_ssh_password``, ``ansible_winrm_pass`` …); an inventory written for Ansible works for
the audit only if the audit reads the same names, and a secret is kept out of every result only
if every alias is known. Where several aliases are set, the most specific (last listed) wins,
as in Ansible's plugin options.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SSH_PASSWORD = (
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_paramiko_pass",
    "ansible_paramiko_password",
)
WINRM_PASSWORD = (
    "ansible_password",
    "ansible_winrm_pass",
    "ansible_winrm_password",
    "ansible_psrp_pass",
    "ansible_psrp_password",
)
BECOME_PASSWORD = ("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass")
KEY_PASSPHRASE = ("ansible_private_key_passphrase", "ansible_ssh_private_key_passphrase")
SECRET_VARS = tuple(dict.fromkeys(SSH_PASSWORD + WINRM_PASSWORD + BECOME_PASSWORD + KEY_PASSPHRASE))


def first_set(variables: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """The value of the most specific alias that is set, as text; None when none is."""
    for name in reversed(names):
        value = variables.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def secret_values(variables: Mapping[str, Any]) -> set[str]:
    return {str(variables[name]) for name in SECRET_VARS if variables.get(name) not in (None, "")}


# ``name=value`` (INI) or ``name: value`` (YAML) where the name says it holds a secret; quoted
# values may be unterminated, since this is for lines a parser has just refused.
_ASSIGNED_SECRET = re.compile(
    r"""(\b[\w.-]*(?:pass|secret|token)[\w.-]*\s*[=:]\s*)(?:"[^"]*"?|'[^']*'?|[^\s'"]+)""",
    re.IGNORECASE,
)


def mask_assigned_secrets(text: str) -> str:
    """Hide the values of secret-looking assignments in a line quoted back to the user."""
    return _ASSIGNED_SECRET.sub(r"\1[secret redacted]", text)
