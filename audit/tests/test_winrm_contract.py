"""Contract test of the WinRM transport against a local endpoint that answers like WinRM.

A tiny HTTPS server on 127.0.0.1 speaks just enough WS-Management SOAP for pywinrm (Create a
shell, Command, Send, Receive, Signal, Delete) and can misbehave on demand: 401 for wrong
credentials, a SOAP Fault, a hang, a certificate that does not verify or does not match. It
is not Windows: it proves our error mapping and framing, not Windows' behaviour.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import re
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from driftvakt.inventory import Target
from driftvakt.transport import TransportError
from driftvakt.transport.winrm import WinRmTransport
from driftvakt.windows import collect_command

USER, PASSWORD = "svc-audit", "correct horse"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
ENVELOPE = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
    "<s:Header><a:RelatesTo>{relates}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
)
FAULT = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"><s:Body><s:Fault>'
    "<s:Code><s:Value>s:Receiver</s:Value></s:Code>"
    '<s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. '
    "The maximum number of concurrent shells for this user has been exceeded.</s:Text></s:Reason>"
    '<s:Detail><f:WSManFault Code="2150859174" Machine="win01"/></s:Detail>'
    "</s:Fault></s:Body></s:Envelope>"
)
STATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"


class WinRmLike(BaseHTTPRequestHandler):
    mode = "ok"  # ok | fault | hang
    stdin: bytes = b""
    command: str = ""  # the last Command request, as sent

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        request = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.headers.get("Authorization") != BASIC:
            self._reply(401, "", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        if self.mode == "hang":
            time.sleep(4)
            return
        if self.mode == "fault":
            self._reply(500, FAULT)
            return
        action = re.search(r"<a:Action[^>]*>([^<]+)</a:Action>", request)
        message = re.search(r"<a:MessageID>([^<]+)</a:MessageID>", request)
        relates = message.group(1) if message else ""
        verb = action.group(1).rsplit("/", 1)[-1] if action else ""
        body = ""
        if verb == "Create":
            body = '<w:SelectorSet><w:Selector Name="ShellId">SHELL-1</w:Selector></w:SelectorSet>'
        elif verb == "Command":
            type(self).command = request
            body = "<rsp:CommandResponse><rsp:CommandId>CMD-1</rsp:CommandId></rsp:CommandResponse>"
        elif verb == "Send":
            stream = re.search(r"<rsp:Stream[^>]*>([^<]*)</rsp:Stream>", request)
            type(self).stdin += base64.b64decode(stream.group(1)) if stream else b""
        elif verb == "Receive":
            body = self._receive()
        self._reply(200, ENVELOPE.format(relates=relates, body=body))

    def _receive(self) -> str:
        """Run the driver 'remotely': answer each Invoke-DvCommand with a framed result."""
        lines = []
        for index, encoded in re.findall(
            r"^Invoke-DvCommand (\d+) '([^']*)'$", self.stdin.decode(), re.M
        ):
            text = base64.b64decode(encoded).decode()
            out = base64.b64encode(f"ran {len(text)} chars".encode()).decode()
            lines.append(f"@@driftvakt {index} 0 {out} ")
        lines.append("@@driftvakt end")
        out = base64.b64encode("\n".join(lines).encode() + b"\n").decode()
        return (
            f'<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="CMD-1">{out}</rsp:Stream>'
            f'<rsp:CommandState CommandId="CMD-1" State="{STATE}"><rsp:ExitCode>0</rsp:ExitCode>'
            "</rsp:CommandState></rsp:ReceiveResponse>"
        )


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "winrm.pem", folder / "winrm.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    cert, key = _certificate(tmp_path_factory.mktemp("winrm"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), WinRmLike)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert
    server.shutdown()


@pytest.fixture(autouse=True)
def _reset() -> None:
    WinRmLike.mode, WinRmLike.stdin, WinRmLike.command = "ok", b"", ""


def transport(
    port: int, address: str = "127.0.0.1", timeout: float = 2, **extra: Any
) -> WinRmTransport:
    hostvars = {
        "ansible_connection": "winrm",
        "ansible_winrm_transport": "basic",
        "ansible_port": port,
        **extra,
    }
    target = Target(
        name="win01",
        address=address,
        port=port,
        user=USER,
        private_key=None,
        connection="winrm",
        become=False,
        ssh_common_args="",
        known_hosts=None,
        os_family="Windows",
        vars=hostvars,
    )
    return WinRmTransport(target, timeout, hostvars.pop("password", PASSWORD))


def test_one_batch_runs_every_command_in_one_remote_process(endpoint: tuple[int, Path]) -> None:
    port, cert = endpoint
    t = transport(port, ansible_winrm_ca_trust_path=str(cert))
    try:
        out = t.run_batch([collect_command(), "Get-Date"])
    finally:
        t.close()
    assert set(out) == {collect_command(), "Get-Date"}
    assert out["Get-Date"].stdout == b"ran 8 chars"
    assert out[collect_command()].rc == 0
    # the collect command travelled as the whole script, not as its short name
    assert int(out[collect_command()].stdout.split()[1]) > 5000
    assert WinRmLike.stdin.isascii()


def test_wrong_credentials(endpoint: tuple[int, Path]) -> None:
    port, cert = endpoint
    t = transport(port, ansible_winrm_ca_trust_path=str(cert), password="wrong")  # noqa: S106
    with pytest.raises(TransportError) as err:
        t.connect()
    assert str(err.value) == (
        f"authentication failed for {USER}@127.0.0.1:{port} (basic): "
        "check ansible_user/ansible_password"
    )


def test_a_ws_management_fault_is_named(endpoint: tuple[int, Path]) -> None:
    port, cert = endpoint
    WinRmLike.mode = "fault"
    with pytest.raises(
        TransportError,
        match=r"^win01: WS-Management fault: The WS-Management "
        r"service cannot process.*exceeded\. \(WS-Management code 2150859174\)$",
    ):
        transport(port, ansible_winrm_ca_trust_path=str(cert)).connect()


def test_a_hang_ends_with_no_answer(endpoint: tuple[int, Path]) -> None:
    port, cert = endpoint
    WinRmLike.mode = "hang"
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"^win01: no answer within 2s from 127\.0\.0\.1:"):
        transport(port, ansible_winrm_ca_trust_path=str(cert)).connect()
    assert time.monotonic() - started < 4


def test_an_untrusted_certificate_is_refused(endpoint: tuple[int, Path]) -> None:
    port, _ = endpoint
    with pytest.raises(
        TransportError,
        match=r"^certificate of win01 \(127\.0\.0\.1:\d+\) does "
        r"not match/verify: self.signed certificate",
    ):
        transport(port).connect()


def test_a_certificate_for_another_name_is_refused(endpoint: tuple[int, Path]) -> None:
    port, cert = endpoint
    with pytest.raises(
        TransportError,
        match=r"^certificate of win01 \(localhost:\d+\) does not "
        r"match/verify: .*(mismatch|doesn't match|not valid)",
    ):
        transport(port, address="localhost", ansible_winrm_ca_trust_path=str(cert)).connect()


def test_ignoring_the_certificate_is_honoured_and_logged(
    endpoint: tuple[int, Path], caplog: pytest.LogCaptureFixture
) -> None:
    port, _ = endpoint
    t = transport(port, ansible_winrm_server_cert_validation="ignore")
    t.connect()
    t.close()
    assert "certificate is NOT validated" in caplog.text


def test_nothing_listening(endpoint: tuple[int, Path]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(TransportError, match=r"^win01: unreachable at 127\.0\.0\.1:\d+ over WinRM"):
        transport(free).connect()


def test_defaults_follow_ansible() -> None:
    target = Target("w", "192.0.2.9", 22, "u", None, "winrm", False, "", None, None, {})
    t = WinRmTransport(target, 20)
    assert (t.scheme, t.port, t.auth, t.cert_validation) == ("https", 5986, "ntlm", "validate")
    assert t.read_timeout > t.operation_timeout
    http = WinRmTransport(
        Target(
            "w",
            "192.0.2.9",
            5985,
            "u",
            None,
            "winrm",
            False,
            "",
            None,
            None,
            {"ansible_port": 5985},
        ),
        20,
    )
    assert (http.scheme, http.port) == ("http", 5985)


def _plain_http(**extra: Any) -> WinRmTransport:
    variables = {"ansible_port": 5985, "ansible_winrm_transport": "basic", **extra}
    target = Target("w", "192.0.2.9", 5985, "u", None, "winrm", False, "", None, None, variables)
    return WinRmTransport(target, 20, PASSWORD)


@pytest.mark.fault(
    "secrets",
    "WinRM basic authentication over HTTP",
    "that host `error` (config) unless it opts in",
)
def test_basic_auth_over_http_is_refused_unless_the_host_opts_in() -> None:
    # Basic over HTTP used to send the password in clear without a word.
    with pytest.raises(TransportError, match=r"^w: WinRM basic authentication over HTTP"):
        _plain_http()
    allowed = _plain_http(driftvakt_winrm_allow_plaintext_basic=True)
    assert (allowed.scheme, allowed.auth) == ("http", "basic")
    ntlm = _plain_http(ansible_winrm_transport="ntlm")  # NTLM over HTTP encrypts the messages
    assert ntlm.auth == "ntlm"


def test_the_driver_goes_through_stdin_with_console_mode_off(endpoint: tuple[int, Path]) -> None:
    """ansible-core's winrm connection runs a command whose stdin it streams with
    ``console_mode_stdin=(stdin_iterator is None)``, i.e. off; pywinrm's default is on."""
    import inspect

    from ansible.plugins.connection import winrm as ansible_winrm

    assert "console_mode_stdin=(stdin_iterator is None)" in inspect.getsource(ansible_winrm)
    port, cert = endpoint
    t = transport(port, ansible_winrm_ca_trust_path=str(cert))
    t.run_batch([collect_command()])
    t.close()
    option = re.search(r'Name="WINRS_CONSOLEMODE_STDIN">(\w+)<', WinRmLike.command)
    assert option and option.group(1) == "FALSE"


