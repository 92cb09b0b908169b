"""Staff accounts and login: password (argon2) then TOTP, lockout after repeated
failures, idle lock, logout. Every attempt, good or bad, is in the audit log."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyotp
import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from machi.core.errors import DomainError
from machi.core.uow import UnitOfWork
from machi.privacy import audit, rules
from machi.privacy.access import authorised, effective_permissions, open_action
from machi.privacy.actor import Actor
from machi.privacy.errors import MESSAGES, PrivacyError
from machi.privacy.keys import Keyring
from machi.privacy.models import LoginSession, Role, RolePermission, StaffUser, UserRole
from machi.privacy.permissions import AFFAIR_NAMES, Affair, Permission, parse_permission

_HASHER = PasswordHasher()
# Verifying against this when the user is unknown keeps the timing of both failures alike.
_DUMMY_HASH = _HASHER.hash("machi-timing-equaliser-0")
ROLES_FILE = Path(__file__).with_name("roles.yaml")


def _error(code: PrivacyError, *, status: int | None = None) -> DomainError:
    return DomainError(code, MESSAGES[code], status=status)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _totp_context(user_id: uuid.UUID) -> bytes:
    return f"totp:{user_id}".encode()


@dataclass(frozen=True)
class NewUser:
    login_name: str
    display_name: str
    password: str
    grants: tuple[tuple[str, str], ...]  # (role code, affair)


@dataclass(frozen=True)
class CreatedUser:
    user_id: uuid.UUID
    totp_secret: str  # shown once to the person who enrols the authenticator


@dataclass(frozen=True)
class UserSummary:
    login_name: str
    display_name: str
    grants: tuple[tuple[str, str], ...]
    locked: bool
    active: bool


@authorised(Permission.PRIVACY_MANAGE_ROLES)
def load_roles(uow: UnitOfWork, actor: Actor, path: Path = ROLES_FILE) -> int:
    """Insert or update roles and their permissions from a YAML file
    (``roles: [{code, name_ja, permissions: [...]}]``). The file replaces each listed
    role's permissions; an unknown permission name refuses the whole file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        wanted = {
            item["code"]: (item["name_ja"], {parse_permission(p) for p in item["permissions"]})
            for item in data["roles"]
        }
    except (KeyError, TypeError, ValueError):
        raise DomainError(
            PrivacyError.INVALID_ROLE_FILE, MESSAGES[PrivacyError.INVALID_ROLE_FILE]
        ) from None
    with uow:
        s = uow.session
        for code, (name_ja, perms) in wanted.items():
            role = s.get(Role, code)
            if role is None:
                s.add(Role(code=code, name_ja=name_ja))
                s.flush()
            else:
                role.name_ja = name_ja
            s.execute(delete(RolePermission).where(RolePermission.role_code == code))
            s.add_all(RolePermission(role_code=code, permission=str(p)) for p in sorted(perms))
        audit.record(uow, actor, action="privacy.load_roles", detail={"roles": len(wanted)})
        uow.commit()
    return len(wanted)


@authorised(Permission.PRIVACY_MANAGE_USERS)
def create_user(uow: UnitOfWork, actor: Actor, keys: Keyring, new: NewUser) -> CreatedUser:
    if not rules.password_strong_enough(new.password):
        raise _error(PrivacyError.WEAK_PASSWORD)
    with uow:
        s = uow.session
        if s.scalar(select(StaffUser.id).where(StaffUser.login_name == new.login_name)):
            raise _error(PrivacyError.LOGIN_NAME_TAKEN)
        for role_code, _affair in new.grants:
            if s.get(Role, role_code) is None:
                raise _error(PrivacyError.UNKNOWN_ROLE)
        user_id = uuid.uuid4()
        secret = pyotp.random_base32()
        s.add(
            StaffUser(
                id=user_id,
                login_name=new.login_name,
                display_name=new.display_name,
                password_hash=_HASHER.hash(new.password),
                totp_secret_sealed=keys.seal(secret.encode(), context=_totp_context(user_id)),
                failed_logins=0,
                active=True,
                created_at=uow.clock.now(),
            )
        )
        s.flush()
        for role_code, affair in new.grants:
            s.add(UserRole(user_id=user_id, role_code=role_code, affair=affair))
        audit.record(
            uow,
            actor,
            action="privacy.create_user",
            subjects=[user_id],
            detail={"grants": [f"{r}@{a}" for r, a in new.grants]},
        )
        uow.commit()
    return CreatedUser(user_id, secret)


