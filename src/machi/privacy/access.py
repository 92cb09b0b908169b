"""The only gate. Every public service and query is declared with :func:`authorised`
(or, for the few actions open before login, :func:`open_action`); an undeclared function
is caught by tests/architecture, and a declared one refuses unless the actor holds the
permission in the affair it is working in. Refusals are audited in their own transaction
because the action's transaction rolls back."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from machi.core.errors import DomainError
from machi.core.uow import UnitOfWork
from machi.privacy import audit
from machi.privacy.actor import Actor
from machi.privacy.errors import MESSAGES, PrivacyError
from machi.privacy.models import RolePermission
from machi.privacy.permissions import PERMISSION_AFFAIRS, Affair, Permission

P = ParamSpec("P")
R = TypeVar("R")


class PermissionDenied(DomainError):
    """403 with the same body whether or not the subject exists."""

    http_status = 403

    def __init__(self, permission: Permission) -> None:
        super().__init__(PrivacyError.PERMISSION_DENIED, MESSAGES[PrivacyError.PERMISSION_DENIED])
        self.permission = permission


def allowed(actor: Actor, permission: Permission) -> bool:
    """Pure decision: the permission is held for the affair the actor is working in, and
    that affair is one where the permission may be used at all."""
    if actor.affair is None:
        return False
    try:
        affair = Affair(actor.affair)
    except ValueError:
        return False
    return permission in actor.permissions and affair in PERMISSION_AFFAIRS.get(
        permission, frozenset()
    )


def effective_permissions(
    session: Session, grants: frozenset[tuple[str, str]], affair: str | None
) -> frozenset[Permission]:
    """Permissions of the roles granted in ``affair``, read from the role table (names no
    longer in :class:`Permission` are ignored rather than trusted)."""
    roles = [role for role, granted_in in grants if granted_in == affair]
    if not roles:
        return frozenset()
    names = session.scalars(
        select(RolePermission.permission).where(RolePermission.role_code.in_(roles))
    )
    return frozenset(Permission(n) for n in names if n in Permission._value2member_map_)


def require(
    uow: UnitOfWork,
    actor: Actor,
    permission: Permission,
    *,
    action: str,
    subjects: tuple[object, ...] = (),
) -> None:
    if not allowed(actor, permission):
        audit.record_alone(
            uow,
            actor,
            action=action,
            subjects=subjects,
            outcome="denied",
            detail={"permission": str(permission)},
        )
        raise PermissionDenied(permission)


@dataclass(frozen=True)
class Declared:
    action: str
    permission: Permission | None  # None: open before login (login itself)


ACTIONS: dict[str, Declared] = {}


def authorised(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a service or query: ``fn(uow, actor, ...)``. The check runs before the
    function body, so no caller can forget it."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        action = f"{fn.__module__.split('.')[1]}.{fn.__name__}"

        @functools.wraps(fn)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            uow, actor = _uow_and_actor(args, kwargs)
            require(uow, actor, permission, action=action)
            return fn(*args, **kwargs)

        checked.__machi_action__ = Declared(action, permission)  # type: ignore[attr-defined]
        ACTIONS[action] = Declared(action, permission)
        return checked

    return wrap


def open_action(fn: Callable[P, R]) -> Callable[P, R]:
    """Declare an action that runs before anyone is authenticated (the login steps). It
    still audits itself; the declaration only says no permission applies."""
    action = f"{fn.__module__.split('.')[1]}.{fn.__name__}"
    fn.__machi_action__ = Declared(action, None)  # type: ignore[attr-defined]
    ACTIONS[action] = Declared(action, None)
    return fn


def _uow_and_actor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[UnitOfWork, Actor]:
    uow = args[0] if args else kwargs.get("uow")
    actor = args[1] if len(args) > 1 else kwargs.get("actor")
    if not isinstance(uow, UnitOfWork) or not isinstance(actor, Actor):
        raise TypeError("an authorised action takes (uow, actor, ...)")
    return uow, actor
