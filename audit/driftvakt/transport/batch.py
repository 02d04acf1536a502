"""One remote POSIX sh script that runs many commands and frames their results.

Each command runs in its own ``/bin/sh -c`` with stdin closed and a per-command timeout; its exit
code, stdout and stderr come back base64-framed on one line, so any output (binary, newlines,
our own markers) survives. Only POSIX sh, coreutils' ``base64`` and ``timeout`` are needed —
present on RHEL, SLES and Debian alike.
"""

from __future__ import annotations

import base64
import binascii
import shlex

from driftvakt.transport import Output

MARK = "@@driftvakt"

# One scratch directory per lane, and base64 only for non-empty output: each command costs the
# host three processes (timeout, sh, base64) besides its own. A lane's results are collected in
# its own file and printed once every lane is done.
_PRELUDE = f"""\
dv_d=$(mktemp -d) || exit 97
trap 'rm -rf "$dv_d"' EXIT
dv_run() {{
  timeout "$3" /bin/sh -c "$1" >"$4/o" 2>"$4/e" </dev/null
  dv_rc=$?
  dv_o= dv_e=
  if [ -s "$4/o" ]; then dv_o=$(base64 -w0 <"$4/o"); fi
  if [ -s "$4/e" ]; then dv_e=$(base64 -w0 <"$4/e"); fi
  printf '{MARK} %s %s %s %s\\n' "$2" "$dv_rc" "$dv_o" "$dv_e"
}}
"""
# Reads run in a few lanes at once: the host's wall time is then set by its slowest reads, not
# their sum (most are waits on systemd, dpkg/rpm databases or a Python start-up). Reads only
# read, so their order does not matter; each keeps its own timeout.
LANES = 4


# testinfra's form of a command run as root (BaseBackend.get_sudo_command without a user).
SUDO_PREFIX = "sudo /bin/sh -c "


def as_root(command: str) -> str:
    """The command to run inside a batch that already runs as root.

    testinfra's own ``sudo /bin/sh -c CMD`` wrappers (nested when a check uses
    ``host.sudo()`` on a host audited with sudo) are dropped down to CMD, which the batch runs
    in ``/bin/sh -c`` as root with the environment sudo gave the batch: the host pays for sudo once
    per batch instead of once or twice per command. Any other command is left as it is.
    """
    while command.startswith(SUDO_PREFIX):
        words = shlex.split(command)
        if len(words) != 4 or words[:3] != ["sudo", "/bin/sh", "-c"]:
            break
        command = words[3]
    return command


def script(
    commands: list[str],
    per_command_timeout: int = 30,
    *,
    as_root_already: bool = False,
    lanes: int = LANES,
) -> str:
    lines = [_PRELUDE]
    count = max(1, min(lanes, len(commands)))
    for lane in range(count):
        lines.append(f'mkdir "$dv_d/{lane}" && (')
        for index in range(lane, len(commands), count):
            command = as_root(commands[index]) if as_root_already else commands[index]
            lines.append(
                f'  dv_run {shlex.quote(command)} {index} {per_command_timeout} "$dv_d/{lane}"'
            )
        lines.append(f'  :\n) >"$dv_d/{lane}.out" &')
    lines.append("wait")
    lines.append(" ".join(["cat", *(f'"$dv_d/{lane}.out"' for lane in range(count))]))
    lines.append(f"printf '{MARK} end\\n'")
    return "\n".join(lines) + "\n"


class BatchParseError(ValueError):
    pass


def parse(commands: list[str], stdout: bytes) -> dict[str, Output]:
    """Map commands to outputs; a batch cut short (host died) raises BatchParseError."""
    results: dict[str, Output] = {}
    complete = False
    for raw in stdout.decode("ascii", errors="replace").splitlines():
        if not raw.startswith(MARK + " "):
            continue
        fields = raw.split(" ")
        if fields[1:] == ["end"]:
            complete = True
            continue
        if len(fields) != 5:
            raise BatchParseError(f"malformed result line: {raw[:80]}")
        try:
            index, rc = int(fields[1]), int(fields[2])
            out, err = base64.b64decode(fields[3]), base64.b64decode(fields[4])
        except (ValueError, binascii.Error) as exc:
            raise BatchParseError(f"malformed result line: {raw[:80]}") from exc
        if not 0 <= index < len(commands):  # a negative index would name another command
            raise BatchParseError(f"result for command {index} of {len(commands)}: {raw[:80]}")
        results[commands[index]] = Output(rc, out, err)
    if not complete:
        raise BatchParseError(f"the batch stopped after {len(results)} of {len(commands)} commands")
    return results
