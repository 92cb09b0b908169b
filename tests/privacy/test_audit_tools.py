"""Audit-log tooling: signed checkpoints and verification (LOG-14), the daily review
(LOG-08), retention planning (LOG-07) and who may use them (AUTHZ-01).

Expected values are worked out by hand from the rows each test writes."""

from __future__ import annotations

import re
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from machi.bootstrap import Runtime
from machi.core.clock import JST, FixedClock
from machi.core.db import make_engine
from machi.core.errors import DomainError
from machi.core.uow import UnitOfWork
from machi.privacy import access, audit, checkpoints, queries, retention, services, signing
from machi.privacy.actor import Actor
from machi.privacy.errors import PrivacyError
from machi.privacy.models import AuditCheckpoint, AuditEntry
from machi.privacy.permissions import Affair, Permission
from support import FreshDatabase, assert_access

PASSWORD = "correct horse 42 battery"
S1 = "11111111-1111-4111-8111-111111111111"
S2 = "22222222-2222-4222-8222-222222222222"
S3 = "33333333-3333-4333-8333-333333333333"
# privacy.view_audit_log is usable in the privacy affair only (permissions.py).
PRIVACY_READERS = {("privacy_officer", "privacy"), ("auditor", "privacy")}
# privacy.verify_audit_log is usable in privacy and admin, and all three roles hold it
# (roles.yaml), so each of them may verify in either affair.
VERIFIERS = {
    (role, affair)
    for role in ("privacy_officer", "auditor", "administrator")
    for affair in ("privacy", "admin")
}


def _jst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


def _set(clock: FixedClock, at: datetime) -> None:
    clock.advance(at - clock.now())


def _log(uow: UnitOfWork, actor: Actor, action: str, n: int = 1, **kw: Any) -> None:
    with uow:
        for _ in range(n):
            audit.record(uow, actor, action=action, **kw)
        uow.commit()


def _signer(directory: Path) -> signing.AuditSigner:
    return signing.load_or_create_signer(directory)


# -- checkpoints on the test transaction ------------------------------------------------


def test_checkpoint_is_signed_over_id_head_rows_and_time(rt: Runtime) -> None:
    for i in range(3):
        _log(rt.uow(), Actor.operator(), "test.write", detail={"i": i})
    signer = _signer(signing.keys_dir(rt.settings))
    written = checkpoints.write_checkpoint(rt.uow(), Actor.operator(), signer)

    with rt.uow() as uow:
        ids = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        head = uow.session.scalar(select(AuditEntry.row_hash).where(AuditEntry.id == ids[2]))
        cp = uow.session.get(AuditCheckpoint, written.id)
        assert cp is not None
        stored = (cp.last_audit_id, bytes(cp.head_hash), cp.rows, cp.at, cp.key_id)
        signature = bytes(cp.signature)
    # The checkpoint covers the three rows; its own audit row (the fourth) comes after.
    assert len(ids) == 4
    assert stored == (ids[2], bytes(head or b""), 3, rt.clock.now(), signer.key_id)
    # The signed bytes, spelt out as documented in docs/audit.md, verify under the public
    # key written beside the private one.
    message = "\x1f".join(
        [
            "machi-audit-checkpoint-v1",
            signer.key_id,
            str(ids[2]),
            bytes(head or b"").hex(),
            "3",
            rt.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        ]
    ).encode()
    public = load_pem_public_key(
        (signing.keys_dir(rt.settings) / signing.PUBLIC_KEY_FILE).read_bytes()
    )
    public.verify(signature, message)  # type: ignore[union-attr,call-arg]

    result = queries.verify_audit_log(rt.uow(), Actor.operator(), signer.verifier)
    assert (result.rows_checked, result.first_broken_id) == (4, None)
    assert (result.checkpoints_total, result.checkpoints_checked) == (1, 1)
    assert (result.first_bad_checkpoint_id, result.truncated, result.ok) == (None, False, True)