@authorised(Permission.PRIVACY_MANAGE_USERS)
def list_users(uow: UnitOfWork, actor: Actor) -> list[UserSummary]:
    with uow:
        users = uow.session.scalars(select(StaffUser).order_by(StaffUser.login_name)).all()
        grants: dict[uuid.UUID, list[tuple[str, str]]] = {}
        for ur in uow.session.scalars(select(UserRole)):
            grants.setdefault(ur.user_id, []).append((ur.role_code, ur.affair))
        out = [
            UserSummary(
                u.login_name,
                u.display_name,
                tuple(sorted(grants.get(u.id, []))),
                u.locked_at is not None,
                u.active,
            )
            for u in users
        ]
        audit.record(uow, actor, action="privacy.list_users", detail={"count": len(out)})
        uow.commit()
    return out


@authorised(Permission.PRIVACY_MANAGE_USERS)
def grant_role(uow: UnitOfWork, actor: Actor, login_name: str, role_code: str, affair: str) -> None:
    """Give a user a role in one affair. A grant outside the matrix of roles and affairs
    is refused (controls.md AUTHZ-02)."""
    if affair not in Affair._value2member_map_:
        raise _error(PrivacyError.UNKNOWN_AFFAIR)
    with uow:
        user = _user(uow, login_name)
        if uow.session.get(Role, role_code) is None:
            raise _error(PrivacyError.UNKNOWN_ROLE)
        if uow.session.get(UserRole, (user.id, role_code, affair)) is None:
            uow.session.add(UserRole(user_id=user.id, role_code=role_code, affair=affair))
            audit.record(
                uow,
                actor,
                action="privacy.grant_role",
                subjects=[user.id],
                detail={"grant": f"{role_code}@{affair}"},
            )
        uow.commit()


@authorised(Permission.PRIVACY_MANAGE_USERS)
def revoke_role(
    uow: UnitOfWork, actor: Actor, login_name: str, role_code: str, affair: str
) -> None:
    """Take a role away (AUTHZ-04). Takes effect on the user's next request: their session
    recomputes its permissions every time."""
    with uow:
        user = _user(uow, login_name)
        grant = uow.session.get(UserRole, (user.id, role_code, affair))
        if grant is not None:
            uow.session.delete(grant)
            audit.record(
                uow,
                actor,
                action="privacy.revoke_role",
                subjects=[user.id],
                detail={"grant": f"{role_code}@{affair}"},
            )
        uow.commit()


@dataclass(frozen=True)
class RoleSummary:
    code: str
    name_ja: str
    permissions: tuple[str, ...]


@authorised(Permission.PRIVACY_MANAGE_ROLES)
def list_roles(uow: UnitOfWork, actor: Actor) -> list[RoleSummary]:
    """The access-rights matrix as stored: each role and its permissions (AUTHZ-02)."""
    with uow:
        perms: dict[str, list[str]] = {}
        for rp in uow.session.scalars(select(RolePermission)):
            perms.setdefault(rp.role_code, []).append(rp.permission)
        roles = [
            RoleSummary(r.code, r.name_ja, tuple(sorted(perms.get(r.code, []))))
            for r in uow.session.scalars(select(Role).order_by(Role.code))
        ]
        audit.record(uow, actor, action="privacy.list_roles", detail={"count": len(roles)})
        uow.commit()
    return roles


def _user(uow: UnitOfWork, login_name: str) -> StaffUser:
    user = uow.session.scalar(select(StaffUser).where(StaffUser.login_name == login_name))
    if user is None:
        raise _error(PrivacyError.UNKNOWN_USER, status=404)
    return user


