"""The My Number vault (issue: Privacy core, item 3; controls.md AUTHZ-05, DISP-01,
PHYS-13): sealed storage, blind-index lookup, masking, audited unmasking, key rotation, and
no 個人番号 in any audit row, log line or error. Every number here is synthetic: 11 made-up
digits plus the check digit the ordinance prescribes."""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.core.numbers import individual_number_check_digit
from machi.privacy import services, vault
from machi.privacy.access import PermissionDenied
from machi.privacy.actor import Actor
from machi.privacy.errors import PrivacyError
from machi.privacy.keys import ENV_VAR, Keyring
from machi.privacy.models import AuditEntry, IndividualNumber
from machi.privacy.permissions import Affair, Permission
from support import assert_access

NUMBER_RIGHT = frozenset({Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER})
# number_handler holds the number right; it works in each 個人番号利用事務 (juki, nhi,
# tax_collection) and nowhere else (permissions.NUMBER_USE_AFFAIRS).
NUMBER_HANDLERS = {
    ("number_handler", "juki"),
    ("number_handler", "nhi"),
    ("number_handler", "tax_collection"),
}
ADMIN = {("administrator", "admin")}


def synthetic_number(i: int) -> str:
    first11 = f"9{i:010d}"
    return first11 + str(individual_number_check_digit(first11))


def handler(affair: str = "juki") -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        login_name="handler",
        terminal="t-counter-1",
        affair=affair,
        grants=frozenset({("number_handler", affair)}),
        permissions=NUMBER_RIGHT,
    )


def clerk() -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        login_name="clerk",
        terminal="t-counter-2",
        affair="juki",
        grants=frozenset({("counter_clerk", "juki")}),
    )


def store(rt: Runtime, subject: uuid.UUID, number: str, keys: Keyring | None = None) -> None:
    with rt.uow() as uow:
        vault.store_number(
            uow, Actor.operator(affair=Affair.JUKI), keys or rt.keys, subject, number
        )
        uow.commit()


def find(rt: Runtime, number: str, keys: Keyring | None = None) -> uuid.UUID | None:
    with rt.uow() as uow:
        found = vault.find_subject_by_number(uow, handler(), keys or rt.keys, number)
        uow.commit()
    return found


def show(rt: Runtime, subject: uuid.UUID, keys: Keyring | None = None) -> str:
    return vault.display_number(
        rt.uow(), handler(), keys or rt.keys, subject, reason=vault.UnmaskReason.IDENTITY_CHECK
    )


def rows(rt: Runtime) -> list[IndividualNumber]:
    with rt.uow() as uow:
        return list(uow.session.scalars(select(IndividualNumber).order_by(IndividualNumber.id)))


def audit_rows(rt: Runtime, after: int = 0) -> list[AuditEntry]:
    with rt.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
            )
        )


def last_audit_id(rt: Runtime) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.max(AuditEntry.id))) or 0


# -- storage ---------------------------------------------------------------------------


def test_round_trip_stores_only_ciphertext_with_its_key_id(rt: Runtime) -> None:
    subject, number = uuid.uuid4(), synthetic_number(1)
    store(rt, subject, number)
    [row] = rows(rt)
    assert row.subject_id == subject and row.superseded_at is None
    assert row.key_id == rt.keys.current == rt.keys.key_id_of(row.ciphertext)
    assert number.encode() not in row.ciphertext and number.encode() not in row.blind_index
    assert show(rt, subject) == number


def test_no_plaintext_number_anywhere_in_the_table(rt: Runtime, connection: Connection) -> None:
    number = synthetic_number(2)
    store(rt, uuid.uuid4(), number)
    hits = connection.execute(
        text(
            "SELECT count(*) FROM privacy.individual_number t "
            "WHERE position(convert_to(:n, 'UTF8') IN t.ciphertext) > 0 "
            "OR position(convert_to(:n, 'UTF8') IN t.blind_index) > 0 "
            "OR t::text LIKE '%' || :n || '%'"
        ),
        {"n": number},
    ).scalar()
    assert hits == 0


