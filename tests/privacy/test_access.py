"""Access tables for the privacy context's actions: the allowed role passes, every other
role and affair is refused and the refusal is logged (controls.md AUTHZ-01)."""

from __future__ import annotations

from machi.bootstrap import Runtime
from machi.privacy import services
from machi.privacy.actor import Actor
from support import assert_access

ADMIN = {("administrator", "admin")}


def _setup(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())


def test_load_roles(rt: Runtime) -> None:
    _setup(rt)
    assert_access(
        rt, "privacy.load_roles", lambda actor, _i: services.load_roles(rt.uow(), actor), ADMIN
    )


def test_create_user(rt: Runtime) -> None:
    _setup(rt)

    def call(actor: Actor, i: int) -> object:
        new = services.NewUser(f"user{i}", "職員", "long enough pw 123", (("auditor", "privacy"),))
        return services.create_user(rt.uow(), actor, rt.keys, new)

    assert_access(rt, "privacy.create_user", call, ADMIN)


def test_list_users(rt: Runtime) -> None:
    _setup(rt)
    assert_access(
        rt, "privacy.list_users", lambda actor, _i: services.list_users(rt.uow(), actor), ADMIN
    )


def test_unlock_user_and_current_totp(rt: Runtime) -> None:
    _setup(rt)
    new = services.NewUser("target", "対象", "long enough pw 123", (("auditor", "privacy"),))
    services.create_user(rt.uow(), Actor.operator(), rt.keys, new)
    assert_access(
        rt,
        "privacy.unlock_user",
        lambda actor, _i: services.unlock_user(rt.uow(), actor, "target"),
        ADMIN,
    )
    assert_access(
        rt,
        "privacy.current_totp",
        lambda actor, _i: services.current_totp(rt.uow(), actor, rt.keys, "target"),
        ADMIN,
    )


def test_grant_and_revoke_role(rt: Runtime) -> None:
    _setup(rt)
    new = services.NewUser("grantee", "対象", "long enough pw 123", (("auditor", "privacy"),))
    services.create_user(rt.uow(), Actor.operator(), rt.keys, new)
    assert_access(
        rt,
        "privacy.grant_role",
        lambda actor, _i: services.grant_role(rt.uow(), actor, "grantee", "nhi_staff", "nhi"),
        ADMIN,
    )
    assert_access(
        rt,
        "privacy.revoke_role",
        lambda actor, _i: services.revoke_role(rt.uow(), actor, "grantee", "nhi_staff", "nhi"),
        ADMIN,
    )


def test_list_roles(rt: Runtime) -> None:
    _setup(rt)
    assert_access(
        rt, "privacy.list_roles", lambda actor, _i: services.list_roles(rt.uow(), actor), ADMIN
    )
