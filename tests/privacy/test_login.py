"""Staff login: argon2 password, TOTP second factor, lockout, idle lock, logout
(issue: Foundation, item 4 and its acceptance: "A wrong password gets a generic error and
is logged; the sixth wrong attempt locks the account")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import services
from machi.privacy.errors import MESSAGES, PrivacyError
from machi.privacy.models import AuditEntry, StaffUser
from support import Enrolled

MAX = 5


def _login(rt: Runtime, name: str, pw: str) -> str:
    return services.login_password(
        rt.uow(), login_name=name, password=pw, terminal="10.0.0.7", max_failed=MAX
    )


def _audit(rt: Runtime) -> list[AuditEntry]:
    with rt.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "privacy.login")
                .order_by(AuditEntry.id)
            )
        )


def test_password_then_totp_opens_an_active_session(rt: Runtime, clerk: Enrolled) -> None:
    token = _login(rt, clerk.login_name, clerk.password)
    view = services.login_totp(
        rt.uow(), rt.keys, token=token, code=clerk.totp.at(rt.clock.now()), max_failed=MAX
    )
    assert view.stage == "active" and view.login_name == "clerk1"
    assert view.grants == frozenset({("counter_clerk", "juki")})
    steps = [(a.outcome, a.detail["step"]) for a in _audit(rt)]
    assert steps == [("ok", "password"), ("ok", "totp")]


def test_wrong_password_and_unknown_user_get_the_same_generic_error(
    rt: Runtime, clerk: Enrolled
) -> None:
    with pytest.raises(DomainError) as wrong:
        _login(rt, clerk.login_name, "not the password 1")
    with pytest.raises(DomainError) as unknown:
        _login(rt, "nobody", "not the password 1")
    assert wrong.value.code == unknown.value.code == PrivacyError.LOGIN_FAILED
    assert wrong.value.message == unknown.value.message == MESSAGES[PrivacyError.LOGIN_FAILED]
    logged = _audit(rt)
    assert [a.outcome for a in logged] == ["denied", "denied"]
    assert logged[0].terminal == "10.0.0.7"
    # The typed login name and password are never written to the log.
    for a in logged:
        assert "nobody" not in str(a.detail) and "not the password" not in str(a.detail)


def test_five_failures_lock_so_the_sixth_attempt_is_refused_even_if_right(
    rt: Runtime, clerk: Enrolled
) -> None:
    for _ in range(MAX):
        with pytest.raises(DomainError) as e:
            _login(rt, clerk.login_name, "wrong password 99")
        assert e.value.code == PrivacyError.LOGIN_FAILED
    with pytest.raises(DomainError) as sixth:
        _login(rt, clerk.login_name, clerk.password)
    assert sixth.value.code == PrivacyError.ACCOUNT_LOCKED
    logged = _audit(rt)
    assert len(logged) == MAX + 1
    assert logged[MAX - 1].detail["locked"] is True
    assert logged[MAX].detail["reason"] == "locked"
    with rt.uow() as uow:
        user = uow.session.scalars(select(StaffUser)).one()
        assert user.locked_at is not None


def test_four_failures_then_success_resets_the_count(rt: Runtime, clerk: Enrolled) -> None:
    for _ in range(MAX - 1):
        with pytest.raises(DomainError):
            _login(rt, clerk.login_name, "wrong password 99")
    token = _login(rt, clerk.login_name, clerk.password)
    services.login_totp(
        rt.uow(), rt.keys, token=token, code=clerk.totp.at(rt.clock.now()), max_failed=MAX
    )
    for _ in range(MAX - 1):
        with pytest.raises(DomainError):
            _login(rt, clerk.login_name, "wrong password 99")
    _login(rt, clerk.login_name, clerk.password)  # still open: the count was reset


def test_wrong_totp_counts_towards_the_lockout(rt: Runtime, clerk: Enrolled) -> None:
    token = _login(rt, clerk.login_name, clerk.password)
    good = clerk.totp.at(rt.clock.now())
    bad = f"{(int(good) + 500_000) % 1_000_000:06d}"
    with pytest.raises(DomainError) as e:
        services.login_totp(rt.uow(), rt.keys, token=token, code=bad, max_failed=MAX)
    assert e.value.code == PrivacyError.SECOND_FACTOR_FAILED
    with rt.uow() as uow:
        assert uow.session.scalars(select(StaffUser)).one().failed_logins == 1


def test_admin_unlock_restores_access(rt: Runtime, clerk: Enrolled) -> None:
    from machi.privacy.actor import Actor

    for _ in range(MAX):
        with pytest.raises(DomainError):
            _login(rt, clerk.login_name, "wrong password 99")
    services.unlock_user(rt.uow(), Actor.operator(), clerk.login_name)
    _login(rt, clerk.login_name, clerk.password)


def test_idle_session_locks_and_password_unlocks_it(rt: Runtime, clerk: Enrolled) -> None:
    token = _login(rt, clerk.login_name, clerk.password)
    services.login_totp(
        rt.uow(), rt.keys, token=token, code=clerk.totp.at(rt.clock.now()), max_failed=MAX
    )
    idle = timedelta(minutes=10)
    rt.clock.advance(timedelta(minutes=9, seconds=59))  # type: ignore[attr-defined]
    assert services.resume(rt.uow(), token=token, idle=idle).stage == "active"
    rt.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    assert services.resume(rt.uow(), token=token, idle=idle).stage == "locked"
    with pytest.raises(DomainError):
        services.unlock_screen(rt.uow(), token=token, password="wrong password 99", max_failed=MAX)
    view = services.unlock_screen(rt.uow(), token=token, password=clerk.password, max_failed=MAX)
    assert view.stage == "active"


def test_logout_ends_the_session(rt: Runtime, clerk: Enrolled) -> None:
    token = _login(rt, clerk.login_name, clerk.password)
    services.logout(rt.uow(), token=token)
    with pytest.raises(DomainError) as e:
        services.resume(rt.uow(), token=token, idle=timedelta(minutes=10))
    assert e.value.code == PrivacyError.SESSION_INVALID


def test_weak_password_is_refused_and_nothing_is_written(rt: Runtime) -> None:
    from machi.privacy.actor import Actor

    services.load_roles(rt.uow(), Actor.operator())
    with pytest.raises(DomainError) as e:
        services.create_user(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            services.NewUser("weak", "弱 太郎", "short1", (("counter_clerk", "juki"),)),
        )
    assert e.value.code == PrivacyError.WEAK_PASSWORD
    with rt.uow() as uow:
        assert uow.session.scalars(select(StaffUser)).all() == []


def test_totp_secret_is_not_stored_in_plain(rt: Runtime, clerk: Enrolled) -> None:
    with rt.uow() as uow:
        user = uow.session.scalars(select(StaffUser)).one()
    assert clerk.totp.secret.encode() not in user.totp_secret_sealed


def test_a_new_login_ends_the_older_session_beyond_the_limit(rt: Runtime, clerk: Enrolled) -> None:
    def full_login() -> str:
        token = _login(rt, clerk.login_name, clerk.password)
        services.login_totp(
            rt.uow(),
            rt.keys,
            token=token,
            code=clerk.totp.at(rt.clock.now()),
            max_failed=MAX,
            max_sessions=1,
        )
        return token

    first = full_login()
    second = full_login()
    idle = timedelta(minutes=10)
    with pytest.raises(DomainError):
        services.resume(rt.uow(), token=first, idle=idle)
    assert services.resume(rt.uow(), token=second, idle=idle).stage == "active"
    assert _audit(rt)[-1].detail["ended_other_sessions"] == 1


def test_limit_two_keeps_both(rt: Runtime, clerk: Enrolled) -> None:
    tokens = []
    for _ in range(2):
        token = _login(rt, clerk.login_name, clerk.password)
        services.login_totp(
            rt.uow(),
            rt.keys,
            token=token,
            code=clerk.totp.at(rt.clock.now()),
            max_failed=MAX,
            max_sessions=2,
        )
        tokens.append(token)
    for token in tokens:
        assert services.resume(rt.uow(), token=token, idle=timedelta(minutes=10)).stage == "active"