def test_sealed_value_cannot_be_moved_to_another_subject(rt: Runtime) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    store(rt, a, synthetic_number(3))
    store(rt, b, synthetic_number(4))
    with rt.uow() as uow:
        row_a, row_b = uow.session.scalars(select(IndividualNumber).order_by(IndividualNumber.id))
        row_b.ciphertext = row_a.ciphertext
        uow.commit()
    with pytest.raises(InvalidTag):
        show(rt, b)


def test_invalid_number_is_refused_without_echoing_it(rt: Runtime) -> None:
    good = synthetic_number(5)
    bad = good[:11] + str((int(good[11]) + 1) % 10)
    for wrong in (bad, good[:11], "１２３４５６７８９０１２", f"{good[:4]}-{good[4:]}"):
        with pytest.raises(DomainError) as info:
            store(rt, uuid.uuid4(), wrong)
        assert info.value.code == PrivacyError.INVALID_INDIVIDUAL_NUMBER
        assert wrong not in str(info.value) and good[:11] not in str(info.value)
    assert rows(rt) == []


def test_blind_index_lookup_finds_the_subject_and_is_deterministic(rt: Runtime) -> None:
    subject, number = uuid.uuid4(), synthetic_number(6)
    store(rt, subject, number)
    assert find(rt, number) == subject
    # Another process loading the same keyring computes the same index.
    assert rt.keys.path is not None
    again = Keyring.load_or_create(rt.keys.path, environ={})
    assert find(rt, number, again) == subject
    assert find(rt, synthetic_number(7)) is None
    [audited_hit, audited_miss] = [
        r for r in audit_rows(rt) if r.action == "privacy.search_by_number"
    ][-2:]
    assert audited_hit.subject_ids == [str(subject)] and audited_hit.detail == {"found": 1}
    assert audited_miss.subject_ids == [] and audited_miss.detail == {"found": 0}


def test_two_subjects_cannot_share_a_number_and_nothing_is_written(rt: Runtime) -> None:
    number = synthetic_number(8)
    store(rt, uuid.uuid4(), number)
    before_rows, before_audit = len(rows(rt)), last_audit_id(rt)
    with pytest.raises(DomainError) as info:
        store(rt, uuid.uuid4(), number)
    assert info.value.code == PrivacyError.INDIVIDUAL_NUMBER_IN_USE
    assert info.value.http_status == 409 and number not in str(info.value)
    assert len(rows(rt)) == before_rows
    assert last_audit_id(rt) == before_audit


def test_number_change_supersedes_and_keeps_the_old_row(rt: Runtime) -> None:
    subject, old, new = uuid.uuid4(), synthetic_number(9), synthetic_number(10)
    store(rt, subject, old)
    store(rt, subject, new)
    first, second = rows(rt)
    assert first.superseded_at == rt.clock.now() and second.superseded_at is None
    assert {first.subject_id, second.subject_id} == {subject}
    assert show(rt, subject) == new
    assert find(rt, old) is None and find(rt, new) == subject
    changes = [r.detail for r in audit_rows(rt) if r.action == "privacy.store_individual_number"]
    assert [c["superseded"] for c in changes] == [0, 1]


def test_storing_the_same_number_again_changes_nothing(rt: Runtime) -> None:
    subject, number = uuid.uuid4(), synthetic_number(11)
    store(rt, subject, number)
    before = last_audit_id(rt)
    store(rt, subject, number)
    assert len(rows(rt)) == 1 and last_audit_id(rt) == before


def test_app_role_cannot_delete_vault_rows(rt: Runtime, connection: Connection) -> None:
    store(rt, uuid.uuid4(), synthetic_number(12))
    for statement in (
        "DELETE FROM privacy.individual_number",
        "TRUNCATE privacy.individual_number",
    ):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError) as info:
            connection.execute(text(statement))
        savepoint.rollback()
        assert getattr(info.value.orig, "sqlstate", None) == "42501"


