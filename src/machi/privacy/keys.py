"""Local secret keys: a keyring of AES-256-GCM keys kept in a file only the service
account can read (``var/keys/keyring.json``, mode 0600), created on first start.

Every sealed value carries the id of the key that sealed it, so a new key can be added
and old values re-sealed without downtime (docs/security.md, key rotation).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]

    @classmethod
    def load_or_create(cls, path: Path) -> Keyring:
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                current=data["current"],
                keys={k: base64.b64decode(v) for k, v in data["keys"].items()},
            )
        ring = cls(current="k1", keys={"k1": AESGCM.generate_key(bit_length=256)})
        ring.save(path)
        return ring

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "current": self.current,
                    "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
                },
                f,
            )
        tmp.replace(path)

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
