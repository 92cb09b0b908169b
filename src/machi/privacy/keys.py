"""Local secret keys: a keyring of AES-256-GCM keys plus one HMAC key for blind indexes.

The keyring lives in a file only the service account can read (``var/keys/keyring.json``,
mode 0600), created on first start; or, where the platform hands secrets in through the
environment, in ``MACHI_KEYRING`` (base64 of the same JSON), in which case no file is read
or written.

Every sealed value carries the id of the key that sealed it, so a new key can be added
and old values re-sealed without downtime (docs/security.md, key rotation). The index key
is not rotated with the encryption keys: every blind index depends on it, so changing it
is a separate rebuild of all indexes (``machi keys rebuild-index``).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV_VAR = "MACHI_KEYRING"
_NONCE = 12
_KEY_BYTES = 32


def keyring_path(var_dir: Path) -> Path:
    """Where the keyring file of an installation lives."""
    return var_dir / "keys" / "keyring.json"


@dataclass(frozen=True)
class Keyring:
    current: str
    # repr=False: a keyring printed in a traceback or a log line must not show its keys.
    keys: dict[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False)
    # The file the keyring was read from; None when it came from the environment, where
    # the process cannot write a rotated keyring back.
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def load_or_create(cls, path: Path, *, environ: Mapping[str, str] | None = None) -> Keyring:
        """The keyring from ``MACHI_KEYRING`` if set, else from ``path``, creating the file
        on first start and adding an index key to a file written before index keys existed.

        ``environ`` defaults to the process environment, read at call time (never at import).
        """
        env = os.environ if environ is None else environ
        encoded = env.get(ENV_VAR, "")
        if encoded:
            return cls.from_env_value(encoded)
        return cls._load_file(path)

    @classmethod
    def from_env_value(cls, encoded: str) -> Keyring:
        # Error messages name the variable, never its content.
        try:
            # Whitespace is dropped: secret stores and shells often wrap long values.
            data = json.loads(base64.b64decode("".join(encoded.split()), validate=True))
        except (binascii.Error, ValueError):
            raise ValueError(f"{ENV_VAR} is not base64-encoded keyring JSON") from None
        if not isinstance(data, dict) or "index_key" not in data:
            # A process cannot persist a generated index key into its environment, and two
            # processes generating their own would index the same number differently.
            raise ValueError(f"{ENV_VAR} has no index_key; export a keyring that has one")
        return cls._from_dict(data, path=None)

    @classmethod
    def _load_file(cls, path: Path) -> Keyring:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Two processes starting together must not each create (or upgrade) their own keys:
        # the loser would encrypt and index with keys nobody else has.
        lock = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                ring = cls(
                    current="k1",
                    keys={"k1": AESGCM.generate_key(bit_length=256)},
                    index_key=secrets.token_bytes(_KEY_BYTES),
                    path=path,
                )
                ring.save(path)
                return ring
            if path.stat().st_mode & 0o077:
                raise PermissionError(
                    f"{path} is readable by others; it must be mode 0600 (chmod 600 {path})"
                )
            data = json.loads(path.read_text(encoding="utf-8"))
            if "index_key" not in data:
                data["index_key"] = base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()
                ring = cls._from_dict(data, path=path)
                ring.save(path)
                return ring
            return cls._from_dict(data, path=path)
        finally:
            os.close(lock)  # releases the lock

    @classmethod
    def _from_dict(cls, data: dict[str, Any], *, path: Path | None) -> Keyring:
        try:
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            index_key = base64.b64decode(data["index_key"], validate=True)
            current = str(data["current"])
        except (KeyError, TypeError, AttributeError, binascii.Error):
            raise ValueError("keyring is malformed: needs current, keys and index_key") from None
        if current not in keys:
            raise ValueError("keyring is malformed: the current key id has no key")
        if any(len(k) != _KEY_BYTES for k in keys.values()) or len(index_key) != _KEY_BYTES:
            raise ValueError("keyring is malformed: every key must be 32 bytes")
        if any(not 0 < len(kid.encode()) < 256 for kid in keys):
            raise ValueError("keyring is malformed: key ids must be 1 to 255 bytes")
        return cls(current=current, keys=keys, index_key=index_key, path=path)

    def _as_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
            "index_key": base64.b64encode(self.index_key).decode(),
        }

    def save(self, path: Path) -> None:
        """Write atomically with mode 0600, and make it durable before returning: rotation
        uses a new key only after this, so the key can never be lost while data needs it."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._as_dict(), f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def to_env_value(self) -> str:
        """The keyring as ``MACHI_KEYRING`` expects it (base64 of the file's JSON)."""
        return base64.b64encode(json.dumps(self._as_dict()).encode()).decode()

    def with_new_key(self) -> Keyring:
        """A keyring whose current key is a new one; old keys stay, since existing values
        (and backups) were sealed with them."""
        n = 1 + max(
            (int(k[1:]) for k in self.keys if k.startswith("k") and k[1:].isdigit()), default=0
        )
        kid = f"k{n}"
        return replace(
            self, current=kid, keys={**self.keys, kid: AESGCM.generate_key(bit_length=256)}
        )

    def with_new_index_key(self) -> Keyring:
        """A keyring with a new index key. Every stored blind index must be recomputed
        before lookups work again (vault.rebuild_index)."""
        return replace(self, index_key=secrets.token_bytes(_KEY_BYTES))

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt; ``context`` (e.g. b"totp:<user id>") is bound as associated data so a
        sealed value cannot be moved to another row."""
        nonce = secrets.token_bytes(_NONCE)
        kid = self.current.encode()
        ct = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext, context)
        return bytes([len(kid)]) + kid + nonce + ct

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        n = sealed[0]
        kid = sealed[1 : 1 + n].decode()
        nonce = sealed[1 + n : 1 + n + _NONCE]
        ct = sealed[1 + n + _NONCE :]
        return AESGCM(self.keys[kid]).decrypt(nonce, ct, context)

    def key_id_of(self, sealed: bytes) -> str:
        return sealed[1 : 1 + sealed[0]].decode()

    def has_key(self, key_id: str) -> bool:
        return key_id in self.keys

    def derive(self, label: str) -> bytes:
        """A 32-byte secret for one purpose (e.g. certificate verification codes), derived
        from the index key, so no further key file has to be kept and backed up."""
        return hmac.new(self.index_key, b"machi-derive:" + label.encode(), hashlib.sha256).digest()

    def hmac_index(self, value: bytes) -> bytes:
        """HMAC-SHA256 of ``value`` under the index key: equal values give equal indexes,
        and without the key an index cannot be checked against a guessed value."""
        return hmac.new(self.index_key, value, hashlib.sha256).digest()
