"""WinRM with pywinrm: one PowerShell run per host carries every command of a batch.

Settings come from the host's Ansible variables, as Ansible's winrm connection reads them:
``ansible_winrm_transport`` (ntlm, kerberos, credssp, basic, certificate; default ntlm),
``ansible_winrm_scheme``/``ansible_port`` (default https on 5986),
``ansible_winrm_server_cert_validation`` (default ``validate``; ``ignore`` is honoured but
logged as a warning for every host), ``ansible_winrm_ca_trust_path``,
``ansible_winrm_read_timeout_sec``/``ansible_winrm_operation_timeout_sec``,
``ansible_winrm_message_encryption``, for ``certificate`` the client certificate and key
(``ansible_winrm_cert_pem``, ``ansible_winrm_cert_key_pem``) and for ``kerberos``
``ansible_winrm_kerberos_delegation``/``ansible_winrm_kerberos_hostname_override`` (Kerberos
uses the ticket cache: kinit, or a keytab through KRB5_CLIENT_KTNAME).

A batch is one remote process: ``powershell.exe -EncodedCommand`` with a tiny bootstrap that
reads a driver script from stdin (stdin has no command-line length limit), and the driver runs
each command as a script block and frames its exit code, stdout and stderr base64-encoded on one
line, exactly as the SSH batch does, so :func:`driftvakt.transport.batch.parse` reads both.
WS-Management needs several HTTP requests for that one process (create shell, command, send,
receive, signal, delete), all on one connection.
"""

from __future__ import annotations

import base64
import logging
import re
import time
import warnings
from typing import Any

import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from driftvakt.inventory import Target
from driftvakt.transport import (
    AuthError,
    HostConfigError,
    HostKeyError,
    Output,
    TimedOut,
    TransportError,
    Unreachable,
)
from driftvakt.transport.batch import MARK, BatchParseError, parse
from driftvakt.windows import expand

LOG = logging.getLogger(__name__)
TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")
UTF8 = 65001  # code page of the remote shell
COLLECT_BUDGET = 600.0  # seconds a whole batch may take (the update search can be slow)

# Reads the driver from stdin and runs it; passed as -EncodedCommand (UTF-16LE, base64).
_BOOTSTRAP = "$s = [Console]::In.ReadToEnd(); & ([scriptblock]::Create($s))"

_DRIVER = f"""\
$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'
function Invoke-DvCommand {{
    param([int]$Index, [string]$Encoded)
    $utf8 = New-Object System.Text.UTF8Encoding($false)
    $text = $utf8.GetString([Convert]::FromBase64String($Encoded))
    $out = New-Object System.Collections.Generic.List[string]
    $err = New-Object System.Collections.Generic.List[string]
    $rc = 0
    $global:LASTEXITCODE = 0
    try {{
        & ([scriptblock]::Create($text)) 2>&1 | ForEach-Object {{
            if ($_ -is [System.Management.Automation.ErrorRecord]) {{ $err.Add($_.ToString()) }}
            elseif ($_ -is [string]) {{ $out.Add($_) }}
            else {{ $out.Add(($_ | Out-String).TrimEnd()) }}
        }}
        if ($global:LASTEXITCODE) {{ $rc = $global:LASTEXITCODE }}
    }} catch {{
        $err.Add($_.Exception.Message)
        $rc = 1
    }}
    $o = [Convert]::ToBase64String($utf8.GetBytes(($out -join "`n")))
    $e = [Convert]::ToBase64String($utf8.GetBytes(($err -join "`n")))
    [Console]::Out.Write("{MARK} $Index $rc $o $e`n")
}}
"""


def driver(commands: list[str]) -> str:
    """The PowerShell text sent on stdin: the driver, then one call per command (ASCII)."""
    lines = [_DRIVER]
    for index, command in enumerate(commands):
        body = base64.b64encode(expand(command).encode("utf-8")).decode("ascii")
        lines.append(f"Invoke-DvCommand {index} '{body}'")
    lines.append(f'[Console]::Out.Write("{MARK} end`n")')
    return "\n".join(lines) + "\n"


