"""Can we reach a host? One SSH round trip, with the failure turned into an actionable line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from driftvakt.inventory import Target


def explain_ssh_failure(target: Target, stderr: str, known_hosts: str | None) -> str:
    """One actionable line for an ssh client failure (exit 255)."""
    text = stderr.strip()
    low = text.lower()
    where = f"{target.address}:{target.port}"
    store = known_hosts or "~/.ssh/known_hosts"
    if "remote host identification has changed" in low or (
        "host key for" in low and "changed" in low
    ):
        return (
            f"host key of {target.name} ({where}) has CHANGED since it was recorded in "
            f"{store}: possible man-in-the-middle. Verify the new key out of band before "
            f"replacing it; nothing was audited"
        )
    if "host key verification failed" in low or ("no " in low and "host key is known" in low):
        return (
            f"host key of {target.name} ({where}) is not in {store}: verify its fingerprint "
            f"and add it (strict host-key checking is on); nothing was audited"
        )
    if "permission denied" in low:
        return (
            f"authentication failed for {target.user or '(default user)'}@{where}: check "
            f"ansible_user and the private key for {target.name}"
        )
    if "connection refused" in low:
        return f"{target.name}: nothing accepts SSH on {where} (connection refused): is sshd up?"
    if "timed out" in low or "no route" in low or "unreachable" in low:
        detail = text.splitlines()[-1] if text else "timeout"
        return f"{target.name}: unreachable at {where} ({detail})"
    if "could not resolve" in low:
        return f"{target.name}: cannot resolve {target.address}: check ansible_host"
    last = text.splitlines()[-1] if text else "ssh exited 255 without a message"
    return f"{target.name}: SSH to {where} failed: {last}"


def probe(target: Target, ssh_config: Path, timeout: float) -> str | None:
    """None when the host answers; else the reason it cannot be audited."""
    if target.connection not in ("ssh", "smart", "paramiko", "paramiko_ssh"):
        return (
            f"{target.name}: ansible_connection={target.connection} is not supported by "
            f"this audit yet (SSH only)"
        )
    try:
        done = subprocess.run(
            ["ssh", "-F", str(ssh_config), target.name, "true"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"{target.name}: no answer from {target.address}:{target.port} within {timeout:.0f}s"
    if done.returncode == 0:
        return None
    return explain_ssh_failure(target, done.stderr, target.known_hosts or _known(target))


def _known(target: Target) -> str | None:
    from driftvakt.sshconfig import common_args_options

    return common_args_options(target.ssh_common_args).get("userknownhostsfile")