def test_a_second_checkpoint_continues_from_the_first(rt: Runtime) -> None:
    signer = _signer(signing.keys_dir(rt.settings))
    _log(rt.uow(), Actor.operator(), "test.write", n=2)
    first = checkpoints.write_checkpoint(rt.uow(), Actor.operator(), signer)
    _log(rt.uow(), Actor.operator(), "test.write", n=2)
    second = checkpoints.write_checkpoint(rt.uow(), Actor.operator(), signer)
    # 2 rows, then the first checkpoint's audit row and 2 more rows.
    assert (first.rows, second.rows) == (2, 5)
    result = queries.verify_audit_log(rt.uow(), Actor.operator(), signer.verifier)
    assert (result.checkpoints_checked, result.rows_checked, result.ok) == (2, 6, True)


def test_reading_and_verifying_the_log_are_themselves_audited(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    verifier = _signer(signing.keys_dir(rt.settings)).verifier
    queries.verify_audit_log(rt.uow(), Actor.operator(), verifier)
    queries.audit_report(rt.uow(), _officer(), day=date(2026, 11, 30))
    with rt.uow() as uow:
        last = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(2))
        rows = [(r.action, r.outcome, r.detail) for r in last]
    assert rows[0] == ("privacy.audit_report", "ok", {"day": "2026-11-30", "rows": 2})
    assert rows[1][:2] == ("privacy.verify_audit_log", "ok")
    assert rows[1][2]["rows_checked"] == 1 and rows[1][2]["first_broken_id"] is None


def test_signing_key_is_private_and_a_readable_one_is_refused(tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    key_file = tmp_path / signing.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _signer(tmp_path).key_id == signer.key_id  # created once, then reused
    key_file.chmod(0o644)
    with pytest.raises(DomainError) as info:
        _signer(tmp_path)
    assert info.value.code == PrivacyError.SIGNING_KEY_EXPOSED


# -- tampering, as a superuser with the triggers disabled --------------------------------


@dataclass
class Live:
    """A committed database: the app's unit of work, and a superuser engine."""

    uow: UnitOfWork
    clock: FixedClock
    superuser: Engine
    keys: Path

    def write(self, n: int) -> None:
        for i in range(n):
            self.clock.advance(timedelta(minutes=1))
            _log(self.uow, Actor.operator(), "test.write", detail={"i": i})

    def checkpoint(self) -> checkpoints.CheckpointWritten:
        return checkpoints.write_checkpoint(self.uow, Actor.operator(), _signer(self.keys))

    def verify(self) -> checkpoints.VerifyResult:
        return queries.verify_audit_log(
            self.uow, Actor.operator(), signing.load_verifier(self.keys)
        )

    def ids(self) -> list[int]:
        with self.superuser.connect() as conn:
            return list(conn.scalars(text("SELECT id FROM privacy.audit_log ORDER BY id")))

    def tamper(self, table: str, sql: str, **params: Any) -> None:
        with self.superuser.begin() as conn:
            conn.execute(text(f"ALTER TABLE privacy.{table} DISABLE TRIGGER USER"))
            conn.execute(text(sql), params)
            conn.execute(text(f"ALTER TABLE privacy.{table} ENABLE TRIGGER USER"))


@pytest.fixture
def live(fresh_db: FreshDatabase, tmp_path: Path) -> Iterator[Live]:
    app = make_engine(fresh_db.app_url, pool_size=1)
    sup = make_engine(fresh_db.superuser_url, pool_size=1)
    clock = FixedClock(_jst(2026, 11, 30, 10))
    yield Live(
        UnitOfWork(sessionmaker(bind=app, expire_on_commit=False), clock), clock, sup, tmp_path
    )
    app.dispose()
    sup.dispose()


def test_checkpoint_table_is_append_only(live: Live, fresh_db: FreshDatabase) -> None:
    live.write(1)
    live.checkpoint()
    app = make_engine(fresh_db.app_url, pool_size=1)
    owner = make_engine(fresh_db.owner_url, pool_size=1)
    for engine in (app, owner):
        for statement in (
            "UPDATE privacy.audit_checkpoint SET rows = rows + 1",
            "DELETE FROM privacy.audit_checkpoint",
            "TRUNCATE privacy.audit_checkpoint",
        ):
            with pytest.raises(DBAPIError) as info, engine.begin() as conn:
                conn.execute(text(statement))
            # The app role lacks the privilege; the owner has it and meets the trigger.
            assert info.value.orig is not None and info.value.orig.sqlstate == "42501"
    app.dispose()
    owner.dispose()


_EDIT = "UPDATE privacy.audit_checkpoint SET "


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        (_EDIT + "rows = rows - 1", "signature"),
        (_EDIT + "last_audit_id = last_audit_id - 1", "signature"),
        (_EDIT + "head_hash = sha256(head_hash)", "signature"),
        (_EDIT + "at = at - interval '1 day'", "signature"),
        (_EDIT + "signature = set_byte(signature, 0, get_byte(signature, 0) # 1)", "signature"),
        (_EDIT + "key_id = 'ed25519:0000000000000000'", "unknown_key"),
    ],
)
def test_an_edited_checkpoint_is_reported(live: Live, statement: str, reason: str) -> None:
    live.write(3)
    cp = live.checkpoint()
    live.write(1)
    live.tamper("audit_checkpoint", statement)
    result = live.verify()
    assert (result.first_bad_checkpoint_id, result.first_bad_checkpoint_reason) == (cp.id, reason)
    assert result.first_broken_id is None and not result.ok
    # A new checkpoint is not stacked on a forged one.
    with pytest.raises(DomainError) as info:
        live.checkpoint()
    assert info.value.code == PrivacyError.AUDIT_CHECKPOINT_INVALID


