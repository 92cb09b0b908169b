"""The registry's remaining staff pages over HTTP (issue: registry, item 7): 世帯変更 (分離,
世帯主変更, 合併), 職権修正 and 職権記載 drafts, 外国人住民の在留資格等, 個人番号の変更 and
支援措置. Each form records and redirects to the record, or refuses with its Japanese
message, keeps what was typed (never a 個人番号) and writes nothing."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, table, text

from machi.bootstrap import Runtime
from machi.core.numbers import individual_number_check_digit
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from machi.registry import services
from machi.registry.models import Address, TownArea
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from support import enrol, sign_in

COUNTED = (
    "registry.household",
    "registry.resident",
    "registry.resident_version",
    "registry.pending_approval",
    "registry.protection_measure",
    "registry.record_note",
    "privacy.individual_number",
    "core.outbox",
)
# Showing a form again after a refusal reads the record or household anew, and every read
# is audited; those rows are reads, not writes, so the footprint leaves them out.
READS = (
    "registry.resident_record",
    "registry.resident_history",
    "registry.household",
    "registry.search_residents",
)


# The counter's 本人確認 as the number form posts it (REG-CTRL-02).
CHECKED = {"applicant": "self", "identity_documents": "individual_number_card"}


def footprint(rt: Runtime) -> dict[str, int]:
    with rt.uow() as uow:
        counts = {
            n: uow.session.scalar(
                select(func.count()).select_from(table(n.split(".")[1], schema=n.split(".")[0]))
            )
            or 0
            for n in COUNTED
        }
        counts["audited writes"] = (
            uow.session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action.not_in(READS))
            )
            or 0
        )
        return counts


@pytest.fixture
def town(rt: Runtime) -> int:
    """The address master: two lots of a fictitious 町字; returns the id of 1番地."""
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
        rows = [Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in (1, 2)]
        uow.session.add_all(rows)
        uow.session.flush()
        first = rows[0].id
        uow.commit()
    return first


# Seeding goes through the service as a clerk of its own; the pages under test are driven
# by the signed-in users below.
SEEDER = Actor(
    user_id=uuid.UUID(int=901),
    login_name="seeder",
    terminal="T-seed",
    affair="juki",
    grants=frozenset({("counter_clerk", "juki")}),
    permissions=frozenset({Permission.REGISTRY_VIEW, Permission.REGISTRY_RECORD_CHANGE}),
)


def person(name: str, relationship: str = "head", **kw: object) -> services.NewPerson:
    values: dict[str, object] = {
        "name": name,
        "name_kana": "ガメン タロウ",
        "birth_date": date(1970, 1, 2),
        "sex": 1,
        "relationship": relationship,
        "registered_domicile": "架空県架空市本町1番地",
        "family_register_head": "画面 一郎",
    }
    return services.NewPerson(**(values | kw))  # type: ignore[arg-type]


def foreigner() -> services.NewPerson:
    return services.NewPerson(
        name="SAMPLE ALEX",
        name_kana="サンプル アレックス",
        birth_date=date(1990, 5, 5),
        sex=1,
        relationship="head",
        foreign_resident=True,
        nationality="ZZ",
        foreign_resident_class="mid_to_long_term",
        residence_status="技術・人文知識・国際業務",
        residence_period="3年",
        residence_expires_on=date(2028, 4, 1),
        residence_card_no="AB12345678CD",
        alphabet_name="SAMPLE ALEX",
    )


def moved_in(rt: Runtime, address_id: int, *persons: services.NewPerson) -> list[uuid.UUID]:
    cmd = services.MoveIn(
        persons=persons,
        address_id=address_id,
        building=None,
        effective_on=date(2026, 11, 10),
        notified_on=date(2026, 11, 12),
        moved_in_from="架空県見本市1番地",
        move_out_certificate=True,
        identification=Identification(
            ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
        ),
    )
    return list(services.move_in(rt.uow(), SEEDER, cmd).resident_ids)


def household_of(rt: Runtime, resident_id: uuid.UUID) -> uuid.UUID:
    with rt.uow() as uow:
        found: uuid.UUID = uow.session.execute(
            text(
                "SELECT household_id FROM registry.resident_version"
                " WHERE resident_id = :r AND valid_to IS NULL AND superseded_at IS NULL"
            ),
            {"r": resident_id},
        ).scalar_one()
        return found


def clerk(client: TestClient, rt: Runtime) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))


DATES = {"effective_on": "2026-11-20", "notified_on": "2026-11-25"}


# -- 世帯変更 ----------------------------------------------------------------------------------


@pytest.fixture
def couple(rt: Runtime, town: int) -> list[uuid.UUID]:
    """画面 一郎 (世帯主) and 画面 花子 (妻) in one household at 1番地."""
    return moved_in(
        rt,
        town,
        person("画面 一郎"),
        person("画面 花子", "wife", sex=2, birth_date=date(1972, 3, 4)),
    )


def test_household_split_from_the_household_page(
    client: TestClient, rt: Runtime, couple: list[uuid.UUID]
) -> None:
    head, wife = couple
    household = household_of(rt, head)
    clerk(client, rt)
    record = client.get(f"/registry/residents/{head}")
    assert f"/registry/households/{household}" in record.text
    page = client.get(f"/registry/households/{household}")
    assert page.status_code == 200 and "世帯分離" in page.text and "画面 花子" in page.text
    r = client.post(
        f"/registry/households/{household}/split",
        data={
            "leaving": [str(wife)],
            "member": [str(head), str(wife)],
            "relationship": ["", "世帯主"],
            **DATES,
            **CHECKED,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/registry/residents/{wife}")
    assert household_of(rt, wife) != household
    after = client.get(r.headers["location"])
    assert "記録しました" in after.text and "世帯分離" in after.text


def test_household_split_refused_keeps_the_form(
    client: TestClient, rt: Runtime, couple: list[uuid.UUID]
) -> None:
    head, wife = couple
    household = household_of(rt, head)
    clerk(client, rt)
    before = footprint(rt)
    r = client.post(
        f"/registry/households/{household}/split",
        data={
            "leaving": [str(wife)],
            "member": [str(head), str(wife)],
            "relationship": ["", "子"],
            **DATES,
            **CHECKED,
        },
    )
    assert r.status_code == 422
    assert "世帯主のいない世帯ができます" in r.text
    assert 'value="子"' in r.text and 'value="2026-11-20"' in r.text
    assert footprint(rt) == before


def test_household_head_change(client: TestClient, rt: Runtime, couple: list[uuid.UUID]) -> None:
    head, wife = couple
    household = household_of(rt, head)
    clerk(client, rt)
    form = {"new_head": str(wife), "member": [str(head), str(wife)], **DATES, **CHECKED}
    before = footprint(rt)
    refused = client.post(
        f"/registry/households/{household}/head", data=form | {"relationship": ["", ""]}
    )
    assert refused.status_code == 422 and "世帯主が2人以上います" in refused.text
    assert footprint(rt) == before

    r = client.post(
        f"/registry/households/{household}/head",
        data=form | {"relationship": ["夫", ""]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    wife_page = client.get(f"/registry/residents/{wife}").text
    assert re.search(r"<th>続柄</th><td>世帯主</td>", wife_page)
    assert re.search(r"<th>続柄</th><td>夫</td>", client.get(f"/registry/residents/{head}").text)


def test_household_merge_into_a_household_found_by_name(
    client: TestClient, rt: Runtime, town: int, couple: list[uuid.UUID]
) -> None:
    head, _ = couple
    (brother,) = moved_in(rt, town, person("画面 次郎", birth_date=date(1975, 6, 7)))
    source, target = household_of(rt, brother), household_of(rt, head)
    clerk(client, rt)
    page = client.get(f"/registry/households/{source}/merge", params={"name": "画面 一郎"})
    assert page.status_code == 200 and f'value="{head}"' in page.text
    form = {
        "into_resident": str(head),
        "member": [str(brother)],
        "name": "画面 一郎",
        **DATES,
        **CHECKED,
    }
    before = footprint(rt)
    refused = client.post(
        f"/registry/households/{source}/merge", data=form | {"relationship": ["世帯主"]}
    )
    assert refused.status_code == 422 and "世帯主が2人以上います" in refused.text
    assert 'value="世帯主"' in refused.text
    assert footprint(rt) == before

    r = client.post(
        f"/registry/households/{source}/merge",
        data=form | {"relationship": ["弟"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert household_of(rt, brother) == target
    assert "画面 一郎" in client.get(f"/registry/residents/{brother}").text


# -- 職権修正・職権記載 (drafts) -------------------------------------------------------------


def test_correction_is_drafted_for_the_approval_queue(
    client: TestClient, rt: Runtime, town: int
) -> None:
    (rid,) = moved_in(rt, town, person("画面 一郎"))
    clerk(client, rt)
    assert f"/registry/residents/{rid}/correction" in client.get(f"/registry/residents/{rid}").text
    before = footprint(rt)
    refused = client.post(
        f"/registry/residents/{rid}/correction",
        data={"item": "birth_date", "value": "1970-13-40"},
    )
    assert refused.status_code == 422
    assert "生年月日を正しい日付で入力してください" in refused.text
    assert 'value="1970-13-40"' in refused.text
    assert footprint(rt) == before

    r = client.post(
        f"/registry/residents/{rid}/correction",
        data={
            "item": "birth_date",
            "value": "1970-01-03",
            "change_reason": "clerical_error_correction",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "drafted=" in r.headers["location"]
    assert footprint(rt)["registry.pending_approval"] == before["registry.pending_approval"] + 1
    page = client.get(r.headers["location"])
    assert "仮登録しました" in page.text and "昭和45年1月2日" in page.text  # not yet applied


ENTRY = {
    "name": "職権 三郎",
    "name_kana": "ショッケン サブロウ",
    "birth_date": "1980-02-03",
    "sex": "1",
    "town_area_code": "000201",
    "lot": "2番地",
    "effective_on": "2026-11-20",
    "change_reason": "ex_officio_entry",
    "registered_domicile": "架空県架空市本町2番地",
    "family_register_head": "職権 三郎",
}


def test_ex_officio_entry_is_drafted(client: TestClient, rt: Runtime, town: int) -> None:
    clerk(client, rt)
    form = client.get("/registry/ex-officio-entry")
    assert form.status_code == 200 and "試験町" in form.text
    before = footprint(rt)
    refused = client.post("/registry/ex-officio-entry", data=ENTRY | {"lot": "99番地"})
    assert refused.status_code in (404, 422) and "住所マスタにありません" in refused.text
    assert ENTRY["name"] in refused.text
    assert footprint(rt) == before

    r = client.post("/registry/ex-officio-entry", data=ENTRY, follow_redirects=False)
    assert r.status_code == 303
    assert footprint(rt)["registry.resident"] == before["registry.resident"]  # until 決裁
    assert footprint(rt)["registry.pending_approval"] == before["registry.pending_approval"] + 1
    assert "仮登録しました" in client.get(r.headers["location"]).text


# -- 外国人住民 --------------------------------------------------------------------------------

FOREIGN = {
    "nationality": "ZZ",
    "foreign_resident_class": "mid_to_long_term",
    "residence_status": "技術・人文知識・国際業務",
    "residence_period": "5年",
    "residence_expires_on": "2031-11-27",
    "residence_card_no": "EF87654321GH",
    "effective_on": "2026-11-27",
    "notified_on": "2026-11-30",
}


def test_foreign_resident_status_change(client: TestClient, rt: Runtime, town: int) -> None:
    (rid,) = moved_in(rt, town, foreigner())
    (japanese,) = moved_in(rt, town + 1, person("画面 一郎"))
    clerk(client, rt)
    assert (
        f"/registry/residents/{rid}/foreign-status" in client.get(f"/registry/residents/{rid}").text
    )
    assert "foreign-status" not in client.get(f"/registry/residents/{japanese}").text

    before = footprint(rt)
    refused = client.post(
        f"/registry/residents/{rid}/foreign-status",
        data=FOREIGN | {"residence_expires_on": "2026-11-01"},
    )
    assert refused.status_code == 422 and "満了の日が異動日より前" in refused.text
    assert 'value="EF87654321GH"' in refused.text
    japanese_refused = client.post(f"/registry/residents/{japanese}/foreign-status", data=FOREIGN)
    assert "日本人住民には" in japanese_refused.text
    assert footprint(rt) == before

    r = client.post(
        f"/registry/residents/{rid}/foreign-status", data=FOREIGN, follow_redirects=False
    )
    assert r.status_code == 303 and "記録しました" in client.get(r.headers["location"]).text
    current = client.get(f"/registry/residents/{rid}/foreign-status").text
    assert 'value="EF87654321GH"' in current and 'value="5年"' in current


# -- 個人番号 ----------------------------------------------------------------------------------


def fictitious_number(first11: str) -> str:
    return first11 + str(individual_number_check_digit(first11))


def test_individual_number_change_is_for_the_number_right_only(
    client: TestClient, rt: Runtime, town: int
) -> None:
    (rid,) = moved_in(rt, town, person("画面 一郎"))
    clerk(client, rt)
    assert (
        f"/registry/residents/{rid}/individual-number"
        not in client.get(f"/registry/residents/{rid}").text
    )
    before = footprint(rt)
    r = client.post(
        f"/registry/residents/{rid}/individual-number",
        data={
            "individual_number": fictitious_number("10000000001"),
            "effective_on": "2026-11-30",
            **CHECKED,
        },
    )
    assert r.status_code == 403
    assert client.get(f"/registry/residents/{rid}/individual-number").status_code == 403
    after = footprint(rt)
    assert after | {"audited writes": 0} == before | {"audited writes": 0}
    with rt.uow() as uow:
        denials = uow.session.execute(
            select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.outcome == "denied")
        ).all()
    assert [tuple(d) for d in denials] == [("registry.change_individual_number", "denied")] * 2


def test_individual_number_change(client: TestClient, rt: Runtime, town: int) -> None:
    (rid,) = moved_in(rt, town, person("画面 一郎"))
    handler = enrol(rt, "handler", (("counter_clerk", "juki"), ("number_handler", "juki")))
    sign_in(client, rt, handler)
    assert (
        f"/registry/residents/{rid}/individual-number"
        in client.get(f"/registry/residents/{rid}").text
    )
    good = fictitious_number("10000000001")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    before = footprint(rt)
    refused = client.post(
        f"/registry/residents/{rid}/individual-number",
        data={"individual_number": bad, "effective_on": "2026-11-30", **CHECKED},
    )
    assert refused.status_code == 422 and "個人番号の形式が正しくありません" in refused.text
    assert bad not in refused.text and bad[:8] not in refused.text
    assert footprint(rt) == before

    spaced = f"{good[:4]} {good[4:8]} {good[8:]}"
    r = client.post(
        f"/registry/residents/{rid}/individual-number",
        data={"individual_number": spaced, "effective_on": "2026-11-30", **CHECKED},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert footprint(rt)["privacy.individual_number"] == before["privacy.individual_number"] + 1
    page = client.get(r.headers["location"]).text
    assert "個人番号の変更" in page and good not in page


# -- 支援措置 ----------------------------------------------------------------------------------


def test_protection_measure_registered_and_ended_by_a_supervisor(
    client: TestClient, rt: Runtime, town: int
) -> None:
    (rid,) = moved_in(rt, town, person("画面 一郎"))
    sign_in(client, rt, enrol(rt, "sup", (("registry_supervisor", "juki"),)))
    assert f"/registry/residents/{rid}/protection" in client.get(f"/registry/residents/{rid}").text
    form = {"requested_on": "2026-11-30", "valid_from": "2026-11-30"}
    before = footprint(rt)
    refused = client.post(
        f"/registry/residents/{rid}/protection",
        data=form | {"offender_addressee_nos": "12345"},
    )
    assert refused.status_code == 422 and "対象を1つ以上指定してください" in refused.text
    assert 'value="12345"' in refused.text
    assert footprint(rt) == before

    r = client.post(
        f"/registry/residents/{rid}/protection",
        data=form | {"scope": ["browsing", "resident_record_copy"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "記録しました" in page and "支援措置の対象者です" in page
    measure = re.search(r'data-testid="measure-id">([0-9a-f-]+)<', page).group(1)  # type: ignore[union-attr]

    end = {"measure_id": measure, "ended_on": "2026-11-30"}
    bad_end = client.post(f"/registry/residents/{rid}/protection/end", data=end)
    assert bad_end.status_code == 422 and "終了理由の指定が正しくありません" in bad_end.text
    r = client.post(
        f"/registry/residents/{rid}/protection/end",
        data=end | {"end_reason": "request"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "支援措置の対象者です" not in client.get(f"/registry/residents/{rid}").text


def test_clerk_cannot_register_a_protection_measure(
    client: TestClient, rt: Runtime, town: int
) -> None:
    (rid,) = moved_in(rt, town, person("画面 一郎"))
    clerk(client, rt)
    assert "/protection" not in client.get(f"/registry/residents/{rid}").text
    before = footprint(rt)
    r = client.post(
        f"/registry/residents/{rid}/protection",
        data={"requested_on": "2026-11-30", "valid_from": "2026-11-30", "scope": ["browsing"]},
    )
    assert r.status_code == 403
    counted = {k: v for k, v in footprint(rt).items() if k != "audited writes"}
    assert counted == {k: v for k, v in before.items() if k != "audited writes"}


def test_household_head_change_without_the_identity_check_is_refused(
    client: TestClient, rt: Runtime, couple: list[uuid.UUID]
) -> None:
    """REG-CTRL-01: a 世帯変更届 is a notice like any other; without 本人確認 it is refused in
    Japanese and nothing is written."""
    head, wife = couple
    household = household_of(rt, head)
    clerk(client, rt)
    form = {"new_head": str(wife), "member": [str(head), str(wife)], "relationship": ["夫", ""]}
    before = footprint(rt)
    refused = client.post(f"/registry/households/{household}/head", data=form | DATES)
    assert refused.status_code == 422 and "本人確認" in refused.text
    assert footprint(rt) == before