def bootstrap_arguments() -> list[str]:
    encoded = base64.b64encode(_BOOTSTRAP.encode("utf-16-le")).decode("ascii")
    return [
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-EncodedCommand",
        encoded,
    ]


PLAINTEXT_OPT_IN = "driftvakt_winrm_allow_plaintext_basic"


def _allowed(variables: dict[str, Any], name: str) -> bool:
    return str(variables.get(name, "")).strip().lower() in ("true", "yes", "1", "on")


def _first(value: Any, default: str) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    text = str(value or default).split(",")[0].strip().lower()
    return text or default


class WinRmTransport:
    def __init__(self, target: Target, timeout: float = 20, password: str | None = None) -> None:
        self.target = target
        self.timeout = timeout
        v = target.vars
        self.auth = _first(v.get("ansible_winrm_transport"), "ntlm")
        explicit_port = v.get("ansible_port") or v.get("ansible_winrm_port")
        self.scheme = _first(
            v.get("ansible_winrm_scheme"), "http" if str(explicit_port) == "5985" else "https"
        )
        self.port = int(explicit_port or (5986 if self.scheme == "https" else 5985))
        if self.auth == "basic" and self.scheme == "http" and not _allowed(v, PLAINTEXT_OPT_IN):
            # Basic sends the password base64-encoded: over HTTP anyone on the path reads it.
            raise HostConfigError(
                f"{target.name}: WinRM basic authentication over HTTP would send the password "
                f"in clear; use https (port 5986) or another transport, or set "
                f"{PLAINTEXT_OPT_IN}: true for this host if you accept that risk"
            )
        self.path = str(v.get("ansible_winrm_path") or "/wsman")
        self.user = target.user or v.get("ansible_winrm_user")
        self._password = password
        self.cert_validation = _first(v.get("ansible_winrm_server_cert_validation"), "validate")
        self.ca_trust_path = str(v.get("ansible_winrm_ca_trust_path") or "legacy_requests")
        self.encryption = _first(v.get("ansible_winrm_message_encryption"), "auto")
        self.read_timeout = int(v.get("ansible_winrm_read_timeout_sec") or max(2, round(timeout)))
        operation = int(v.get("ansible_winrm_operation_timeout_sec") or self.read_timeout - 1)
        self.operation_timeout = max(1, min(operation, self.read_timeout - 1))
        self.budget = float(v.get("driftvakt_winrm_batch_timeout") or COLLECT_BUDGET + timeout)
        self.auth_options = _auth_options(target.name, self.auth, v)
        self._protocol: Protocol | None = None
        self._shell: str | None = None

    @property
    def where(self) -> str:
        return f"{self.target.address}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.target.address}:{self.port}{self.path}"

    def _error(self, exc: BaseException) -> TransportError:
        """One actionable line for anything pywinrm or requests raised."""
        name, where = self.target.name, self.where
        if isinstance(exc, InvalidCredentialsError):
            return AuthError(
                f"authentication failed for {self.user or '(no user)'}@{where} ({self.auth}): "
                "check ansible_user/ansible_password"
            )
        if isinstance(exc, WSManFaultError):
            code = f" (WS-Management code {exc.wsman_fault_code})" if exc.wsman_fault_code else ""
            return TransportError(f"{name}: WS-Management fault: {exc.reason.strip()}{code}")
        if isinstance(exc, requests.exceptions.SSLError):
            detail = re.search(r"certificate verify failed: ([^(')\"]+)", str(exc))
            reason = detail.group(1).strip() if detail else _short(exc)
            return HostKeyError(
                f"certificate of {name} ({where}) does not match/verify: {reason}; give the "
                "region's CA in ansible_winrm_ca_trust_path (validation stays on)"
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return Unreachable(f"{name}: no answer within {self.read_timeout}s from {where}")
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return TimedOut(f"{name}: no answer within {self.read_timeout}s from {where}")
        if isinstance(exc, TimeoutError):
            return TimedOut(f"{name}: no answer within {exc.args[0] if exc.args else '?'}s")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return Unreachable(f"{name}: unreachable at {where} over WinRM ({_short(exc)})")
        if isinstance(exc, WinRMTransportError):
            return TransportError(
                f"{name}: WinRM at {self.endpoint} answered HTTP {exc.code}: {exc.message[:120]}"
            )
        if isinstance(exc, WinRMError | ValueError):
            return TransportError(f"{name}: WinRM ({self.auth}) to {where}: {_short(exc)}")
        return TransportError(f"{name}: WinRM to {where} failed: {_short(exc)}")

    def connect(self) -> None:
        if self._shell is not None:
            return
        if self.cert_validation == "ignore":
            LOG.warning(
                "%s: the WinRM server certificate is NOT validated "
                "(ansible_winrm_server_cert_validation: ignore)",
                self.target.name,
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning: logged above
                protocol = Protocol(
                    self.endpoint,
                    transport=self.auth,  # type: ignore[arg-type]
                    username=self.user,
                    password=self._password,
                    server_cert_validation=self.cert_validation,  # type: ignore[arg-type]
                    ca_trust_path=self.ca_trust_path,
                    read_timeout_sec=self.read_timeout,
                    operation_timeout_sec=self.operation_timeout,
                    message_encryption=self.encryption,  # type: ignore[arg-type]
                    **self.auth_options,
                )
                self._shell = protocol.open_shell(codepage=UTF8, noprofile=True)
        except Exception as exc:
            raise self._error(exc) from exc
        self._protocol = protocol

    def run_batch(self, commands: list[str]) -> dict[str, Output]:
        if not commands:
            return {}
        self.connect()
        assert self._protocol is not None and self._shell is not None
        protocol, shell = self._protocol, self._shell
        stdout: list[bytes] = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # The driver streams in on stdin: console mode off, as ansible-core's winrm
                # connection does when it sends stdin (console_mode_stdin=(stdin_iterator is None)).
                command = protocol.run_command(
                    shell, "powershell.exe", bootstrap_arguments(), console_mode_stdin=False
                )
                protocol.send_command_input(
                    shell, command, driver(commands).encode("ascii"), end=True
                )
                deadline = time.monotonic() + self.budget
                done = False
                while not done:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{self.budget:.0f}")
                    try:
                        out, _, _, done = protocol.get_command_output_raw(shell, command)
                    except WinRMOperationTimeoutError:
                        continue  # the command is still running: ask again
                    stdout.append(out)
                protocol.cleanup_command(shell, command)
        except Exception as exc:
            raise self._error(exc) from exc
        try:
            return parse(commands, b"".join(stdout))
        except BatchParseError as exc:
            raise TransportError(
                f"{self.target.name}: the WinRM batch was cut short ({exc})"
            ) from exc

    def close(self) -> None:
        protocol, shell = self._protocol, self._shell
        self._protocol = self._shell = None
        if protocol is not None and shell is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    protocol.close_shell(shell)
            except Exception as exc:  # closing is best effort; the results are in
                LOG.debug("%s: closing the WinRM shell failed: %s", self.target.name, exc)


def _auth_options(name: str, auth: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The pywinrm arguments an authentication needs beyond user and password, from the same
    ansible_winrm_* variables Ansible's winrm connection passes on."""
    if auth == "certificate":
        cert, key = (
            variables.get("ansible_winrm_cert_pem"),
            variables.get("ansible_winrm_cert_key_pem"),
        )
        if not cert or not key:
            raise HostConfigError(
                f"{name}: WinRM certificate authentication needs ansible_winrm_cert_pem and "
                "ansible_winrm_cert_key_pem (the client certificate and its key, PEM files)"
            )
        return {"cert_pem": str(cert), "cert_key_pem": str(key)}
    if auth == "kerberos":
        options: dict[str, Any] = {
            "kerberos_delegation": _allowed(variables, "ansible_winrm_kerberos_delegation")
        }
        if override := variables.get("ansible_winrm_kerberos_hostname_override"):
            options["kerberos_hostname_override"] = str(override)
        return options
    return {}


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    reason = re.search(r"\[Errno -?\d+\] ([^')\"]+)|(Connection refused|timed out)", text)
    if reason:
        return (reason.group(1) or reason.group(2)).strip()
    return text[:160] or type(exc).__name__