def _certificate_auth(**extra: Any) -> WinRmTransport:
    variables = {"ansible_winrm_transport": "certificate", **extra}
    target = Target("w", "192.0.2.9", 5986, None, None, "winrm", False, "", None, None, variables)
    return WinRmTransport(target, 20)


def test_certificate_authentication_passes_the_client_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It named the transport but never gave pywinrm the certificate files."""
    from driftvakt.transport import winrm as module

    seen: dict[str, Any] = {}

    def protocol(endpoint: str, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(module, "Protocol", protocol)
    t = _certificate_auth(
        ansible_winrm_cert_pem="/etc/driftvakt/audit.pem",
        ansible_winrm_cert_key_pem="/etc/driftvakt/audit.key",
    )
    with pytest.raises(TransportError):
        t.connect()
    assert (seen["transport"], seen["cert_pem"], seen["cert_key_pem"]) == (
        "certificate",
        "/etc/driftvakt/audit.pem",
        "/etc/driftvakt/audit.key",
    )


@pytest.mark.fault(
    "input",
    "WinRM certificate authentication without ansible_winrm_cert_pem/ansible_winrm_cert_key_pem",
    "that host `error` naming both variables (was: pywinrm asked to authenticate without them)",
)
def test_certificate_authentication_without_its_files_is_one_line() -> None:
    with pytest.raises(TransportError, match=r"^w: WinRM certificate authentication needs "):
        _certificate_auth(ansible_winrm_cert_pem="/etc/driftvakt/audit.pem")


def test_every_documented_authentication_is_installed() -> None:
    """pip install of the product brings what kerberos and credssp need (pywinrm's extras)."""
    import tomllib

    import winrm.transport

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pinned = [d for d in project["project"]["dependencies"] if d.startswith("pywinrm")]
    assert pinned and pinned[0].startswith("pywinrm[kerberos,credssp]")
    assert winrm.transport.HAVE_KERBEROS and winrm.transport.HAVE_CREDSSP
