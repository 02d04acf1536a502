"""One remote POSIX sh script that runs many commands and frames their results.

Each command runs in its own ``sh -c`` with stdin closed and a per-command timeout; its exit
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

# One scratch directory for the whole batch, and base64 only for non-empty output: each
# command then costs the host three processes (timeout, sh, base64) besides its own, not seven.
_PRELUDE = f"""\
dv_d=$(mktemp -d) || exit 97
trap 'rm -rf "$dv_d"' EXIT
dv_run() {{
  timeout "$3" sh -c "$1" >"$dv_d/o" 2>"$dv_d/e" </dev/null
  dv_rc=$?
  dv_o= dv_e=
  if [ -s "$dv_d/o" ]; then dv_o=$(base64 -w0 <"$dv_d/o"); fi
  if [ -s "$dv_d/e" ]; then dv_e=$(base64 -w0 <"$dv_d/e"); fi
  printf '{MARK} %s %s %s %s\\n' "$2" "$dv_rc" "$dv_o" "$dv_e"
}}
"""


def script(commands: list[str], per_command_timeout: int = 30) -> str:
    lines = [_PRELUDE]
    for index, command in enumerate(commands):
        lines.append(f"dv_run {shlex.quote(command)} {index} {per_command_timeout}")
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
        results[commands[index]] = Output(rc, out, err)
    if not complete:
        raise BatchParseError(f"the batch stopped after {len(results)} of {len(commands)} commands")
    return results
