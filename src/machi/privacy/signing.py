"""The Ed25519 key that signs audit-log checkpoints (docs/audit.md).

The private key lives in ``var/keys/audit_signing.pem`` (mode 0600), created on first
use; its public half is written beside it as ``audit_signing.pub.pem`` so it can be copied
off the server and checkpoints verified where the private key never was. Public keys of
retired signing keys go in ``var/keys/audit_signing_retired/*.pem``: checkpoints they
signed stay verifiable after a rotation.

A key id is derived from the public key, never chosen, so a checkpoint row cannot claim a
key it was not signed with.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from machi.core.errors import DomainError
from machi.core.settings import Settings
from machi.privacy.errors import MESSAGES, PrivacyError

KEY_FILE = "audit_signing.pem"
PUBLIC_KEY_FILE = "audit_signing.pub.pem"
RETIRED_DIR = "audit_signing_retired"

SignatureCheck = Literal["ok", "unknown_key", "signature"]


def keys_dir(settings: Settings) -> Path:
    return settings.var_dir / "keys"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class AuditVerifier:
    """Public keys by key id: enough to check checkpoints, useless for forging them."""

    keys: Mapping[str, Ed25519PublicKey]

    def check(self, key_id: str, message: bytes, signature: bytes) -> SignatureCheck:
        key = self.keys.get(key_id)
        if key is None:
            return "unknown_key"
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return "signature"
        return "ok"


@dataclass(frozen=True)
class AuditSigner:
    private_key: Ed25519PrivateKey
    key_id: str
    verifier: AuditVerifier

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def load_or_create_signer(directory: Path) -> AuditSigner:
    """The current signing key, created (0600) if there is none yet."""
    path = directory / KEY_FILE
    if not path.exists():
        _create(directory)
    private_key = _load_private(path)
    own = private_key.public_key()
    verifier = load_verifier(directory)
    keys = {**verifier.keys, key_id_of(own): own}
    return AuditSigner(private_key, key_id_of(own), AuditVerifier(keys))


def load_verifier(directory: Path) -> AuditVerifier:
    """Every public key found: the current key's (from the private or the public file)
    and the retired ones. Creates nothing, so verifying never mints a key."""
    keys: dict[str, Ed25519PublicKey] = {}
    private_path = directory / KEY_FILE
    if private_path.exists():
        own = _load_private(private_path).public_key()
        keys[key_id_of(own)] = own
    candidates = [directory / PUBLIC_KEY_FILE, *sorted((directory / RETIRED_DIR).glob("*.pem"))]
    for path in candidates:
        if path.is_file():
            public = serialization.load_pem_public_key(path.read_bytes())
            if isinstance(public, Ed25519PublicKey):
                keys[key_id_of(public)] = public
    return AuditVerifier(keys)


def _load_private(path: Path) -> Ed25519PrivateKey:
    # Like ssh: a signing key others can read no longer proves anything, so refuse it
    # rather than sign with it.
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise DomainError(
            PrivacyError.SIGNING_KEY_EXPOSED, MESSAGES[PrivacyError.SIGNING_KEY_EXPOSED]
        )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DomainError(
            PrivacyError.SIGNING_KEY_INVALID, MESSAGES[PrivacyError.SIGNING_KEY_INVALID]
        )
    return key


def _create(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = directory / f".{KEY_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    try:
        # link() fails if the name exists: when two processes start at once, one key wins
        # and both use it, instead of the second silently replacing the first.
        os.link(tmp, directory / KEY_FILE)
    except FileExistsError:
        return
    finally:
        tmp.unlink()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (directory / PUBLIC_KEY_FILE).write_bytes(public)
