"""The registry's staff pages over HTTP: each form records its 異動 or refuses with a clear
Japanese message and writes nothing (issue: registry, acceptance 3 — row counts and the
audit log compared before and after), and the four-eyes queue."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, table

from machi.bootstrap import Runtime
from machi.registry.models import Address, Resident, TownArea
from support import enrol, sign_in

COUNTED = (
    "registry.household",
    "registry.resident",
    "registry.resident_version",
    "registry.pending_approval",
    "privacy.audit_log",
    "core.outbox",
)


def footprint(rt: Runtime) -> dict[str, int]:
    with rt.uow() as uow:
        return {
            n: uow.session.scalar(
                select(func.count()).select_from(table(n.split(".")[1], schema=n.split(".")[0]))
            )
            or 0
            for n in COUNTED
        }


@pytest.fixture
def town(rt: Runtime) -> str:
    with rt.uow() as uow:
        area = TownArea(
            code="000201",
            name="試験町",
            name_kana="シケンチョウ",
            postal_code="9990002",
            address_style="lot_number",
        )
        uow.session.add(area)
        uow.session.flush()
        uow.session.add_all(Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in (1, 2))
        uow.commit()
    return "000201"


GOOD = {
    "name": "画面 一郎",
    "name_kana": "ガメン イチロウ",
    "birth_date": "1970-01-02",
    "sex": "1",
    "town_area_code": "000201",
    "lot": "1番地",
    "effective_on": "2026-11-10",
    "notified_on": "2026-11-12",
    "moved_in_from": "架空県見本市1番地",
    "registered_domicile": "架空県架空市本町1番地",
    "family_register_head": "画面 一郎",
    "move_out_certificate": "true",
    "applicant": "self",
    "identity_documents": "individual_number_card",
}


def move_in(client: TestClient, **changes: str) -> object:
    return client.post("/registry/move-in", data=GOOD | changes, follow_redirects=False)


def test_move_in_form_records_and_redirects(client: TestClient, rt: Runtime, town: str) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))
    r = move_in(client)
    assert r.status_code == 303  # type: ignore[attr-defined]
    record = client.get(r.headers["location"])  # type: ignore[attr-defined]
    assert "画面 一郎" in record.text and "試験町1番地" in record.text
    assert "昭和45年1月2日" in record.text and "記録しました" in record.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lot": "99番地"}, "住所マスタにありません"),
        ({"effective_on": "2026-11-13"}, "異動日が届出日より後"),
        ({"birth_date": "not-a-date"}, "生年月日を正しい日付で入力してください"),
        ({"effective_on": "2027-01-01", "notified_on": "2027-01-02"}, "未来"),
    ],
)
def test_bad_move_in_is_refused_in_japanese_and_writes_nothing(
    client: TestClient, rt: Runtime, town: str, changes: dict[str, str], message: str
) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))
    before = footprint(rt)
    r = move_in(client, **changes)
    assert r.status_code in (404, 409, 422)  # type: ignore[attr-defined]
    assert message in r.text  # type: ignore[attr-defined]
    assert GOOD["name"] in r.text  # type: ignore[attr-defined]  # what was typed is kept
    assert footprint(rt) == before


def test_death_and_move_out_from_the_record(client: TestClient, rt: Runtime, town: str) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))
    first = move_in(client).headers["location"]  # type: ignore[attr-defined]
    rid = re.search(r"residents/([0-9a-f-]+)", first).group(1)  # type: ignore[union-attr]
    r = client.post(
        f"/registry/residents/{rid}/death",
        data={"died_on": "2026-11-20", "notified_on": "2026-11-21"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/registry/residents/{rid}")
    assert "除票" in page.text and "死亡" in page.text
    r = client.post(
        f"/registry/residents/{rid}/move-out",
        data={"planned_on": "2026-12-01", "notified_on": "2026-11-30", "destination": "架空県"},
    )
    assert r.status_code in (404, 422) and "記録できませんでした" in r.text


def test_ex_officio_deletion_needs_a_second_person(
    client: TestClient, rt: Runtime, town: str
) -> None:
    supervisor = enrol(rt, "sup1", (("registry_supervisor", "juki"),))
    sign_in(client, rt, supervisor)
    first = move_in(client).headers["location"]  # type: ignore[attr-defined]
    rid = re.search(r"residents/([0-9a-f-]+)", first).group(1)  # type: ignore[union-attr]
    r = client.post(
        f"/registry/residents/{rid}/ex-officio-deletion", data={"effective_on": "2026-11-25"}
    )
    assert r.status_code == 200 and "仮登録しました" in r.text
    draft = re.search(r"仮登録番号 (\d+)", r.text).group(1)  # type: ignore[union-attr]
    queue = client.get("/registry/approvals")
    assert f'href="/registry/approvals/{draft}"' in queue.text  # 照合して決裁
    page = client.get(f"/registry/approvals/{draft}")
    assert page.status_code == 200 and "消除日" in page.text and "令和8年11月25日" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    checked = {"version": version, "verified": "true"}
    mine = client.post(f"/registry/approvals/{draft}/approve", data=checked)
    assert mine.status_code in (403, 409, 422)
    assert "仮登録をした職員は自分で決裁できません。" in mine.text
    assert "除票" not in client.get(f"/registry/residents/{rid}").text

    client.post("/logout")
    sign_in(client, rt, enrol(rt, "sup2", (("registry_supervisor", "juki"),)))
    # REG-CTRL-13: no 決裁 without 照合済.
    unchecked = client.post(f"/registry/approvals/{draft}/approve", data={"version": version})
    assert unchecked.status_code == 422 and "照合済" in unchecked.text
    assert "除票" not in client.get(f"/registry/residents/{rid}").text
    done = client.post(f"/registry/approvals/{draft}/approve", data=checked)
    assert done.status_code == 200 and "決裁しました" in done.text
    assert "除票" in client.get(f"/registry/residents/{rid}").text


def test_clerk_has_no_approval_queue(client: TestClient, rt: Runtime) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))
    assert "決裁待ち" not in client.get("/").text
    assert client.get("/registry/approvals").status_code == 403


def test_public_agency_request_is_received_approved_by_another_and_served_once(
    client: TestClient, rt: Runtime, town: str
) -> None:
    """REG-CTRL-10 on the pages: 受付 with the legal basis and purpose (a form without them
    is refused in Japanese and writes nothing), the approver sees what they decide on, and
    the copy is issued once with the 承認番号."""
    clerk = enrol(rt, "clerk10", (("counter_clerk", "juki"),))
    sign_in(client, rt, clerk)
    first = move_in(client).headers["location"]  # type: ignore[attr-defined]
    rid = re.search(r"residents/([0-9a-f-]+)", first).group(1)  # type: ignore[union-attr]
    page = client.get(f"/registry/residents/{rid}").text
    assert "公用・第三者請求の受付" in page and "住基法第12条の2第1項" in page
    form = {
        "requester_type": "public_agency",
        "legal_basis": "art12_2",
        "requester": "架空県警察本部",
        "purpose": "",
        "applicant": "self",
        "identity_documents": "drivers_license",
    }
    before = footprint(rt)
    bad = client.post(f"/registry/residents/{rid}/disclosure-requests", data=form)
    assert bad.status_code == 422 and "利用目的と請求者を入力してください。" in bad.text
    assert footprint(rt) == before
    certificate = {
        "kind": "resident_record_copy",
        "requester_type": "public_agency",
        "applicant": "self",
        "identity_documents": "drivers_license",
    }
    unapproved = client.post(f"/registry/residents/{rid}/certificates", data=certificate)
    assert unapproved.status_code == 422 and "事前の決裁が必要です" in unapproved.text
    received = client.post(
        f"/registry/residents/{rid}/disclosure-requests", data={**form, "purpose": "照会"}
    )
    assert received.status_code == 200 and "公用・第三者請求を受け付けました" in received.text
    approval = re.search(r"承認番号 <strong>(\d+)", received.text).group(1)  # type: ignore[union-attr]

    client.post("/logout")
    sign_in(client, rt, enrol(rt, "sup10", (("registry_supervisor", "juki"),)))
    queue = client.get("/registry/approvals").text
    assert f"/registry/requests/{approval}/approve" in queue
    assert "架空県警察本部" in queue and "住基法第12条の2第1項" in queue and "照会" in queue
    done = client.post(f"/registry/requests/{approval}/approve")
    assert done.status_code == 200 and f"承認番号 {approval}" in done.text

    client.post("/logout")
    sign_in(client, rt, clerk)
    served = client.post(
        f"/registry/residents/{rid}/certificates", data={**certificate, "approval_id": approval}
    )
    assert served.status_code == 200 and served.content.startswith(b"%PDF")
    again = client.post(
        f"/registry/residents/{rid}/certificates", data={**certificate, "approval_id": approval}
    )
    assert again.status_code == 422 and "この承認番号は使えません" in again.text


def test_reg_ctrl_14_re_entry_pre_fills_from_the_removed_record_and_needs_a_check(
    client: TestClient, rt: Runtime, town: str
) -> None:
    """A person who moved out comes back: the 転入届 form takes 氏名, カナ, 生年月日, 性別
    and 本籍 over from the 除票, flags them for checking against the 届出書, refuses to
    record them unchecked, and re-enters the same record (宛名番号 kept, REG-CTRL-26)."""
    sign_in(client, rt, enrol(rt, "clerk14", (("counter_clerk", "juki"),)))
    first = move_in(client).headers["location"]  # type: ignore[attr-defined]
    rid = re.search(r"residents/([0-9a-f-]+)", first).group(1)  # type: ignore[union-attr]
    out = client.post(
        f"/registry/residents/{rid}/move-out",
        data={
            "planned_on": "2026-11-15",
            "notified_on": "2026-11-15",
            "destination": "架空県他市1番地",
            "applicant": "self",
            "identity_documents": "individual_number_card",
        },
        follow_redirects=False,
    )
    assert out.status_code == 303
    still_here = client.get("/registry/move-in", params={"removed": str(uuid.uuid4())})
    assert still_here.status_code in (400, 404)
    form = client.get("/registry/move-in", params={"removed": rid})
    assert form.status_code == 200 and 'data-testid="quoted"' in form.text
    for value in ("画面 一郎", "ガメン イチロウ", "1970-01-02", "架空県架空市本町1番地"):
        assert f'value="{value}"' in form.text
    assert f'name="resident_id" value="{rid}"' in form.text
    back = GOOD | {"resident_id": rid, "effective_on": "2026-11-25", "notified_on": "2026-11-26"}
    before = footprint(rt)
    unchecked = client.post("/registry/move-in", data=back, follow_redirects=False)
    assert unchecked.status_code == 422 and "照合済み" in unchecked.text
    assert footprint(rt) == before
    with rt.uow() as uow:
        addressee_no = uow.session.get(Resident, uuid.UUID(rid)).addressee_no  # type: ignore[union-attr]
    done = client.post(
        "/registry/move-in", data=back | {"quoted_checked": "true"}, follow_redirects=False
    )
    assert done.status_code == 303 and rid in done.headers["location"]
    with rt.uow() as uow:
        again = uow.session.get(Resident, uuid.UUID(rid))
        assert again is not None and again.addressee_no == addressee_no
        assert again.status == "current"
