"""The registry's JSON API: same rules and refusals as the staff pages, RFC 9457 problems
with stable codes and Japanese titles, nothing written on bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from registry.test_views import footprint, town  # noqa: F401
from support import enrol, sign_in

BODY = {
    "person": {
        "name": "電文 太郎",
        "name_kana": "デンブン タロウ",
        "birth_date": "1988-08-08",
        "sex": 1,
        "registered_domicile": "架空県架空市本町1番地",
        "family_register_head": "電文 太郎",
    },
    "town_area_code": "000201",
    "lot": "2番地",
    "effective_on": "2026-11-15",
    "notified_on": "2026-11-16",
    "moved_in_from": "架空県見本市2番地",
    "move_out_certificate": True,
    "identification": {"applicant": "self", "documents": ["individual_number_card"]},
}


@pytest.fixture
def signed_in(client: TestClient, rt: Runtime, town: str) -> TestClient:  # noqa: F811
    sign_in(client, rt, enrol(rt, "api_clerk", (("counter_clerk", "juki"),)))
    return client


def test_move_in_search_record_move_within(signed_in: TestClient, rt: Runtime) -> None:
    r = signed_in.post("/api/registry/move-ins", json=BODY)
    assert r.status_code == 201, r.text
    rid = r.json()["resident_ids"][0]
    hits = signed_in.get(
        "/api/registry/residents", params={"name_kana": "でんぶん", "birth_year": 1988}
    )
    assert hits.status_code == 200 and [h["resident_id"] for h in hits.json()["rows"]] == [rid]
    record = signed_in.get(f"/api/registry/residents/{rid}").json()
    assert record["individual_number"] in ("未登録", "＊" * 12) and record["can_unmask"] is False
    moved = signed_in.post(
        f"/api/registry/residents/{rid}/move-within",
        json={
            "town_area_code": "000201",
            "lot": "1番地",
            "effective_on": "2026-11-20",
            "notified_on": "2026-11-21",
            "identification": {"applicant": "self", "documents": ["drivers_license"]},
        },
    )
    assert moved.status_code == 200, moved.text
    assert signed_in.get(f"/api/registry/residents/{rid}").json()["address"] == "試験町1番地"
    pdf = signed_in.post(
        "/api/registry/certificates",
        json={
            "resident_id": rid,
            "identification": {"documents": ["drivers_license"]},
        },
    )
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["x-machi-issuance-no"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lot": "99番地"}, 422, "registry.address_not_in_master"),
        ({"effective_on": "2026-11-17"}, 422, "registry.effective_on_after_notified_on"),
        ({"town_area_code": "12"}, 422, "core.invalid_input"),
        ({"person": {**BODY["person"], "sex": 3}}, 422, "core.invalid_input"),  # type: ignore[dict-item]
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(
    signed_in: TestClient, rt: Runtime, change: dict[str, object], status: int, code: str
) -> None:
    before = footprint(rt)
    r = signed_in.post("/api/registry/move-ins", json=BODY | change)
    assert r.status_code == status and r.headers["content-type"].startswith(
        "application/problem+json"
    )
    body = r.json()
    assert body["code"] == code and body["title"]
    assert "電文" not in r.text  # the problem never echoes the input
    assert footprint(rt) == before


def test_search_with_one_item_is_refused(signed_in: TestClient) -> None:
    r = signed_in.get("/api/registry/residents", params={"name_kana": "デンブン", "sex": 1})
    assert r.status_code == 422 and r.json()["code"] == "registry.search_criteria_insufficient"


def test_without_the_role_the_api_refuses(client: TestClient, rt: Runtime) -> None:
    sign_in(client, rt, enrol(rt, "nhi", (("nhi_staff", "nhi"),)))
    r = client.get("/api/registry/residents", params={"name_kana": "デンブン", "birth_year": 1988})
    assert r.status_code == 403 and r.json()["code"] == "privacy.permission_denied"


def test_control_characters_are_refused_at_the_edge(signed_in: TestClient) -> None:
    """PostgreSQL refuses NUL in text; the API must answer 422, never a 500 (found by
    schemathesis)."""
    r = signed_in.get("/api/registry/residents", params={"name_kana": "ア\x00", "birth_year": 1980})
    assert r.status_code == 422 and r.json()["code"] == "core.invalid_input"
    r = signed_in.post("/api/registry/move-ins", json=BODY | {"lot": "1番地\x00"})
    assert r.status_code == 422
