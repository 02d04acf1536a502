"""Ed25519 signing keys and minisign-compatible signatures (minisign's prehashed ``ED`` form).

A signature file, as ``minisign -V`` reads it::

    untrusted comment: <text>
    base64("ED" || key id (8 bytes) || Ed25519(secret key, BLAKE2b-512(message)))
    trusted comment: <text>
    base64(Ed25519(secret key, signature || trusted comment))

A public key file: an untrusted comment line, then base64("Ed" || key id || public key (32)).
(``Ed`` without prehashing is minisign's legacy signature form, which it refuses by default.)

The secret key is kept as PKCS#8 PEM, encrypted with the passphrase when there is one, not in
minisign's own secret key format (which needs 1 GiB of scrypt memory to open). The key id is
derived from the public key, so the secret key file alone is enough to sign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from driftvakt.errors import BadInputError, DriftvaktError

PUBLIC_ALG = b"Ed"
PREHASHED_ALG = b"ED"
UNTRUSTED_PREFIX = "untrusted comment: "
TRUSTED_PREFIX = "trusted comment: "
PASSPHRASE_ENV = "DRIFTVAKT_SIGNING_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


class SignatureError(DriftvaktError):
    """A signature or public key is malformed, or does not match: the message says which."""


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    key: bytes

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it (a little-endian 64-bit number in hex)."""
        return self.key_id[::-1].hex().upper()

    def text(self) -> str:
        blob = base64.b64encode(PUBLIC_ALG + self.key_id + self.key).decode()
        return f"{UNTRUSTED_PREFIX}minisign public key {self.key_id_hex}\n{blob}\n"


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: PublicKey


def _key_id(public: bytes) -> bytes:
    return hashlib.blake2b(b"driftvakt key id" + public, digest_size=8).digest()


def _public_of(private: Ed25519PrivateKey) -> PublicKey:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return PublicKey(_key_id(raw), raw)


def generate(path: Path, passphrase: bytes | None) -> PublicKey:
    """A new key: ``path`` (mode 0600, created so) and ``path.pub`` (minisign format)."""
    private = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public = _public_of(private)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise BadInputError(f"{path} already exists; not overwriting a signing key") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    pub = path.with_name(path.name + ".pub")
    pub.write_text(public.text())
    return public


def is_encrypted(path: Path) -> bool:
    return b"ENCRYPTED" in _read_private(path)


def _read_private(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(
            f"cannot read signing key {path}: {exc.strerror}; make one with "
            "`driftvakt export keygen --key PATH`"
        ) from exc
    if mode & 0o077:
        raise BadInputError(
            f"signing key {path} is readable by others (mode {mode & 0o777:o}): chmod 600 it"
        )
    return data


def load_private(path: Path, passphrase: bytes | None) -> SigningKey:
    data = _read_private(path)
    try:
        private = serialization.load_pem_private_key(data, passphrase or None)
    except TypeError as exc:  # encrypted without a passphrase, or a passphrase for a plain key
        need = "needs a passphrase" if b"ENCRYPTED" in data else "has no passphrase"
        raise BadInputError(f"signing key {path} {need}: set {PASSPHRASE_ENV}") from exc
    except ValueError as exc:
        raise BadInputError(
            f"cannot open signing key {path}: wrong passphrase or not a PEM key"
        ) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise BadInputError(f"signing key {path} is not an Ed25519 key")
    return SigningKey(private, _public_of(private))


def parse_public(text: str, source: str) -> PublicKey:
    lines = text.splitlines()
    blob = lines[1] if len(lines) >= 2 and lines[0].startswith(UNTRUSTED_PREFIX) else ""
    raw = _b64(blob.strip(), f"public key {source}")
    if len(raw) != 42 or raw[:2] != PUBLIC_ALG:
        raise SignatureError(f"{source} is not a minisign Ed25519 public key")
    return PublicKey(raw[2:10], raw[10:])


def load_public(path: Path) -> PublicKey:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read public key {path}: {exc}") from exc
    try:
        return parse_public(text, str(path))
    except SignatureError as exc:
        raise BadInputError(str(exc)) from exc


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc


def _check_comment(comment: str) -> None:
    if not comment or not comment.isprintable() or comment != comment.strip():
        raise SignatureError("a comment must be one printable line without outer spaces")


def sign(key: SigningKey, message: bytes, trusted_comment: str, untrusted_comment: str) -> str:
    """The text of a minisign signature file for ``message``."""
    _check_comment(trusted_comment)
    _check_comment(untrusted_comment)
    signature = key.private.sign(hashlib.blake2b(message).digest())
    global_signature = key.private.sign(signature + trusted_comment.encode())
    return _render(
        untrusted_comment, key.public.key_id, signature, trusted_comment, global_signature
    )


def _render(untrusted: str, key_id: bytes, sig: bytes, trusted: str, global_sig: bytes) -> str:
    return (
        f"{UNTRUSTED_PREFIX}{untrusted}\n"
        f"{base64.b64encode(PREHASHED_ALG + key_id + sig).decode()}\n"
        f"{TRUSTED_PREFIX}{trusted}\n"
        f"{base64.b64encode(global_sig).decode()}\n"
    )


def verify(
    public: PublicKey, message: bytes, signature_text: str, *, exact_untrusted: str | None = None
) -> str:
    """Check a minisign signature; return its trusted comment.

    With ``exact_untrusted`` the file must also be exactly what :func:`sign` writes with that
    untrusted comment, so that not even the comment or base64 padding bits can change unnoticed
    (minisign itself ignores both).
    """
    lines = signature_text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) != 4 or not lines[0].startswith(UNTRUSTED_PREFIX):
        raise SignatureError("the signature is not a minisign signature file")
    if not lines[2].startswith(TRUSTED_PREFIX):
        raise SignatureError("the signature has no trusted comment")
    raw = _b64(lines[1], "the signature")
    if len(raw) != 74:
        raise SignatureError("the signature has the wrong length")
    alg, key_id, sig = raw[:2], raw[2:10], raw[10:]
    if alg != PREHASHED_ALG:
        raise SignatureError("the signature is not in minisign's prehashed (ED) form")
    if key_id != public.key_id:
        raise SignatureError(
            f"the signature is by key {key_id[::-1].hex().upper()}, "
            f"not by the given public key {public.key_id_hex}"
        )
    trusted = lines[2][len(TRUSTED_PREFIX) :]
    global_sig = _b64(lines[3], "the global signature")
    verifier = Ed25519PublicKey.from_public_bytes(public.key)
    try:
        verifier.verify(sig, hashlib.blake2b(message).digest())
    except InvalidSignature as exc:
        raise SignatureError("the signature does not match the signed data") from exc
    try:
        verifier.verify(global_sig, sig + trusted.encode())
    except InvalidSignature as exc:
        raise SignatureError("the trusted comment was altered") from exc
    exact = exact_untrusted
    if exact is not None and signature_text != _render(exact, key_id, sig, trusted, global_sig):
        raise SignatureError("the signature file was altered (not as driftvakt wrote it)")
    return trusted