def test_a_forged_checkpoint_under_another_key_is_reported(live: Live) -> None:
    live.write(2)
    cp = live.checkpoint()
    # Someone with database access but not the key signs their own statement.
    forger = Ed25519PrivateKey.generate()
    with live.superuser.connect() as conn:
        row = conn.execute(
            text("SELECT key_id, last_audit_id, head_hash, rows, at FROM privacy.audit_checkpoint")
        ).one()
    message = checkpoints.checkpoint_message(
        key_id=row.key_id,
        last_audit_id=row.last_audit_id,
        head_hash=bytes(row.head_hash),
        rows=row.rows,
        at=row.at,
    )
    live.tamper(
        "audit_checkpoint",
        "UPDATE privacy.audit_checkpoint SET signature = :sig",
        sig=forger.sign(message),
    )
    assert live.verify().first_bad_checkpoint_id == cp.id


def test_a_chain_edit_is_named_by_id(live: Live) -> None:
    live.write(5)
    ids = live.ids()
    live.tamper(
        "audit_log",
        "UPDATE privacy.audit_log SET detail = '{\"i\": 99}' WHERE id = :id",
        id=ids[3],
    )
    result = live.verify()
    assert (result.first_broken_id, result.rows_checked, result.ok) == (ids[3], 3, False)
    with pytest.raises(DomainError) as info:
        live.checkpoint()
    assert info.value.code == PrivacyError.AUDIT_CHAIN_BROKEN
    with live.superuser.connect() as conn:
        refusal = conn.execute(
            text("SELECT action, outcome, detail FROM privacy.audit_log ORDER BY id DESC LIMIT 1")
        ).one()
    assert tuple(refusal) == ("privacy.write_checkpoint", "failed", {"first_broken_id": ids[3]})


def test_a_rewrite_that_recomputes_the_chain_is_caught_by_the_checkpoint(live: Live) -> None:
    """The chain alone cannot show this; the signed head can."""
    live.write(4)
    cp = live.checkpoint()
    ids = live.ids()
    live.tamper(
        "audit_log",
        "UPDATE privacy.audit_log SET detail = '{\"i\": 99}' WHERE id = :id",
        id=ids[1],
    )
    # Relink every row from the edited one on, exactly as the insert trigger would.
    for row_id in ids[1:]:
        live.tamper(
            "audit_log",
            "UPDATE privacy.audit_log a SET "
            "prev_hash = (SELECT row_hash FROM privacy.audit_log WHERE id < a.id "
            "             ORDER BY id DESC LIMIT 1), "
            "row_hash = sha256((SELECT row_hash FROM privacy.audit_log WHERE id < a.id "
            "                   ORDER BY id DESC LIMIT 1) || "
            "                  convert_to(privacy.audit_canonical(a), 'UTF8')) "
            "WHERE id = :id",
            id=row_id,
        )
    result = live.verify()
    assert result.first_broken_id is None  # the chain is consistent with itself
    assert (result.first_bad_checkpoint_id, result.first_bad_checkpoint_reason) == (
        cp.id,
        "head_mismatch",
    )


