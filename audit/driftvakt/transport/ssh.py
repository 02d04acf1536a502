"""SSH with paramiko: one persistent connection per host, host keys verified, never added.

Host keys come from the inventory's ``UserKnownHostsFile`` (``ansible_ssh_common_args``) or the
user's ``~/.ssh/known_hosts``; an unknown key is refused and a changed key is named as a
possible man-in-the-middle, a key marked ``@revoked`` is refused. A single ``ProxyJump`` hop is
supported through a second paramiko connection, and a ``ProxyCommand`` (OpenSSH's %-tokens
expanded) as the connection's socket, so the audit takes the bastion path Ansible takes.

Just over 300 lines on purpose: every way an SSH connection fails is worded here, next to the
call that fails, so that each one is one actionable line of its own kind (``ErrorKind``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko

from driftvakt.inventory import Target
from driftvakt.sshconfig import common_args_options
from driftvakt.transport import (
    AuthError,
    HostConfigError,
    HostKeyError,
    Output,
    TimedOut,
    TransportError,
    Unreachable,
    known_hosts,
)
from driftvakt.transport.batch import MARK, BatchParseError, parse, script

# paramiko logs each failed handshake with a traceback (~20 lines per host, through logging's
# last-resort handler); every failure here becomes one line of the host's result instead.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def known_hosts_file(target: Target, options: dict[str, str] | None = None) -> Path:
    opts = common_args_options(target.ssh_common_args) if options is None else options
    chosen = target.known_hosts or opts.get("userknownhostsfile") or "~/.ssh/known_hosts"
    return Path(os.path.expanduser(chosen.split()[0]))


class RevokedHostKey(paramiko.SSHException):
    pass


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """paramiko's RejectPolicy, telling a revoked key apart from an unknown one."""

    def __init__(self, known: known_hosts.KnownHosts) -> None:
        self.known = known

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: Any) -> None:
        if self.known.is_revoked(key):
            raise RevokedHostKey(hostname)
        raise paramiko.SSHException(f"Server {hostname!r} not found in known_hosts")