@authorised(Permission.PRIVACY_MANAGE_USERS)
def unlock_user(uow: UnitOfWork, actor: Actor, login_name: str) -> None:
    with uow:
        user = uow.session.scalar(select(StaffUser).where(StaffUser.login_name == login_name))
        if user is None:
            raise _error(PrivacyError.UNKNOWN_USER, status=404)
        user.locked_at = None
        user.failed_logins = 0
        audit.record(uow, actor, action="privacy.unlock_user", subjects=[user.id])
        uow.commit()


@authorised(Permission.PRIVACY_MANAGE_USERS)
def current_totp(uow: UnitOfWork, actor: Actor, keys: Keyring, login_name: str) -> str:
    """The code an authenticator would show now; for the demo and for operators enrolling
    a device. Audited, since it is as good as the second factor itself."""
    with uow:
        user = uow.session.scalar(select(StaffUser).where(StaffUser.login_name == login_name))
        if user is None:
            raise _error(PrivacyError.UNKNOWN_USER, status=404)
        secret = keys.open(user.totp_secret_sealed, context=_totp_context(user.id)).decode()
        audit.record(uow, actor, action="privacy.show_totp", subjects=[user.id])
        uow.commit()
    return pyotp.TOTP(secret).at(uow.clock.now())


# -- login ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    session_id: uuid.UUID
    user_id: uuid.UUID
    login_name: str
    display_name: str
    stage: str
    grants: frozenset[tuple[str, str]]
    affair: str | None
    permissions: frozenset[Permission]
    # (role name, affair name) in Japanese, for screens.
    grant_labels: tuple[tuple[str, str], ...] = ()

    def actor(self, terminal: str, purpose: str | None = None) -> Actor:
        return Actor(
            user_id=self.user_id,
            login_name=self.login_name,
            terminal=terminal,
            affair=self.affair,
            purpose=purpose,
            grants=self.grants,
            permissions=self.permissions,
        )


def _fail(uow: UnitOfWork, user: StaffUser, terminal: str, max_failed: int, step: str) -> None:
    """Count a failure on the user's row and audit it, in the open unit of work."""
    locking = rules.locks_after_failure(user.failed_logins, max_failed)
    user.failed_logins += 1
    if locking:
        user.locked_at = uow.clock.now()
    audit.record(
        uow,
        Actor(user_id=user.id, login_name=user.login_name, terminal=terminal),
        action="privacy.login",
        subjects=[user.id],
        outcome="denied",
        detail={"step": step, "failed_in_row": user.failed_logins, "locked": locking},
    )