# -- masking and unmasking --------------------------------------------------------------


@given(st.from_regex(r"[0-9]{11}", fullmatch=True))
def test_masked_never_shows_a_digit(first11: str) -> None:
    number = first11 + str(individual_number_check_digit(first11))
    shown = vault.masked(number)
    assert shown == vault.MASK
    assert not any(c.isdigit() for c in shown)


def test_masked_none_says_not_recorded() -> None:
    assert vault.masked(None) == vault.NOT_RECORDED
    assert not any(c.isdigit() for c in vault.NOT_RECORDED + vault.MASK)


def test_number_for_display_is_the_mask_for_everybody(rt: Runtime) -> None:
    subject, nobody = uuid.uuid4(), uuid.uuid4()
    store(rt, subject, synthetic_number(13))
    with rt.uow() as uow:
        for actor in (handler(), clerk(), Actor.operator()):
            assert vault.number_for_display(uow, actor, subject) == vault.MASK
            assert vault.number_for_display(uow, actor, nobody) == vault.NOT_RECORDED


def test_unmask_with_right_and_reason_is_audited_without_the_number(rt: Runtime) -> None:
    subject, number = uuid.uuid4(), synthetic_number(14)
    store(rt, subject, number)
    actor = handler("nhi")
    before = last_audit_id(rt)
    shown = vault.display_number(
        rt.uow(), actor, rt.keys, subject, reason="assessment_collection", note="無視される"
    )
    assert shown == number
    [row] = audit_rows(rt, before)
    assert (row.action, row.outcome, row.affair) == ("privacy.view_individual_number", "ok", "nhi")
    assert row.actor_user_id == actor.user_id and row.subject_ids == [str(subject)]
    assert row.detail == {"reason": "assessment_collection"}


def test_other_reason_keeps_a_short_note(rt: Runtime) -> None:
    subject = uuid.uuid4()
    store(rt, subject, synthetic_number(15))
    before = last_audit_id(rt)
    vault.display_number(
        rt.uow(), handler(), rt.keys, subject, reason=vault.UnmaskReason.OTHER, note=" 照合調査 "
    )
    [row] = audit_rows(rt, before)
    assert row.detail == {"reason": "other", "note": "照合調査"}


@pytest.mark.parametrize(
    ("reason", "note", "code"),
    [
        ("", "", PrivacyError.UNMASK_REASON_REQUIRED),
        ("   ", "", PrivacyError.UNMASK_REASON_REQUIRED),
        ("because", "", PrivacyError.UNMASK_REASON_REQUIRED),
        ("other", "", PrivacyError.UNMASK_REASON_REQUIRED),
        ("other", " 確 ", PrivacyError.UNMASK_REASON_REQUIRED),
        ("other", "あ" * 101, PrivacyError.UNMASK_REASON_REQUIRED),
        ("other", "番号 9000 0000 0150 を確認", PrivacyError.UNMASK_NOTE_HAS_NUMBER),
        ("other", "番号９０００００００１５０１を確認", PrivacyError.UNMASK_NOTE_HAS_NUMBER),
    ],
)
def test_unmask_without_a_proper_reason_is_refused(
    rt: Runtime, reason: str, note: str, code: PrivacyError
) -> None:
    subject = uuid.uuid4()
    store(rt, subject, synthetic_number(16))
    before = last_audit_id(rt)
    with pytest.raises(DomainError) as info:
        vault.display_number(rt.uow(), handler(), rt.keys, subject, reason=reason, note=note)
    assert info.value.code == code
    assert last_audit_id(rt) == before  # nothing shown, nothing to log