def test_rows_deleted_after_a_checkpoint_are_reported_as_truncation(live: Live) -> None:
    live.write(5)
    cp = live.checkpoint()  # covers the 5 rows; its audit row is the 6th
    live.write(2)
    ids = live.ids()
    assert len(ids) == 8 and cp.last_audit_id == ids[4]
    n = 4  # ids[4:]: the checkpoint's last row, its audit row and the 2 after
    live.tamper("audit_log", "DELETE FROM privacy.audit_log WHERE id >= :id", id=ids[8 - n])
    result = live.verify()
    assert result.truncated and not result.ok
    # What remains is an intact prefix and the checkpoint itself is genuine.
    assert (result.first_broken_id, result.rows_checked) == (None, 4)
    assert result.first_bad_checkpoint_id is None
    with pytest.raises(DomainError) as info:
        live.checkpoint()
    assert info.value.code == PrivacyError.AUDIT_CHECKPOINT_INVALID


def test_rows_cut_out_and_the_log_continued_are_reported(live: Live) -> None:
    live.write(3)
    cp = live.checkpoint()
    ids = live.ids()
    live.tamper("audit_log", "DELETE FROM privacy.audit_log WHERE id >= :id", id=ids[2])
    live.write(2)  # new rows link to what is left, so the chain is whole again
    result = live.verify()
    assert result.first_broken_id is None and not result.truncated
    assert (result.first_bad_checkpoint_id, result.first_bad_checkpoint_reason) == (
        cp.id,
        "rows_missing",
    )


def test_an_archived_prefix_is_anchored_on_its_checkpoint(live: Live) -> None:
    live.write(3)
    cp = live.checkpoint()
    live.write(2)
    ids = live.ids()
    # The owner's archive procedure (docs/audit.md) removes rows up to a checkpoint.
    live.tamper("audit_log", "DELETE FROM privacy.audit_log WHERE id <= :id", id=cp.last_audit_id)
    result = live.verify()
    assert result.ok and (result.archived_through_id, result.archived_at) == (ids[2], cp.at)
    assert (result.rows_checked, result.checkpoints_checked) == (3, 1)
    # Cutting anywhere else leaves a first row that links to nothing known.
    live.tamper("audit_log", "DELETE FROM privacy.audit_log WHERE id = :id", id=ids[3])
    assert live.verify().first_broken_id == ids[4]


# -- the daily review --------------------------------------------------------------------

DAY = date(2026, 12, 2)  # a Wednesday, a business day
WEEKEND = date(2026, 12, 5)  # a Saturday


def _officer() -> Actor:
    return Actor(
        user_id=None,
        login_name="officer",
        terminal="t-officer",
        affair=Affair.PRIVACY,
        permissions=frozenset({Permission.PRIVACY_VIEW_AUDIT_LOG}),
    )