@open_action
def login_password(
    uow: UnitOfWork, *, login_name: str, password: str, terminal: str, max_failed: int
) -> str:
    """First step. Returns a session token waiting for the second factor."""
    with uow:
        s = uow.session
        user = s.scalar(
            select(StaffUser).where(StaffUser.login_name == login_name).with_for_update()
        )
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)
            # The typed name is not stored: it may be a mistyped password.
            audit.record(
                uow,
                Actor.anonymous(terminal),
                action="privacy.login",
                outcome="denied",
                detail={"step": "password", "reason": "unknown_user"},
            )
            uow.commit()
            raise _error(PrivacyError.LOGIN_FAILED, status=401)
        if user.locked_at is not None:
            audit.record(
                uow,
                Actor(user_id=user.id, login_name=user.login_name, terminal=terminal),
                action="privacy.login",
                subjects=[user.id],
                outcome="denied",
                detail={"step": "password", "reason": "locked"},
            )
            uow.commit()
            raise _error(PrivacyError.ACCOUNT_LOCKED, status=423)
        if not _verify(user.password_hash, password):
            _fail(uow, user, terminal, max_failed, "password")
            uow.commit()
            raise _error(PrivacyError.LOGIN_FAILED, status=401)
        token = secrets.token_urlsafe(32)
        now = uow.clock.now()
        s.add(
            LoginSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                stage="password",
                terminal=terminal,
                created_at=now,
                last_seen_at=now,
            )
        )
        audit.record(
            uow,
            Actor(user_id=user.id, login_name=user.login_name, terminal=terminal),
            action="privacy.login",
            subjects=[user.id],
            detail={"step": "password"},
        )
        uow.commit()
    return token


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@open_action
def login_totp(
    uow: UnitOfWork,
    keys: Keyring,
    *,
    token: str,
    code: str,
    max_failed: int,
    max_sessions: int = 1,
) -> SessionView:
    """Second step: a wrong code counts towards the lockout like a wrong password."""
    with uow:
        s = uow.session
        sess = s.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if sess is None or sess.ended_at is not None or sess.stage != "password":
            raise _error(PrivacyError.SESSION_INVALID, status=401)
        user = s.get(StaffUser, sess.user_id, with_for_update=True)
        assert user is not None
        if user.locked_at is not None:
            sess.ended_at = uow.clock.now()
            uow.commit()
            raise _error(PrivacyError.ACCOUNT_LOCKED, status=423)
        secret = keys.open(user.totp_secret_sealed, context=_totp_context(user.id)).decode()
        totp = pyotp.TOTP(secret)
        if not totp.verify(code.strip(), for_time=uow.clock.now(), valid_window=1):
            _fail(uow, user, sess.terminal, max_failed, "totp")
            if user.locked_at is not None:
                sess.ended_at = uow.clock.now()
            uow.commit()
            raise _error(PrivacyError.SECOND_FACTOR_FAILED, status=401)
        user.failed_logins = 0
        sess.stage = "active"
        sess.last_seen_at = uow.clock.now()
        ended = _end_sessions_over_limit(uow, user.id, keep=sess.id, limit=max_sessions)
        audit.record(
            uow,
            Actor(user_id=user.id, login_name=user.login_name, terminal=sess.terminal),
            action="privacy.login",
            subjects=[user.id],
            detail={"step": "totp", "ended_other_sessions": ended},
        )
        view = _view(uow, sess, user)
        uow.commit()
    return view


def _end_sessions_over_limit(
    uow: UnitOfWork, user_id: uuid.UUID, *, keep: uuid.UUID, limit: int
) -> int:
    """The newest login wins: older signed-in sessions beyond ``limit`` are ended, so one
    ID is not used at two terminals at once (controls.md AUTH-01) and a forgotten session
    does not lock its owner out."""
    others = uow.session.scalars(
        select(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.id != keep,
            LoginSession.ended_at.is_(None),
            LoginSession.stage.in_(("active", "locked")),
        )
        .order_by(LoginSession.last_seen_at.desc())
    ).all()
    over = others[max(0, limit - 1) :]
    for old in over:
        old.ended_at = uow.clock.now()
    return len(over)


def _view(uow: UnitOfWork, sess: LoginSession, user: StaffUser) -> SessionView:
    grants = _grants(uow, user.id)
    if sess.affair not in {a for _, a in grants}:
        # A revoked affair falls back too, so permissions never outlive their grant.
        sess.affair = None
    if sess.affair is None and grants:
        # Until the user picks one, work in the first affair they hold a role in.
        sess.affair = sorted(a for _, a in grants)[0]
    permissions = effective_permissions(uow.session, grants, sess.affair)
    names: dict[str, str] = {
        code: name for code, name in uow.session.execute(select(Role.code, Role.name_ja))
    }
    labels = tuple(
        sorted(
            (names.get(role, role), AFFAIR_NAMES.get(Affair(affair), affair))
            if affair in Affair._value2member_map_
            else (names.get(role, role), affair)
            for role, affair in grants
        )
    )
    return SessionView(
        sess.id,
        user.id,
        user.login_name,
        user.display_name,
        sess.stage,
        grants,
        sess.affair,
        permissions,
        labels,
    )