def test_unmask_without_the_right_is_denied_and_audited(rt: Runtime) -> None:
    subject, number = uuid.uuid4(), synthetic_number(17)
    store(rt, subject, number)
    # The right is held, but 個人情報保護 is not a 個人番号利用事務 (AUTHZ-05, DISP-01).
    outside = Actor(
        user_id=uuid.uuid4(),
        login_name="h",
        terminal="t",
        affair="privacy",
        permissions=NUMBER_RIGHT,
    )
    for actor in (clerk(), outside):
        before = last_audit_id(rt)
        with pytest.raises(PermissionDenied):
            vault.display_number(rt.uow(), actor, rt.keys, subject, reason="identity_check")
        [row] = audit_rows(rt, before)
        assert (row.action, row.outcome) == ("privacy.view_individual_number", "denied")
        assert row.subject_ids == [str(subject)]
        assert row.detail == {"permission": "privacy.view_individual_number"}


def test_unmask_of_a_subject_without_a_number_is_not_found(rt: Runtime) -> None:
    with pytest.raises(DomainError) as info:
        show(rt, uuid.uuid4())
    assert info.value.code == PrivacyError.INDIVIDUAL_NUMBER_NOT_RECORDED
    assert info.value.http_status == 404


# -- access tables ------------------------------------------------------------------------


