"""JSON API of the registry (OpenAPI at /docs). Input is validated here (pydantic); the
rules and the permission checks live in services/queries, so the API refuses exactly what
the staff pages refuse, with the same codes and Japanese messages (RFC 9457)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from machi.registry import queries, rules, services
from machi.registry.certificates import CertificateKind, CertificateOptions
from machi.registry.queries import SearchCriteria
from machi.registry.rules import RequesterType
from machi.web.deps import (
    API_PROBLEMS,
    PLAIN_TEXT,
    ApiActor,
    declares,
    problem_responses,
    runtime,
)

router = APIRouter(
    prefix="/api/registry",
    tags=["registry"],
    responses=API_PROBLEMS | problem_responses(409),
)

Kana = Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_TEXT)]


class SearchHit(BaseModel):
    resident_id: uuid.UUID
    addressee_no: int
    name: str
    name_kana: str
    birth_date: date
    sex: int
    address: str
    removed: bool
    protected: bool


class SearchOut(BaseModel):
    total: int
    truncated: bool
    rows: list[SearchHit]


@router.get(
    "/residents",
    summary="住民検索 (基本4情報の性別以外の2項目以上、または住民票コード)",
    openapi_extra=declares("registry.search_residents"),
)
def search(
    request: Request,
    actor: ApiActor,
    name: Annotated[str | None, Query(max_length=100, pattern=PLAIN_TEXT)] = None,
    name_kana: Annotated[str | None, Query(max_length=100, pattern=PLAIN_TEXT)] = None,
    birth_date: date | None = None,
    birth_year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
    address: Annotated[str | None, Query(max_length=100, pattern=PLAIN_TEXT)] = None,
    sex: Annotated[int | None, Query(ge=1, le=2)] = None,
    include_removed: bool = False,
    resident_record_code: Annotated[str | None, Query(pattern=r"^[0-9]{11}$")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_SEARCH_LIMIT)] = 50,
) -> SearchOut:
    rt = runtime(request)
    criteria = SearchCriteria(
        resident_record_code=resident_record_code,
        name=name,
        name_kana=name_kana,
        birth_date=birth_date,
        birth_year=birth_year,
        address=address,
        sex=sex,
        include_removed=include_removed,
    )
    result = queries.search_residents(rt.uow(), actor, criteria, limit=limit)
    return SearchOut(
        total=result.total,
        truncated=result.truncated,
        rows=[
            SearchHit(
                resident_id=r.resident_id,
                addressee_no=r.addressee_no,
                name=r.name,
                name_kana=r.name_kana,
                birth_date=r.birth_date,
                sex=r.sex,
                address=r.address_text + (f" {r.building}" if r.building else ""),
                removed=r.removed,
                protected=r.protected,
            )
            for r in result.rows
        ],
    )


class RecordOut(BaseModel):
    resident_id: uuid.UUID
    addressee_no: int
    as_of: date
    history_no: int
    removed: bool
    name: str
    name_kana: str
    birth_date: date
    sex: int
    relationship: str
    household_id: uuid.UUID
    address: str
    became_resident_on: date
    address_set_on: date
    # Always the mask (or 未登録): unmasking is POST /api/privacy/individual-numbers/…
    individual_number: str
    can_unmask: bool


@router.get(
    "/residents/{resident_id}",
    summary="住民票 (基準日現在)",
    openapi_extra=declares("registry.resident_record"),
)
def record(
    request: Request, resident_id: uuid.UUID, actor: ApiActor, as_of: date | None = None
) -> RecordOut:
    rt = runtime(request)
    r = queries.resident_record(rt.uow(), actor, resident_id, as_of=as_of)
    return RecordOut(
        resident_id=r.resident_id,
        addressee_no=r.addressee_no,
        as_of=r.as_of,
        history_no=r.history_no,
        removed=r.removed,
        name=r.name,
        name_kana=r.name_kana,
        birth_date=r.birth_date,
        sex=r.sex,
        relationship=r.relationship,
        household_id=r.household_id,
        address=r.address_text + (f" {r.building}" if r.building else ""),
        became_resident_on=r.became_resident_on,
        address_set_on=r.address_set_on,
        individual_number=r.individual_number,
        can_unmask=r.can_unmask,
    )


class PersonIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_TEXT)]
    name_kana: Kana
    birth_date: date
    sex: Literal[1, 2]
    registered_domicile: Annotated[str | None, Field(max_length=200, pattern=PLAIN_TEXT)] = None
    family_register_head: Annotated[str | None, Field(max_length=100, pattern=PLAIN_TEXT)] = None


class IdentificationIn(BaseModel):
    """本人確認 at the counter (REG-CTRL-01, -04): document TYPES only, never numbers."""

    applicant: rules.ApplicantKind = rules.ApplicantKind.SELF
    documents: Annotated[list[rules.IdentityDocument], Field(max_length=6)]
    power_of_attorney: bool = False

    def to_rule(self) -> rules.Identification:
        return rules.Identification(self.applicant, tuple(self.documents), self.power_of_attorney)


class MoveInIn(BaseModel):
    """転入届 of one person forming a new household."""

    person: PersonIn
    town_area_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    lot: Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_TEXT)]
    building: Annotated[str | None, Field(max_length=100, pattern=PLAIN_TEXT)] = None
    effective_on: date
    notified_on: date
    moved_in_from: Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN_TEXT)]
    from_abroad: bool = False
    # The paper 転出証明書 was received (REG-CTRL-08); not asked for a 転入 from abroad.
    move_out_certificate: bool = False
    identification: IdentificationIn


class RecordedOut(BaseModel):
    resident_ids: list[uuid.UUID]
    household_ids: list[uuid.UUID]
    late_notice: bool


def _recorded(done: services.Recorded) -> RecordedOut:
    return RecordedOut(
        resident_ids=list(done.resident_ids),
        household_ids=list(done.household_ids),
        late_notice=done.late_notice,
    )


@router.post(
    "/move-ins",
    status_code=201,
    summary="転入届 (新しい世帯)",
    openapi_extra=declares("registry.move_in"),
)
def move_in(request: Request, body: MoveInIn, actor: ApiActor) -> RecordedOut:
    rt = runtime(request)
    address_id = queries.find_address(rt.uow(), actor, body.town_area_code, body.lot)
    p = body.person
    cmd = services.MoveIn(
        persons=(
            services.NewPerson(
                name=p.name,
                name_kana=p.name_kana,
                birth_date=p.birth_date,
                sex=p.sex,
                relationship=rules.Relationship.HEAD.value,
                registered_domicile=p.registered_domicile,
                family_register_head=p.family_register_head,
            ),
        ),
        address_id=address_id,
        building=body.building,
        effective_on=body.effective_on,
        notified_on=body.notified_on,
        moved_in_from=body.moved_in_from,
        from_abroad=body.from_abroad,
        move_out_certificate=body.move_out_certificate,
        identification=body.identification.to_rule(),
    )
    return _recorded(services.move_in(rt.uow(), actor, cmd))


class MoveWithinIn(BaseModel):
    """転居届 of the whole household of ``resident_id``."""

    town_area_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    lot: Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_TEXT)]
    building: Annotated[str | None, Field(max_length=100, pattern=PLAIN_TEXT)] = None
    effective_on: date
    notified_on: date
    identification: IdentificationIn


@router.post(
    "/residents/{resident_id}/move-within",
    summary="転居届 (世帯全員)",
    openapi_extra=declares("registry.move_within"),
)
def move_within(
    request: Request, resident_id: uuid.UUID, body: MoveWithinIn, actor: ApiActor
) -> RecordedOut:
    rt = runtime(request)
    address_id = queries.find_address(rt.uow(), actor, body.town_area_code, body.lot)
    current = queries.resident_record(rt.uow(), actor, resident_id)
    movers = tuple(m.resident_id for m in current.members) or (resident_id,)
    cmd = services.MoveWithin(
        resident_ids=movers,
        address_id=address_id,
        building=body.building,
        effective_on=body.effective_on,
        notified_on=body.notified_on,
        identification=body.identification.to_rule(),
    )
    return _recorded(services.move_within(rt.uow(), actor, cmd))


class CertificateIn(BaseModel):
    resident_id: uuid.UUID
    kind: CertificateKind = CertificateKind.RESIDENT_RECORD_COPY
    requester_type: RequesterType = RequesterType.SELF
    whole_household: bool = False
    include_relationship: bool = False
    include_registered_domicile: bool = False
    include_individual_number: bool = False
    identification: IdentificationIn
    # 承認番号 of an approved 公用・第三者請求 (REG-CTRL-10); needed for requester types other
    # than self, household_member and agent.
    approval_id: int | None = Field(default=None, ge=1, le=2**62)


@router.post(
    "/certificates",
    summary="証明書の交付 (PDF)",
    openapi_extra=declares("registry.issue_certificate"),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "証明書 (PDF)"}},
)
def issue_certificate(request: Request, body: CertificateIn, actor: ApiActor) -> Response:
    rt = runtime(request)
    cmd = services.CertificateRequest(
        resident_ids=(body.resident_id,),
        kind=body.kind,
        options=CertificateOptions(
            whole_household=body.whole_household
            and body.kind is not CertificateKind.REMOVED_RECORD_COPY,
            include_relationship=body.include_relationship,
            include_registered_domicile=body.include_registered_domicile,
            include_individual_number=body.include_individual_number,
        ),
        requester_type=body.requester_type,
        identification=body.identification.to_rule(),
        approval_id=body.approval_id,
    )
    office = services.IssuingOffice.from_settings(rt.settings)
    issued = services.issue_certificate(rt.uow(), actor, rt.keys, office, cmd)
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={"X-Machi-Issuance-No": issued.issuance_no},
    )
