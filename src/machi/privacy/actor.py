"""Who is acting: every service and query receives an Actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    login_name: str
    terminal: str
    affair: str | None = None
    purpose: str | None = None
    # (role code, affair) pairs granted to the user.
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def operator(cls, terminal: str = "cli") -> Actor:
        """Someone with shell access to the server running an operator command (machi CLI).
        Recorded as such in the audit log; OS access control is what guards it."""
        return cls(user_id=None, login_name="operator", terminal=terminal, affair="admin")

    @classmethod
    def anonymous(cls, terminal: str) -> Actor:
        return cls(user_id=None, login_name="anonymous", terminal=terminal)