class SshTransport:
    def __init__(
        self,
        target: Target,
        timeout: float = 20,
        password: str | None = None,
        passphrase: str | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self._password = password
        self._passphrase = passphrase  # of the private key
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False  # set by close(): no new socket is kept after it
        try:
            self.options = common_args_options(target.ssh_common_args)
        except ValueError as exc:
            raise HostConfigError(
                f"{target.name}: ansible_ssh_common_args cannot be read ({exc}); check its quoting"
            ) from None
        self.known_hosts_path = known_hosts_file(target, self.options)
        self._client: paramiko.SSHClient | None = None
        self._jump: paramiko.SSHClient | None = None

    def _new_client(self, host: str, port: int) -> paramiko.SSHClient:
        """A client that trusts only this host's recorded, unrevoked keys."""
        client = paramiko.SSHClient()
        path = self.known_hosts_path
        try:
            known = known_hosts.read(path)
        except FileNotFoundError as exc:
            raise HostKeyError(
                f"{self.target.name}: known_hosts file {path} does not exist; "
                "collect and verify the host keys first"
            ) from exc
        except OSError as exc:
            raise HostKeyError(
                f"{self.target.name}: cannot read known_hosts file {path} ({exc.strerror})"
            ) from exc
        name = host if port == 22 else f"[{host}]:{port}"  # as paramiko looks it up
        for key in known.keys_for(name):
            client.get_host_keys().add(name, key.get_name(), key)
        client.set_missing_host_key_policy(_RefuseUnknown(known))
        return client

    def _sock(self) -> Any:
        jump = self.options.get("proxyjump")
        command = self.options.get("proxycommand")
        if command and command.lower() != "none":
            if jump:
                raise HostConfigError(
                    f"{self.target.name}: ansible_ssh_common_args gives both ProxyJump and "
                    "ProxyCommand; give one, so the audit takes the same path as Ansible"
                )
            return self._proxy_command(command)
        if not jump:
            return None
        if "," in jump:
            raise HostConfigError(
                f"{self.target.name}: ProxyJump {jump!r} has several hops; the audit follows "
                "one (give the rest as that bastion's own ProxyJump, or use ProxyCommand)"
            )
        user, _, hostport = jump.rpartition("@")
        host, _, port = hostport.partition(":")
        if not host or not (port or "22").isdigit():
            raise HostConfigError(
                f"{self.target.name}: ProxyJump {jump!r} is not [user@]host[:port]"
            )
        self._jump = self._new_client(host, int(port or 22))
        self._connect(self._jump, host, int(port or 22), user or self.target.user, None)
        transport = self._jump.get_transport()
        assert transport is not None
        return transport.open_channel(
            "direct-tcpip", (self.target.address, self.target.port), ("127.0.0.1", 0)
        )

    def _proxy_command(self, command: str) -> paramiko.ProxyCommand:
        """The bastion command, with OpenSSH's %h %p %r %n %% tokens, as the host's socket."""
        t = self.target
        tokens = {"h": t.address, "p": str(t.port), "r": t.user or "", "n": t.name, "%": "%"}
        expanded = re.sub(r"%(.)", lambda m: tokens.get(m.group(1), m.group(0)), command)
        try:
            return paramiko.ProxyCommand(expanded)
        except paramiko.SSHException as exc:
            raise HostConfigError(f"{t.name}: ProxyCommand could not start ({exc})") from exc

    def _connect(
        self, client: paramiko.SSHClient, host: str, port: int, user: str | None, sock: Any
    ) -> None:
        t = self.target
        where = f"{host}:{port}"
        try:
            if sock is None:
                # Our own socket, so that close() can cut a connect in progress (Ctrl-C).
                sock = self._own(socket.create_connection((host, port), timeout=self.timeout))
            client.connect(
                host,
                port=port,
                username=user,
                key_filename=t.private_key,
                password=self._password,
                passphrase=self._passphrase,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
                sock=sock,
                allow_agent=True,
                look_for_keys=t.private_key is None,
            )
        except RevokedHostKey as exc:
            raise self._revoked(where) from exc
        except paramiko.BadHostKeyException as exc:
            if known_hosts.read(self.known_hosts_path).is_revoked(exc.key):
                raise self._revoked(where) from exc
            raise HostKeyError(
                f"host key of {t.name} ({where}) has CHANGED since it was recorded in "
                f"{self.known_hosts_path}: possible man-in-the-middle. Verify the new key out of "
                f"band before replacing it; nothing was audited"
            ) from exc
        except paramiko.AuthenticationException as exc:
            raise AuthError(
                f"authentication failed for {user or '(default user)'}@{where}: "
                f"check ansible_user and the private key for {t.name}"
            ) from exc
        except paramiko.SSHException as exc:
            started = client.get_transport()
            if started is not None and not started.remote_version:
                # TCP was accepted but no SSH banner came: to the gate, a host that is not there
                raise Unreachable(
                    f"{t.name}: unreachable at {where}: something accepts the connection but "
                    f"sends no SSH banner within {self.timeout:.0f}s (is sshd on this port?)"
                ) from exc
            if "not found in known_hosts" in str(exc):
                raise HostKeyError(
                    f"host key of {t.name} ({where}) is not in {self.known_hosts_path}: verify "
                    "its fingerprint and add it (strict host-key checking is on)"
                ) from exc
            raise TransportError(f"{t.name}: SSH to {where} failed: {exc}") from exc
        except ConnectionRefusedError as exc:
            raise Unreachable(
                f"{t.name}: unreachable at {where}: nothing accepts SSH there (connection "
                "refused): is sshd up?"
            ) from exc
        except TimeoutError as exc:
            raise Unreachable(
                f"{t.name}: no answer from {where} within {self.timeout:.0f}s"
            ) from exc
        except OSError as exc:
            raise Unreachable(f"{t.name}: unreachable at {where} ({exc.strerror or exc})") from exc

    def connect(self) -> None:
        if self._client is not None:
            return
        client = self._new_client(self.target.address, self.target.port)
        self._connect(client, self.target.address, self.target.port, self.target.user, self._sock())
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(5)
        self._client = client

    def run_batch(self, commands: list[str]) -> dict[str, Output]:
        if not commands:
            return {}
        self.connect()
        assert self._client is not None
        # With become, the whole batch runs under one sudo (-n: never wait for a password
        # prompt nobody answers); each command's own sudo wrapper is then dropped.
        elevated = self.target.become
        text = script(commands, as_root_already=elevated)
        channel = self._open_session()
        budget = self.timeout + 2 * len(commands)  # per-host ceiling: a hung host ends here
        try:
            channel.settimeout(budget)
            channel.exec_command("sudo -n sh -s" if elevated else "sh -s")
            stdin = channel.makefile_stdin("wb")
            stdout = channel.makefile("rb")
            stderr = channel.makefile_stderr("rb")
            stdin.write(text)
            stdin.channel.shutdown_write()
            data = stdout.read()
            complaint = stderr.read().decode(errors="replace").strip()
        except TimeoutError as exc:
            raise TimedOut(
                f"{self.target.name}: the host stopped answering (no result "
                f"within {budget:.0f}s); the rest of the fleet goes on"
            ) from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise self._lost(exc) from exc
        if elevated and MARK.encode() not in data and "sudo" in complaint:
            raise AuthError(
                f"{self.target.name}: could not become root with sudo as "
                f"{self.target.user or '(default user)'} ({complaint.splitlines()[-1]}): the "
                "audit needs passwordless sudo for ansible_user when ansible_become is on"
            )
        try:
            return parse(commands, data)
        except BatchParseError as exc:
            raise self._lost(exc) from exc

    def _revoked(self, where: str) -> TransportError:
        return HostKeyError(
            f"host key of {self.target.name} ({where}) is marked @revoked in "
            f"{self.known_hosts_path}: the host must get a new key, verified out of "
            "band; nothing was audited"
        )

    def _lost(self, exc: Exception) -> TransportError:
        return TransportError(
            f"{self.target.name}: connection lost during the audit ({exc or type(exc).__name__})"
        )

    def _open_session(self) -> paramiko.Channel:
        # The host sets up the login session (PAM, systemd-logind) when the first channel
        # opens, not during authentication: a stall there is a slow host, not a lost one, and
        # gets the same allowance as connecting.
        assert self._client is not None
        transport = self._client.get_transport()
        try:
            if transport is None:
                raise EOFError("no transport")
            return transport.open_session(timeout=self.timeout)
        except paramiko.SSHException as exc:
            if transport is None or not transport.is_active():  # it died while opening
                raise self._lost(exc) from exc
            if "Timeout opening channel" in str(exc):
                raise TimedOut(
                    f"{self.target.name}: logged in, but the host opened no session within "
                    f"{self.timeout:.0f}s (its PAM/systemd-logind session setup is stalled)"
                ) from exc
            raise TransportError(
                f"{self.target.name}: the host refused a session after login ({exc})"
            ) from exc
        except (OSError, EOFError) as exc:
            raise self._lost(exc) from exc

    def _own(self, sock: socket.socket) -> socket.socket:
        """Keep ``sock`` for close(); if close() came first (a race with Ctrl-C), end here."""
        with self._lock:
            if not self._closed:
                self._sockets.append(sock)
                return sock
        sock.close()
        raise TransportError(f"{self.target.name}: the audit was stopped while connecting")

    def close(self) -> None:
        """Also from another thread: cuts a connect or read in progress at once."""
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for client in (self._client, self._jump):
            if client is not None:
                client.close()
        self._client = self._jump = None
