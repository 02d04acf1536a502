"""Deliver a bundle to the driftpartner's SFTP drop with paramiko.

- The server's host key must already be in the given known_hosts file: an unknown host or a
  changed key is refused before anything is sent, and never retried or added.
- The bundle is written to a hidden temporary name in the target folder, its size checked, and
  only then renamed to its final name (SFTP rename never overwrites on OpenSSH), so nothing but
  a complete bundle ever appears under the final name.
- A dropped connection, a timeout or any other SSH/SFTP failure is retried with exponential
  backoff, on a fresh connection (earlier attempts' temporary files are removed). Host key,
  authentication, permission, missing folder and "already there" errors are not: retrying
  cannot fix them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import posixpath
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paramiko

from driftvakt.errors import BadInputError, DriftvaktError

KEY_PASSPHRASE_ENV = "DRIFTVAKT_SFTP_KEY_PASSPHRASE"  # noqa: S105 - the variable's name


class DeliveryError(DriftvaktError):
    """The bundle was not delivered (nothing is under the final name); one line saying why."""


class _Fatal(DeliveryError):
    """Not worth retrying."""


@dataclass(frozen=True)
class Target:
    user: str
    host: str
    port: int
    directory: str

    @property
    def destination(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True)
class Delivered:
    remote_path: str
    host_key: str
    attempts: int
    delivered_at: str


def parse_target(url: str) -> Target:
    parts = urlsplit(url)
    if parts.password is not None:
        raise BadInputError("--to: no password in the URL; authenticate with --ssh-key")
    try:
        port = parts.port or 22
    except ValueError as exc:
        raise BadInputError(f"--to {url!r}: the port is not a number") from exc
    if parts.scheme != "sftp" or not parts.hostname or not parts.username:
        raise BadInputError(f"--to {url!r}: use sftp://user@host[:port]/folder")
    return Target(unquote(parts.username), parts.hostname, port, unquote(parts.path) or ".")


def fingerprint(key: paramiko.PKey) -> str:
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise _Fatal(
            f"host {hostname} is not in {self.known_hosts} (it offers {fingerprint(key)}): "
            "nothing uploaded; confirm that fingerprint with the driftpartner, then add the key"
        )


def _load_key(path: Path) -> paramiko.PKey:
    passphrase = os.environ.get(KEY_PASSPHRASE_ENV, "").encode() or None
    try:
        return paramiko.PKey.from_path(path, passphrase)
    except (TypeError, paramiko.PasswordRequiredException) as exc:
        raise BadInputError(f"SSH key {path} is encrypted: set {KEY_PASSPHRASE_ENV}") from exc
    except (OSError, paramiko.SSHException, ValueError) as exc:
        # the type only: a key loader's message could quote key material
        raise BadInputError(
            f"cannot load SSH key {path}: not a private key, or a wrong passphrase "
            f"({type(exc).__name__})"
        ) from exc


def _connect(
    target: Target, key: paramiko.PKey, known_hosts: Path, timeout: float
) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(known_hosts))
    except OSError as exc:
        raise BadInputError(f"cannot read known_hosts {known_hosts}: {exc.strerror}") from exc
    client.set_missing_host_key_policy(_RefuseUnknown(known_hosts))
    try:
        client.connect(
            target.host,
            port=target.port,
            username=target.user,
            pkey=key,
            allow_agent=False,
            look_for_keys=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            channel_timeout=timeout,
        )
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise _Fatal(
            f"HOST KEY CHANGED for {target.host}:{target.port}: it offers "
            f"{fingerprint(exc.key)}, {known_hosts} has {fingerprint(exc.expected_key)} -- "
            "possibly a man-in-the-middle attack; nothing uploaded"
        ) from exc
    except paramiko.AuthenticationException as exc:
        client.close()
        raise _Fatal(
            f"{target.destination} refused the SSH key for user {target.user}: {exc}"
        ) from exc
    except BaseException:
        client.close()
        raise
    return client


def _transport(client: paramiko.SSHClient) -> paramiko.Transport:
    transport = client.get_transport()
    if transport is None:
        raise paramiko.SSHException("the SSH connection is closed")
    return transport


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _upload(
    sftp: paramiko.SFTPClient,
    bundle: Path,
    final: str,
    temporary: str,
    progress: Callable[[int, int], None] | None,
) -> None:
    folder = posixpath.dirname(final) or "."
    try:
        mode = sftp.stat(folder).st_mode or 0
    except FileNotFoundError as exc:
        raise _Fatal(f"remote folder {folder} does not exist") from exc
    if not stat.S_ISDIR(mode):
        raise _Fatal(f"remote {folder} is not a folder")
    if _exists(sftp, final):
        raise _Fatal(f"remote {final} already exists; not overwritten")
    size = bundle.stat().st_size
    try:
        with bundle.open("rb") as source:
            sftp.putfo(source, temporary, file_size=size, callback=progress, confirm=True)
        sftp.rename(temporary, final)
    except PermissionError as exc:
        raise _Fatal(f"permission denied writing to {folder}: ask the driftpartner") from exc


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    # not there (the usual case), not ours any more, or the connection is already gone
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        sftp.remove(path)


def deliver(
    bundle: Path,
    target: Target,
    *,
    ssh_key: Path,
    known_hosts: Path,
    attempts: int = 4,
    backoff: float = 1.0,
    timeout: float = 20.0,
    say: Callable[[str], None] = lambda _: None,
    progress: Callable[[int, int], None] | None = None,
) -> Delivered:
    """Upload ``bundle`` into ``target.directory``; retried as the module docstring says."""
    if attempts < 1:
        raise BadInputError("--attempts must be at least 1")
    key = _load_key(ssh_key)
    final = posixpath.join(target.directory, bundle.name)
    leftovers: list[str] = []
    for attempt in range(1, attempts + 1):
        temporary = posixpath.join(target.directory, f".{bundle.name}.{secrets.token_hex(4)}.part")
        client: paramiko.SSHClient | None = None
        delivered: Delivered | None = None
        try:
            client = _connect(target, key, known_hosts, timeout)
            host_key = fingerprint(_transport(client).get_remote_server_key())
            with client.open_sftp() as sftp:
                channel = sftp.get_channel()
                if channel is not None:  # a stalled server times out (and is retried)
                    channel.settimeout(timeout)
                for old in leftovers:
                    _remove_quietly(sftp, old)
                leftovers.append(temporary)
                try:
                    _upload(sftp, bundle, final, temporary, progress)
                except BaseException:
                    _remove_quietly(sftp, temporary)
                    raise
                now = datetime.now(UTC).isoformat(timespec="seconds")
                delivered = Delivered(final, host_key, attempt, now)
            return delivered
        except _Fatal:
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if delivered is not None:  # renamed into place; only closing the session failed
                return delivered
            if isinstance(exc, PermissionError | FileNotFoundError):
                # the SFTP server said no; asking again cannot change that
                raise DeliveryError(f"{target.destination}: {final}: {exc}") from exc
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            if attempt == attempts:
                raise DeliveryError(
                    f"{target.destination}: delivery failed after {attempts} attempt(s), "
                    f"last: {reason}; nothing under {final}"
                ) from exc
            delay = backoff * 2 ** (attempt - 1)
            say(f"attempt {attempt} failed ({reason}); retrying in {delay:g}s")
            time.sleep(delay)
        finally:
            if client is not None:
                client.close()
    raise AssertionError("unreachable")
