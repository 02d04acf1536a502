"""Session lock: an idle interactive shell ends by itself (RST-6.2.6).

The check asks a real login shell (``bash -l``, as the connecting account) for its TMOUT and
whether it is read-only, so whatever profile file sets or unsets it, the effective value is
what counts. The longest allowed idle time is the inventory's ``session_lock_tmout`` when set,
else RST-6.2.6's 15 minutes. sshd's keep-alive is checked by ``ssh_idle_timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from . import windows_session_lock
from .windows_facts import windows_facts

MAX_IDLE_SECONDS = 900
# What a login shell reports: its TMOUT, then the `readonly -p` line for TMOUT if there is one.
PROBE = 'bash -lc \'printf "TMOUT=%s\\n" "${TMOUT-}"; readonly -p | grep " TMOUT="; true\''


@dataclass(frozen=True)
class ShellTimeout:
    seconds: int | None  # None: unset, empty or not a number
    readonly: bool
    raw: str


def parse_probe(output: str) -> ShellTimeout:
    """The probe's output: ``TMOUT=<value>`` and maybe ``declare -rx TMOUT="900"``."""
    raw, readonly = "", False
    for line in output.splitlines():
        if line.startswith("TMOUT="):
            raw = line.removeprefix("TMOUT=").strip()
        elif " TMOUT=" in line and line.split()[0] in ("declare", "readonly"):
            flags = line.split()[1] if line.startswith("declare") else "-r"
            readonly = "r" in flags
    seconds = int(raw) if raw.isdigit() else None
    return ShellTimeout(seconds, readonly, raw)


def problems(timeout: ShellTimeout, limit: int) -> list[str]:
    """Why this timeout does not end an idle shell within ``limit`` seconds (empty: it does)."""
    found = []
    if timeout.seconds is None or timeout.seconds == 0:
        found.append(f"TMOUT is {timeout.raw or 'unset'}: idle shells never end")
    elif timeout.seconds > limit:
        found.append(f"TMOUT is {timeout.seconds} s, longer than the allowed {limit} s")
    if not timeout.readonly:
        found.append("TMOUT is not read-only: a user can lift it")
    return found


@pytest.mark.control("session_shell_idle_timeout")
def test_idle_shells_end(host: Any, hostvars: dict[str, Any]) -> None:
    if host.system_info.type != "linux":
        pytest.skip(
            f"not applicable: shell TMOUT is checked on Linux, this is {host.system_info.type}"
        )
    if not host.exists("bash"):
        pytest.skip("not applicable: bash is not installed")
    limit = int(hostvars.get("session_lock_tmout") or MAX_IDLE_SECONDS)
    result = host.run(PROBE)
    assert result.rc == 0, f"a login shell failed (rc {result.rc}): {result.stderr.strip()}"
    timeout = parse_probe(result.stdout)
    found = problems(timeout, limit)
    assert not found, "; ".join(found) + f" (login shell of {host.user().name})"


# --- Windows Server (one collection per host, judged in windows_session_lock.py) ------------------


@pytest.mark.windows
@pytest.mark.control("win_session_lock")
def test_windows_session_lock(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_session_lock.judge_win_session_lock(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