def test_display_number_access(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    subject = uuid.uuid4()
    store(rt, subject, synthetic_number(18))
    assert_access(
        rt,
        "privacy.view_individual_number",
        lambda actor, _i: vault.display_number(
            rt.uow(), actor, rt.keys, subject, reason="identity_check"
        ),
        NUMBER_HANDLERS,
    )


def test_find_subject_by_number_access(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    number = synthetic_number(19)
    store(rt, uuid.uuid4(), number)

    def call(actor: Actor, _i: int) -> object:
        with rt.uow() as uow:
            found = vault.find_subject_by_number(uow, actor, rt.keys, number)
            uow.commit()
        return found

    assert_access(rt, "privacy.search_by_number", call, NUMBER_HANDLERS)


def test_rotate_keys_and_rebuild_index_access(rt: Runtime) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    store(rt, uuid.uuid4(), synthetic_number(20))
    saved: list[Keyring] = []
    assert_access(
        rt,
        "privacy.rotate_keys",
        lambda actor, _i: vault.rotate_keys(rt.uow(), actor, rt.keys, save=saved.append),
        ADMIN,
    )
    assert_access(
        rt,
        "privacy.rebuild_index",
        # Rows are on the rotated key by now, so the rebuild must be given that keyring.
        lambda actor, _i: vault.rebuild_index(rt.uow(), actor, saved[-1], save=saved.append),
        ADMIN,
    )
    assert len(saved) == 2  # only the allowed runs created keys


# -- rotation -----------------------------------------------------------------------------


def _town(rt: Runtime, n: int) -> dict[uuid.UUID, str]:
    people = {uuid.uuid4(): synthetic_number(100 + i) for i in range(n)}
    for subject, number in people.items():
        store(rt, subject, number)
    # One number change, so history rows are rotated too.
    changed = next(iter(people))
    people[changed] = synthetic_number(99)
    store(rt, changed, people[changed])
    return people


def test_rotation_reencrypts_everything_and_audits_counts_only(rt: Runtime) -> None:
    people = _town(rt, 5)
    saved: list[Keyring] = []
    progress: list[tuple[int, int]] = []
    before = last_audit_id(rt)
    done = vault.rotate_keys(
        rt.uow(),
        Actor.operator(),
        rt.keys,
        save=saved.append,
        batch=2,
        on_progress=lambda d, t: progress.append((d, t)),
    )
    [new] = saved
    assert new.current != rt.keys.current and set(rt.keys.keys) < set(new.keys)
    assert new.index_key == rt.keys.index_key  # lookups keep working
    assert done == 6 and progress[0] == (0, 6) and progress[-1] == (6, 6)
    assert {r.key_id for r in rows(rt)} == {new.current}
    assert all(new.key_id_of(r.ciphertext) == new.current for r in rows(rt))
    for subject, number in people.items():
        assert show(rt, subject, new) == number
        assert find(rt, number, new) == subject
    # A process still holding the old keyring fails closed instead of showing anything.
    with pytest.raises(DomainError) as info:
        show(rt, next(iter(people)))
    assert info.value.code == PrivacyError.KEY_UNAVAILABLE
    audited = [r for r in audit_rows(rt, before) if r.action == "privacy.rotate_keys"]
    assert [r.detail.get("step") for r in audited] == ["start", "batch", "batch", "batch"]
    assert [r.detail.get("rows") for r in audited[1:]] == [2, 2, 2]
    assert all(r.subject_ids == [] for r in audited)
    allowed_text = {"start", "batch", new.current}
    assert all(isinstance(v, int) or v in allowed_text for r in audited for v in r.detail.values())


def test_interrupted_rotation_resumes_where_it_stopped(rt: Runtime) -> None:
    people = _town(rt, 4)
    saved: list[Keyring] = []

    def stop_after_first_batch(done: int, _total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vault.rotate_keys(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            save=saved.append,
            batch=2,
            on_progress=stop_after_first_batch,
        )
    [new] = saved
    assert sorted(r.key_id for r in rows(rt)).count(new.current) == 2
    # Resuming (with the keyring that was saved) adds no key and finishes the rest.
    done = vault.rotate_keys(
        rt.uow(), Actor.operator(), new, save=saved.append, new_key=False, batch=2
    )
    assert done == 3 and len(saved) == 1
    assert {r.key_id for r in rows(rt)} == {new.current}
    assert vault.rotate_keys(rt.uow(), Actor.operator(), new, save=saved.append, new_key=False) == 0
    for subject, number in people.items():
        assert show(rt, subject, new) == number


def test_rebuild_index_replaces_every_index(rt: Runtime) -> None:
    people = _town(rt, 3)
    saved: list[Keyring] = []
    done = vault.rebuild_index(rt.uow(), Actor.operator(), rt.keys, save=saved.append)
    [new] = saved
    assert done == 4 and new.index_key != rt.keys.index_key and new.keys == rt.keys.keys
    for subject, number in people.items():
        assert find(rt, number, new) == subject
        assert find(rt, number) is None  # the old index key no longer matches anything
    [row] = [r for r in audit_rows(rt) if r.action == "privacy.rebuild_index"]
    assert row.detail == {"rows": 4}


# -- never in logs ------------------------------------------------------------------------


def test_no_number_in_any_audit_row_log_line_or_error(
    rt: Runtime, connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    """After every kind of vault operation, the numbers used appear in no audit row (any
    column, including the hashed canonical text), no outbox row, no captured log record
    and no error message."""
    caplog.set_level(logging.DEBUG)
    services.load_roles(rt.uow(), Actor.operator())
    a, b = uuid.uuid4(), uuid.uuid4()
    first, second, other = synthetic_number(500), synthetic_number(501), synthetic_number(502)
    errors: list[str] = []

    def expect_error(call: Callable[[], object]) -> None:
        try:
            call()
        except DomainError as e:
            errors.append(f"{e} {e.message} {e.code} {e!r}")
        else:
            raise AssertionError("expected a refusal")

    store(rt, a, first)
    store(rt, b, other)
    expect_error(lambda: store(rt, b, first))  # in use
    store(rt, a, second)  # change: first is superseded
    expect_error(lambda: store(rt, a, first[:11] + str((int(first[11]) + 1) % 10)))
    assert find(rt, second) == a
    assert find(rt, first) is None
    assert show(rt, a) == second
    vault.display_number(rt.uow(), handler(), rt.keys, b, reason="other", note="照合のため")
    expect_error(
        lambda: vault.display_number(
            rt.uow(), handler(), rt.keys, b, reason="other", note=f"{other}を確認"
        )
    )
    expect_error(lambda: vault.display_number(rt.uow(), clerk(), rt.keys, a, reason="other"))
    with rt.uow() as uow:
        assert vault.number_for_display(uow, clerk(), a) == vault.MASK
    saved: list[Keyring] = []
    vault.rotate_keys(rt.uow(), Actor.operator(), rt.keys, save=saved.append, batch=1)
    vault.rebuild_index(rt.uow(), Actor.operator(), saved[-1], save=saved.append)

    numbers = [first, second, other]
    spellings = [
        s
        for n in numbers
        for s in (n, n.translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    ]
    audit_text: str | None = connection.execute(
        text(
            "SELECT string_agg(privacy.audit_canonical(a) || ' ' || a::text, E'\\n') "
            "FROM privacy.audit_log a"
        )
    ).scalar()
    outbox_text: str | None = connection.execute(
        text("SELECT coalesce(string_agg(o::text, E'\\n'), '') FROM core.outbox o")
    ).scalar()
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert audit_text and "privacy.view_individual_number" in audit_text
    assert len(errors) == 4
    for haystack in (audit_text, outbox_text or "", logs, "\n".join(errors)):
        for spelling in spellings:
            assert spelling not in haystack


# -- keyring --------------------------------------------------------------------------------


def test_keyring_file_is_private_and_repr_hides_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    ring = Keyring.load_or_create(path, environ={})
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"current", "keys", "index_key"}
    shown = repr(ring)
    assert data["index_key"] not in shown
    assert all(v not in shown for v in data["keys"].values())
    assert Keyring.load_or_create(path, environ={}) == ring
    os.chmod(path, 0o640)
    with pytest.raises(PermissionError):
        Keyring.load_or_create(path, environ={})


def test_old_keyring_file_gets_an_index_key_once_and_keeps_working(tmp_path: Path) -> None:
    """A keyring written before index keys existed: TOTP secrets sealed with it still open,
    and the index key added on first load is the one every later load sees."""
    path = tmp_path / "keyring.json"
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"current": "k1", "keys": {"k1": base64.b64encode(key).decode()}}, f)
    ring = Keyring.load_or_create(path, environ={})
    assert ring.keys == {"k1": key} and len(ring.index_key) == 32
    assert Keyring.load_or_create(path, environ={}).index_key == ring.index_key
    sealed = ring.seal(b"TOTPSECRET", context=b"totp:x")
    rotated = ring.with_new_key()
    assert rotated.current == "k2" and rotated.keys["k1"] == key
    assert rotated.open(sealed, context=b"totp:x") == b"TOTPSECRET"
    assert rotated.hmac_index(b"v") == ring.hmac_index(b"v")


def test_keyring_from_environment(tmp_path: Path) -> None:
    ring = Keyring.load_or_create(tmp_path / "a.json", environ={})
    path = tmp_path / "unused" / "keyring.json"
    from_env = Keyring.load_or_create(path, environ={ENV_VAR: ring.to_env_value()})
    assert from_env == ring and from_env.path is None
    assert not path.exists()  # the environment wins; no file is created
    without_index = json.loads(base64.b64decode(ring.to_env_value()))
    del without_index["index_key"]
    encoded = base64.b64encode(json.dumps(without_index).encode()).decode()
    for bad in (encoded, "not base64!", base64.b64encode(b"[]").decode()):
        with pytest.raises(ValueError) as info:
            Keyring.load_or_create(path, environ={ENV_VAR: bad})
        assert bad not in str(info.value)


def test_bulk_first_store_seals_finds_and_refuses_duplicates(rt: Runtime) -> None:
    """store_first_numbers: the bulk path for loads; same sealing and index as one by one,
    one audit row with the count, and a duplicate fails the whole batch."""
    from machi.core.errors import ConflictError

    a, b = uuid.uuid4(), uuid.uuid4()
    first, second = synthetic_number(77), synthetic_number(78)
    with rt.uow() as uow:
        assert vault.store_first_numbers(uow, clerk(), rt.keys, [(a, first), (b, second)]) == 2
        uow.commit()
    with rt.uow() as uow:
        assert vault.find_subject_by_number(uow, handler(), rt.keys, second) == b
    with rt.uow() as uow, pytest.raises(ConflictError):
        vault.store_first_numbers(uow, clerk(), rt.keys, [(uuid.uuid4(), first)])
