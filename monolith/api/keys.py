"""RS256 signing keys for customer and staff tokens.

The monolith signs with the private key; extracted services verify with the public key alone, so they never
call back. In development the key pair is created on first use under ``var/keys``; explicitly configured
paths must exist.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class SigningKeyError(RuntimeError):
    """A configured key file is missing or unreadable."""


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def _write_once(path: Path, data: bytes) -> None:
    # Link a finished temp file into place: several processes starting together end up with one key.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-key-")
    try:
        os.write(fd, data)
        os.close(fd)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def generate_key_pair(private_path: Path, public_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_once(private_path, private)
    # Derive the public key from whichever private key won the race.
    winner = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    public = winner.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not public_path.exists():
        _write_once(public_path, public)


def load_key_pair(private_path: Path, public_path: Path, *, create_missing: bool) -> KeyPair:
    if not private_path.exists():
        if not create_missing:
            raise SigningKeyError(f"JWT private key file {private_path} does not exist")
        generate_key_pair(private_path, public_path)
    if not public_path.exists():
        raise SigningKeyError(f"JWT public key file {public_path} does not exist")
    return KeyPair(private_pem=private_path.read_text(), public_pem=public_path.read_text())