@pytest.fixture
def day_log(rt: Runtime) -> dict[str, Actor]:
    """Five clerks' day, plus history for the volume baseline. The comments give each
    clerk's running count of rows on DAY."""
    clock = rt.clock
    assert isinstance(clock, FixedClock)
    services.load_roles(rt.uow(), Actor.operator())
    who: dict[str, Actor] = {}
    for name in ("a", "b", "c", "heavy", "steady"):
        new = services.NewUser(name, "職員", PASSWORD, (("counter_clerk", "juki"),))
        created = services.create_user(rt.uow(), Actor.operator(), rt.keys, new)
        who[name] = Actor(
            created.user_id, name, f"t-{name}", affair="juki", purpose="juki.certificate"
        )
    view = "registry.view_resident"

    # History. The window is the 28 days before DAY: 2026-11-04 00:00 up to DAY.
    _set(clock, _jst(2026, 11, 3, 23, 59))
    _log(rt.uow(), who["heavy"], view, n=5)  # outside the window
    _set(clock, _jst(2026, 11, 4, 0, 0))
    _log(rt.uow(), who["heavy"], view, n=28)
    _set(clock, _jst(2026, 12, 1, 10))
    _log(rt.uow(), who["heavy"], view, n=28)  # heavy: 56 / 28 = 2.0 a day
    _log(rt.uow(), who["steady"], view, n=560)  # steady: 560 / 28 = 20.0 a day

    _set(clock, _jst(2026, 12, 2, 7, 30))
    _log(rt.uow(), who["a"], view)  # a 1, off-hours
    for minute in (0, 1, 2):  # c 3: wrong, wrong (locks), then refused as locked
        _set(clock, _jst(2026, 12, 2, 9, minute))
        with pytest.raises(DomainError):
            services.login_password(
                rt.uow(), login_name="c", password="wrong", terminal="t-c", max_failed=2
            )
    _set(clock, _jst(2026, 12, 2, 9, 5))
    with pytest.raises(DomainError):
        services.login_password(
            rt.uow(), login_name="nobody", password="x", terminal="t-x", max_failed=2
        )
    _set(clock, _jst(2026, 12, 2, 10))
    _log(rt.uow(), who["a"], view, n=4)  # a 5
    _log(rt.uow(), who["b"], view, n=5)  # b 5
    _log(rt.uow(), who["c"], view, n=6)  # c 9
    _set(clock, _jst(2026, 12, 2, 10, 30))
    # A careless writer put a name in the detail; the report must not show it.
    _log(rt.uow(), who["a"], queries.NUMBER_VIEW_ACTION, subjects=[S2], detail={"note": "山田太郎"})
    _log(rt.uow(), who["a"], queries.NUMBER_VIEW_ACTION, subjects=[S1])  # a 7
    _log(rt.uow(), who["c"], queries.NUMBER_VIEW_ACTION, subjects=[S1])  # c 10
    _set(clock, _jst(2026, 12, 2, 11))
    _log(rt.uow(), who["heavy"], view, n=60)  # heavy 60
    _set(clock, _jst(2026, 12, 2, 13))
    _log(rt.uow(), who["steady"], view, n=55)  # steady 55
    _set(clock, _jst(2026, 12, 2, 14))
    with pytest.raises(access.PermissionDenied):
        services.list_users(rt.uow(), who["b"])  # b 6, refused
    _set(clock, _jst(2026, 12, 2, 15))
    _log(rt.uow(), who["c"], "nhi.export", subjects=[S1, S2, S3])  # c 11
    _set(clock, _jst(2026, 12, 2, 16))
    _log(rt.uow(), who["b"], "registry.residents_csv", detail={"bulk": True})  # b 7
    _set(clock, _jst(2026, 12, 2, 16, 30))
    _log(rt.uow(), Actor.operator(), "registry.export_check")  # not an export
    _log(rt.uow(), Actor.operator(), "registry.residents_csv", detail={"bulk": False})
    _set(clock, _jst(2026, 12, 2, 18, 59))
    _log(rt.uow(), who["b"], view)  # b 8, last minute of office hours
    _set(clock, _jst(2026, 12, 2, 19, 0))
    _log(rt.uow(), who["c"], view, n=2)  # c 13, first minute after

    _set(clock, _jst(2026, 12, 5, 10))
    _log(rt.uow(), who["a"], view, n=2)  # Saturday: all off-hours
    # Report on Monday, so the report's own audit row falls on neither day.
    _set(clock, _jst(2026, 12, 7, 9))
    return who


def _hm(h: int, m: int = 0) -> datetime:
    return _jst(2026, 12, 2, h, m)


