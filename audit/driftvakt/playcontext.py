"""The connection context of an ``ansible-playbook`` run (its ``-u``, ``--become`` and
``--private-key``, as AWX passes them from a machine credential) applied to audit targets.

On the command line they are defaults: Ansible lets a host's inventory variables
(``ansible_user``, ``ansible_become``, ``ansible_ssh_private_key_file``) win over them, and so
does this. A key held by an ssh-agent (AWX's way) needs nothing here: the ssh transport
inherits ``SSH_AUTH_SOCK``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from driftvakt.inventory import Target


@dataclass(frozen=True)
class PlayContext:
    remote_user: str | None = None
    become: bool = False
    private_key: str | None = None

    def apply(self, hosts: list[Target]) -> list[Target]:
        return [self._applied(t) for t in hosts]

    def _applied(self, target: Target) -> Target:
        changes: dict[str, object] = {}
        if target.user is None and self.remote_user:
            changes["user"] = self.remote_user
        if target.private_key is None and self.private_key:
            changes["private_key"] = os.path.expanduser(self.private_key)
        if "ansible_become" not in target.vars and self.become:
            changes["become"] = True
        return dataclasses.replace(target, **changes) if changes else target  # type: ignore[arg-type]
