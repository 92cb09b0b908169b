"""Who is acting: every service and query receives an Actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from machi.privacy.permissions import Affair, Permission

# What an operator at the server's shell may do through the ``machi`` command. Shell
# access to the server is itself the control (docs/security.md); the set is still closed.
OPERATOR_PERMISSIONS = frozenset(
    {
        Permission.PRIVACY_MANAGE_USERS,
        Permission.PRIVACY_MANAGE_ROLES,
        Permission.PRIVACY_VERIFY_AUDIT_LOG,
        Permission.PRIVACY_ROTATE_KEYS,
        Permission.SYNTH_LOAD_TOWN,
        Permission.REGISTRY_BULK_LOAD,
        Permission.REGISTRY_EXPORT,
    }
)


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    login_name: str
    terminal: str
    affair: str | None = None
    purpose: str | None = None
    # (role code, affair) pairs granted to the user.
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # Effective permissions in ``affair`` (from the roles granted in that affair).
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    @classmethod
    def operator(cls, terminal: str = "cli", affair: Affair = Affair.ADMIN) -> Actor:
        """Someone with shell access to the server running an operator command."""
        return cls(
            user_id=None,
            login_name="operator",
            terminal=terminal,
            affair=affair,
            permissions=OPERATOR_PERMISSIONS,
        )

    @classmethod
    def anonymous(cls, terminal: str) -> Actor:
        return cls(user_id=None, login_name="anonymous", terminal=terminal)