@pytest.mark.slow(reason="enrols five staff users (argon2) and writes a month of log")
def test_daily_review_lists_exactly_the_expected_items(
    rt: Runtime, day_log: dict[str, Actor]
) -> None:
    r = queries.audit_report(rt.uow(), _officer(), day=DAY)
    view = "registry.view_resident"
    assert (r.day, r.business_day) == (DAY, True)
    # registry.view_resident: a 1+4, b 5+1, c 6+2, heavy 60, steady 55 = 134
    assert [(t.action, t.outcome, t.count) for t in r.totals] == [
        ("nhi.export", "ok", 1),
        ("privacy.list_users", "denied", 1),
        ("privacy.login", "denied", 4),
        ("privacy.view_individual_number", "ok", 3),
        ("registry.export_check", "ok", 1),
        ("registry.residents_csv", "ok", 2),
        (view, "ok", 134),
    ]
    assert r.total == 146
    # Day counts a 7, b 8, c 13, heavy 60, steady 55: median 13, 3x = 39.
    # heavy: 60 >= 39 and 60 >= 3 x 2.0; steady: 55 >= 39 but 55 < 3 x 20.0.
    # a (7 >= 3 x 0) is under the 50-action floor.
    assert r.median == 13.0
    assert [
        (u.user, u.count, u.own_daily_average, u.median, u.above_median, u.above_own_average)
        for u in r.unusual_volume
    ] == [
        ("heavy", 60, 2.0, 13.0, True, True),
        ("steady", 55, 20.0, 13.0, True, False),
    ]
    assert [
        (g.user, g.terminal, g.action, g.count, g.first_at, g.last_at) for g in r.off_hours
    ] == [
        ("a", "t-a", view, 1, _hm(7, 30), _hm(7, 30)),
        ("c", "t-c", view, 2, _hm(19), _hm(19)),
    ]
    assert [(g.user, g.terminal, g.action, g.count) for g in r.refusals] == [
        ("b", "t-b", "privacy.list_users", 1)
    ]
    assert [
        (v.user, v.terminal, v.affair, v.purpose, v.views, v.subjects, v.subject_ids)
        for v in r.number_views
    ] == [
        ("a", "t-a", "juki", "juki.certificate", 2, 2, (S1, S2)),
        ("c", "t-c", "juki", "juki.certificate", 1, 1, (S1,)),
    ]
    assert [
        (e.at, e.user, e.terminal, e.action, e.outcome, e.subjects) for e in r.bulk_exports
    ] == [
        (_hm(15), "c", "t-c", "nhi.export", "ok", 3),
        (_hm(16), "b", "t-b", "registry.residents_csv", "ok", 0),
    ]
    assert [(f.user, f.terminal, f.count, f.locked) for f in r.login_failures] == [
        ("c", "t-c", 3, True),
        ("（職員IDなし）", "t-x", 1, False),
    ]
    assert [(k.at, k.user, k.terminal) for k in r.lockouts] == [(_hm(9, 1), "c", "t-c")]

    # Saturday: a closed day, so every row is off-hours.
    w = queries.audit_report(rt.uow(), _officer(), day=WEEKEND)
    assert w.business_day is False and w.total == 2
    assert [(g.user, g.action, g.count, g.first_at) for g in w.off_hours] == [
        ("a", view, 2, _jst(2026, 12, 5, 10))
    ]
    assert w.unusual_volume == () and w.refusals == () and w.lockouts == ()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.mark.slow(reason="enrols five staff users (argon2) and writes a month of log")
def test_review_html_shows_ids_and_never_detail_values(
    rt: Runtime, day_log: dict[str, Actor]
) -> None:
    html = queries.audit_report(rt.uow(), _officer(), day=DAY).html()
    assert "令和8年12月2日（水）" in html and "開庁日" in html
    # The only UUIDs are the subject ids of the 個人番号 views; staff appear by login name.
    assert set(_UUID.findall(html)) == {S1, S2}
    assert all(str(a.user_id) not in html for a in day_log.values())
    assert "山田太郎" not in html
    assert "IPAexGothic" in html and "日本語フォント" not in html