@open_action
def resume(uow: UnitOfWork, *, token: str, idle: timedelta) -> SessionView:
    """Look up the session behind a cookie on each request. An active session idle for
    ``idle`` or longer turns into a locked one (lock screen); the caller decides what a
    'password' or 'locked' stage may see."""
    with uow:
        s = uow.session
        sess = s.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if sess is None or sess.ended_at is not None:
            raise _error(PrivacyError.SESSION_INVALID, status=401)
        user = s.get(StaffUser, sess.user_id)
        assert user is not None
        now = uow.clock.now()
        if user.locked_at is not None or not user.active:
            sess.ended_at = now
            uow.commit()
            raise _error(PrivacyError.SESSION_INVALID, status=401)
        if sess.stage == "active" and rules.idle_expired(sess.last_seen_at, now, idle):
            sess.stage = "locked"
            audit.record(
                uow,
                Actor(user_id=user.id, login_name=user.login_name, terminal=sess.terminal),
                action="privacy.idle_lock",
                subjects=[user.id],
            )
        elif sess.stage == "active":
            sess.last_seen_at = now
        view = _view(uow, sess, user)
        uow.commit()
    return view


@open_action
def unlock_screen(uow: UnitOfWork, *, token: str, password: str, max_failed: int) -> SessionView:
    with uow:
        s = uow.session
        sess = s.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if sess is None or sess.ended_at is not None or sess.stage != "locked":
            raise _error(PrivacyError.SESSION_INVALID, status=401)
        user = s.get(StaffUser, sess.user_id, with_for_update=True)
        assert user is not None
        if user.locked_at is not None:
            raise _error(PrivacyError.ACCOUNT_LOCKED, status=423)
        if not _verify(user.password_hash, password):
            _fail(uow, user, sess.terminal, max_failed, "unlock")
            if user.locked_at is not None:
                sess.ended_at = uow.clock.now()
            uow.commit()
            raise _error(PrivacyError.LOGIN_FAILED, status=401)
        user.failed_logins = 0
        sess.stage = "active"
        sess.last_seen_at = uow.clock.now()
        audit.record(
            uow,
            Actor(user_id=user.id, login_name=user.login_name, terminal=sess.terminal),
            action="privacy.unlock_screen",
            subjects=[user.id],
        )
        view = _view(uow, sess, user)
        uow.commit()
    return view


@open_action
def switch_affair(uow: UnitOfWork, *, token: str, affair: str) -> SessionView:
    """Work in another affair the user holds a role in (業務選択). Permissions follow the
    affair, so this is how one person keeps their 住基 and 国保 work apart."""
    with uow:
        s = uow.session
        sess = s.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if sess is None or sess.ended_at is not None or sess.stage != "active":
            raise _error(PrivacyError.SESSION_INVALID, status=401)
        user = s.get(StaffUser, sess.user_id)
        assert user is not None
        held = {a for _, a in _grants(uow, user.id)}
        if affair not in held:
            raise _error(PrivacyError.PERMISSION_DENIED, status=403)
        sess.affair = affair
        audit.record(
            uow,
            Actor(
                user_id=user.id, login_name=user.login_name, terminal=sess.terminal, affair=affair
            ),
            action="privacy.switch_affair",
            subjects=[user.id],
            detail={"affair": affair},
        )
        view = _view(uow, sess, user)
        uow.commit()
    return view


def _grants(uow: UnitOfWork, user_id: uuid.UUID) -> frozenset[tuple[str, str]]:
    return frozenset(
        (ur.role_code, ur.affair)
        for ur in uow.session.scalars(select(UserRole).where(UserRole.user_id == user_id))
    )


@open_action
def logout(uow: UnitOfWork, *, token: str) -> None:
    with uow:
        s = uow.session
        sess = s.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if sess is None or sess.ended_at is not None:
            return
        sess.ended_at = uow.clock.now()
        audit.record(
            uow,
            Actor(user_id=sess.user_id, login_name="", terminal=sess.terminal),
            action="privacy.logout",
            subjects=[sess.user_id],
        )
        uow.commit()