def test_review_without_the_font_says_so(rt: Runtime) -> None:
    report = queries.audit_report(rt.uow(), _officer(), day=DAY)
    html = report.html(fonts=())
    assert "@font-face" not in html and "fonts-ipaexfont" in html


HEADINGS = (
    "監査ログ日次点検報告書",
    "操作別件数",
    "操作件数が通常と異なる職員",
    "時間外・閉庁日の操作",
    "拒否された操作",
    "個人番号の表示",
    "一括出力",
    "ログイン失敗・アカウントロック",
    "点検記録",
)


@pytest.mark.slow(reason="WeasyPrint lays out and embeds a Japanese font")
def test_review_pdf_is_a_real_pdf_with_the_wareki_date(rt: Runtime, tmp_path: Path) -> None:
    from pypdf import PdfReader

    assert isinstance(rt.clock, FixedClock)
    _set(rt.clock, _hm(20))
    _log(rt.uow(), Actor.operator(), "registry.view_resident", n=3)
    _log(rt.uow(), Actor.operator(), "nhi.export", subjects=[S1])
    pdf = queries.audit_report(rt.uow(), _officer(), day=DAY).pdf()
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    reader = PdfReader(path)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():  # type: ignore[index]
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("IPAexGothic" in f for f in fonts), fonts
    text_ = "".join(page.extract_text() for page in reader.pages)
    poppler = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    for extracted in (text_, poppler):
        squeezed = re.sub(r"\s+", "", extracted)
        assert "令和8年12月2日" in squeezed
        for heading in HEADINGS:
            assert heading in squeezed, heading
    assert "nhi.export" in poppler


# -- who may use the tools ---------------------------------------------------------------


def test_audit_report_access(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    assert_access(
        rt,
        "privacy.audit_report",
        lambda actor, _i: queries.audit_report(rt.uow(), actor, day=DAY),
        PRIVACY_READERS,
    )


def test_verify_audit_log_access(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    verifier = signing.load_verifier(signing.keys_dir(rt.settings))
    assert_access(
        rt,
        "privacy.verify_audit_log",
        lambda actor, _i: queries.verify_audit_log(rt.uow(), actor, verifier),
        VERIFIERS,
    )


def test_write_checkpoint_access(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    signer = _signer(signing.keys_dir(rt.settings))
    assert_access(
        rt,
        "privacy.write_checkpoint",
        lambda actor, _i: checkpoints.write_checkpoint(rt.uow(), actor, signer),
        VERIFIERS,
    )


# -- retention -----------------------------------------------------------------------------


def test_retention_defaults_and_overrides() -> None:
    years = retention.retention_years()
    assert years[retention.LogClass.JUKI_OPERATION] == 10
    assert years[retention.LogClass.JUKINET] == 7
    assert retention.audit_log_years() == 10
    assert retention.retention_years({"jukinet": 8})[retention.LogClass.JUKINET] == 8
    assert retention.audit_log_years({"contractor_operation": 12}) == 12
    for bad in ({"no_such_log": 5}, {"jukinet": 0}, {"jukinet": True}):
        with pytest.raises(ValueError):
            retention.retention_years(bad)
    assert retention.cutoff_for(date(2028, 2, 29), 10) == date(2018, 2, 28)


def test_purge_plan_counts_the_expired_prefix_and_the_checkpoint_to_cut_at(
    rt: Runtime,
) -> None:
    clock = rt.clock
    assert isinstance(clock, FixedClock)
    signer = _signer(signing.keys_dir(rt.settings))
    # As of 2026-11-30, ten years keeps everything from 2016-11-30 00:00 JST on.
    _set(clock, _jst(2016, 11, 1, 9))
    _log(rt.uow(), Actor.operator(), "test.old", n=2)
    checkpoints.write_checkpoint(rt.uow(), Actor.operator(), signer)  # covers 2; its row is 3rd
    _set(clock, _jst(2016, 11, 29, 23, 59))
    _log(rt.uow(), Actor.operator(), "test.old")  # 4th, expired
    _set(clock, _jst(2016, 11, 30, 0, 0))
    _log(rt.uow(), Actor.operator(), "test.young")  # 5th, kept
    _set(clock, _jst(2016, 11, 1, 9))
    _log(rt.uow(), Actor.operator(), "test.old")  # 6th: old, but after a kept row
    with rt.uow() as uow:
        ids = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        hashes = {i: h for i, h in uow.session.execute(select(AuditEntry.id, AuditEntry.row_hash))}
        plan = retention.purge_plan(uow.session, date(2026, 11, 30), 10)
        cp_id = uow.session.scalar(select(AuditCheckpoint.id))
    assert plan.cutoff == date(2016, 11, 30)
    assert (plan.expired_rows, plan.last_expired_id) == (4, ids[3])
    assert (plan.checkpoint_id, plan.archive_through_id, plan.archive_rows) == (cp_id, ids[1], 2)
    assert plan.boundary_hash == bytes(hashes[ids[1]] or b"").hex()
    with rt.uow() as uow:
        nothing = retention.purge_plan(uow.session, date(2026, 11, 30), 20)
    assert (nothing.expired_rows, nothing.last_expired_id, nothing.checkpoint_id) == (0, None, None)


# -- schema --------------------------------------------------------------------------------


def test_model_matches_the_migration(migrated_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from machi.core.db import Base

    def only_checkpoints(obj: Any, _name: Any, kind: str, _reflected: Any, _other: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return table is None or table.name == "audit_checkpoint"

    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, kind, _p: kind != "schema" or name == "privacy",
                "include_object": only_checkpoints,
                "compare_type": True,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_sign_message_is_stable_across_time_zones() -> None:
    at = _jst(2026, 12, 2, 9, 0)
    args: dict[str, Any] = {"key_id": "k", "last_audit_id": 7, "head_hash": b"\x01", "rows": 7}
    assert checkpoints.checkpoint_message(at=at, **args) == checkpoints.checkpoint_message(
        at=at.astimezone(UTC), **args
    )
    assert checkpoints.checkpoint_message(at=at, **args).endswith(b"2026-12-02T00:00:00.000000Z")


def test_a_fresh_key_id_is_derived_from_the_public_key(tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    assert signer.key_id == signing.key_id_of(signer.private_key.public_key())
    assert signer.key_id.startswith("ed25519:") and len(signer.key_id) == 24


@pytest.mark.slow(reason="runs the three commands against a committed database, with a PDF")
def test_cli_checkpoint_verify_and_report(
    live: Live, fresh_db: FreshDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from machi.cli.audit import app

    monkeypatch.setenv("MACHI_DATABASE_URL", fresh_db.app_url)
    monkeypatch.setenv("MACHI_VAR_DIR", str(tmp_path / "var"))
    live.write(2)
    runner = CliRunner()
    done = runner.invoke(app, ["checkpoint"])
    assert done.exit_code == 0, done.output
    assert "チェックポイント No." in done.output and "まで 2 件" in done.output
    done = runner.invoke(app, ["verify"])
    assert done.exit_code == 0, done.output
    assert "検証した行数: 3" in done.output and "1 / 1 件を確認" in done.output

    out = tmp_path / "reports"
    done = runner.invoke(app, ["report", "--date", "2026-11-30", "--out", str(out)])
    assert done.exit_code == 0, done.output
    html, pdf = out / "audit-report-2026-11-30.html", out / "audit-report-2026-11-30.pdf"
    assert str(html) in done.output and str(pdf) in done.output
    assert "令和8年11月30日" in html.read_text("utf-8") and pdf.read_bytes()[:5] == b"%PDF-"
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o640

    ids = live.ids()
    live.tamper("audit_log", "DELETE FROM privacy.audit_log WHERE id >= :id", id=ids[1])
    done = runner.invoke(app, ["verify"])
    assert done.exit_code == 1 and "切り詰め" in done.output


def test_a_day_outside_the_calendar_is_refused(rt: Runtime) -> None:
    with pytest.raises(DomainError) as info:
        queries.audit_report(rt.uow(), _officer(), day=date(1990, 1, 1))
    assert info.value.code == "core.invalid_input"
