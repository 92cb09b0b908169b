"""Staff pages of the registry (Japanese): search, the record with its history, 異動 forms,
the approval queue and certificate issuance. Forms are parsed here into the services'
command dataclasses; every decision stays in services/rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from machi.core.errors import DomainError
from machi.core.wareki import to_wareki
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.registry import queries, rules, services
from machi.registry.certificates import CertificateKind, CertificateOptions
from machi.registry.queries import SearchCriteria
from machi.registry.rules import RequesterType
from machi.web.deps import StaffActor, declares, render, runtime

router = APIRouter(prefix="/registry", include_in_schema=False)

Text = Annotated[str, Form(max_length=200)]
OptionalText = Annotated[str, Form(max_length=200)]


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(_invalid_code(), f"{field}を正しい日付で入力してください。") from None


def _invalid_code() -> Any:
    from machi.core.errors import CoreError

    return CoreError.INVALID_INPUT


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return render(request, f"registry/{template}", status, wareki=_wareki, **ctx)


def _wareki(d: date | None) -> str:
    return to_wareki(d) if d else ""


# -- search --------------------------------------------------------------------------------


@router.get(
    "/search", response_class=HTMLResponse, openapi_extra=declares("registry.search_residents")
)
def search_page(
    request: Request,
    actor: StaffActor,
    name: Annotated[str, Query(max_length=100)] = "",
    name_kana: Annotated[str, Query(max_length=100)] = "",
    birth_date: Annotated[str, Query(max_length=10)] = "",
    address: Annotated[str, Query(max_length=100)] = "",
    sex: Annotated[str, Query(max_length=1)] = "",
    include_removed: bool = False,
) -> HTMLResponse:
    form = {
        "name": name,
        "name_kana": name_kana,
        "birth_date": birth_date,
        "address": address,
        "sex": sex,
        "include_removed": include_removed,
    }
    if not any((name, name_kana, birth_date, address)):
        return _page(request, "search.html", form=form, result=None)
    rt = runtime(request)
    try:
        birth: date | None = None
        year: int | None = None
        if birth_date:
            if birth_date.isdigit() and len(birth_date) == 4:
                year = int(birth_date)
            else:
                birth = _date(birth_date, "生年月日")
        criteria = SearchCriteria(
            name=name or None,
            name_kana=name_kana or None,
            birth_date=birth,
            birth_year=year,
            address=address or None,
            sex=int(sex) if sex in ("1", "2") else None,
            include_removed=include_removed,
        )
        result = queries.search_residents(rt.uow(), actor, criteria)
    except DomainError as e:
        return _page(request, "search.html", e.http_status, form=form, result=None, error=e.message)
    return _page(request, "search.html", form=form, result=result)


# -- the record ----------------------------------------------------------------------------


@router.get(
    "/residents/{resident_id}",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.resident_record"),
)
def resident_page(
    request: Request, resident_id: uuid.UUID, actor: StaffActor, as_of: str = ""
) -> HTMLResponse:
    rt = runtime(request)
    on = _date(as_of, "基準日") if as_of else None
    record = queries.resident_record(rt.uow(), actor, resident_id, as_of=on)
    history = queries.resident_history(rt.uow(), actor, resident_id)
    return _page(
        request,
        "resident.html",
        r=record,
        history=history,
        reasons=[(c.value, label) for c, label in vault.UNMASK_REASON_LABELS.items()],
        towns=queries.town_areas(rt.uow(), actor),
        today=rt.clock.business_date().isoformat(),
    )


# -- 異動 ------------------------------------------------------------------------------------


def _changed(
    request: Request,
    actor: Actor,
    change: Callable[[], services.Recorded],
    form_page: str,
    **ctx: Any,
) -> Response:
    """Run one 異動; on success go to the record (PRG), on refusal show the form again with
    the message and what was typed."""
    try:
        done = change()
    except DomainError as e:
        rt = runtime(request)
        return _page(
            request,
            form_page,
            e.http_status,
            error=e.message,
            field=e.field,
            towns=queries.town_areas(rt.uow(), actor),
            **ctx,
        )
    target = done.resident_ids[0]
    flag = "&late=1" if done.late_notice else ""
    return RedirectResponse(f"/registry/residents/{target}?done=1{flag}", status_code=303)


@router.get("/move-in", response_class=HTMLResponse, openapi_extra=declares("registry.town_areas"))
def move_in_form(request: Request, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    return _page(
        request,
        "move_in.html",
        towns=queries.town_areas(rt.uow(), actor),
        form={},
        today=rt.clock.business_date().isoformat(),
    )


@router.post("/move-in", response_model=None, openapi_extra=declares("registry.move_in"))
def move_in(
    request: Request,
    actor: StaffActor,
    name: Text = "",
    name_kana: Text = "",
    birth_date: Text = "",
    sex: Text = "",
    town_area_code: Text = "",
    lot: Text = "",
    building: OptionalText = "",
    effective_on: Text = "",
    notified_on: Text = "",
    moved_in_from: Text = "",
    registered_domicile: OptionalText = "",
    family_register_head: OptionalText = "",
    from_abroad: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    form = dict(_typed(locals()))

    def change() -> services.Recorded:
        address_id = queries.find_address(rt.uow(), actor, town_area_code, lot)
        person = services.NewPerson(
            name=name.strip(),
            name_kana=name_kana.strip(),
            birth_date=_date(birth_date, "生年月日"),
            sex=int(sex) if sex in ("1", "2") else 0,
            relationship=rules.Relationship.HEAD.value,
            registered_domicile=registered_domicile.strip() or None,
            family_register_head=family_register_head.strip() or None,
        )
        cmd = services.MoveIn(
            persons=(person,),
            address_id=address_id,
            building=building.strip() or None,
            effective_on=_date(effective_on, "異動日"),
            notified_on=_date(notified_on, "届出日"),
            moved_in_from=moved_in_from.strip(),
            from_abroad=from_abroad,
        )
        return services.move_in(rt.uow(), actor, cmd)

    return _changed(
        request,
        actor,
        change,
        "move_in.html",
        form=form,
        today=rt.clock.business_date().isoformat(),
    )


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """The typed values to show again after a refusal (never the request object)."""
    return {k: v for k, v in values.items() if isinstance(v, str | bool)}


@router.post(
    "/residents/{resident_id}/move-within",
    response_model=None,
    openapi_extra=declares("registry.move_within"),
)
def move_within(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    town_area_code: Text = "",
    lot: Text = "",
    building: OptionalText = "",
    effective_on: Text = "",
    notified_on: Text = "",
) -> Response:
    rt = runtime(request)

    def change() -> services.Recorded:
        address_id = queries.find_address(rt.uow(), actor, town_area_code, lot)
        record = queries.resident_record(rt.uow(), actor, resident_id)
        movers = tuple(m.resident_id for m in record.members) or (resident_id,)
        cmd = services.MoveWithin(
            resident_ids=movers,
            address_id=address_id,
            building=building.strip() or None,
            effective_on=_date(effective_on, "異動日"),
            notified_on=_date(notified_on, "届出日"),
        )
        return services.move_within(rt.uow(), actor, cmd)

    try:
        return _changed(request, actor, change, "error_form.html")
    except DomainError as e:
        return _page(request, "error_form.html", e.http_status, error=e.message)


# -- certificates --------------------------------------------------------------------------


@router.post(
    "/residents/{resident_id}/certificates",
    response_model=None,
    openapi_extra=declares("registry.issue_certificate"),
)
def issue_certificate(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    kind: Text = "resident_record_copy",
    requester_type: Text = "self",
    whole_household: Annotated[bool, Form()] = False,
    include_relationship: Annotated[bool, Form()] = False,
    include_registered_domicile: Annotated[bool, Form()] = False,
    include_individual_number: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    try:
        cmd = services.CertificateRequest(
            resident_ids=(resident_id,),
            kind=CertificateKind(kind),
            options=CertificateOptions(
                whole_household=whole_household and kind != "removed_record_copy",
                include_relationship=include_relationship,
                include_registered_domicile=include_registered_domicile,
                include_individual_number=include_individual_number,
            ),
            requester_type=RequesterType(requester_type),
        )
    except ValueError:
        return _page(
            request, "error_form.html", 422, error="証明書の種類または請求者が正しくありません。"
        )
    try:
        office = services.IssuingOffice.from_settings(rt.settings)
        issued = services.issue_certificate(rt.uow(), actor, rt.keys, office, cmd)
    except DomainError as e:
        return _page(request, "error_form.html", e.http_status, error=e.message)
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="certificate-{issued.issuance_no}.pdf"',
            "X-Machi-Issuance-No": issued.issuance_no,
        },
    )


public = APIRouter(include_in_schema=False)


@public.get("/certificates/verify", response_class=HTMLResponse)
def verify_certificate(
    request: Request,
    no: Annotated[str, Query(max_length=80)] = "",
    code: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Open to anyone holding a paper (the QR code leads here): valid or not, the kind and
    date; nothing about the persons on it."""
    if not no or not code:
        return render(request, "registry/verify.html", result=None, no=no, code=code)
    rt = runtime(request)
    result = services.verify_certificate(rt.uow(), issuance_no=no, code=code)
    return render(
        request,
        "registry/verify.html",
        result=result,
        no=no,
        code=code,
        issued=_wareki(result.issued_on),
    )


# -- more 異動 from the record: 転出, 死亡, 出生 ------------------------------------------------


@router.post(
    "/residents/{resident_id}/move-out",
    response_model=None,
    openapi_extra=declares("registry.planned_move_out"),
)
def move_out(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    planned_on: Text = "",
    notified_on: Text = "",
    destination: Text = "",
    abroad: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)

    def change() -> services.Recorded:
        cmd = services.PlannedMoveOut(
            resident_ids=(resident_id,),
            planned_on=_date(planned_on, "転出予定日"),
            notified_on=_date(notified_on, "届出日"),
            destination=destination.strip(),
            abroad=abroad,
        )
        return services.planned_move_out(rt.uow(), actor, cmd)

    return _changed(request, actor, change, "error_form.html")


@router.post(
    "/residents/{resident_id}/death",
    response_model=None,
    openapi_extra=declares("registry.death"),
)
def death(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    died_on: Text = "",
    notified_on: Text = "",
) -> Response:
    rt = runtime(request)

    def change() -> services.Recorded:
        cmd = services.Death(
            resident_id=resident_id,
            died_on=_date(died_on, "死亡日"),
            notified_on=_date(notified_on, "通知日") if notified_on else None,
        )
        return services.death(rt.uow(), actor, cmd)

    return _changed(request, actor, change, "error_form.html")


@router.post(
    "/households/{household_id}/birth",
    response_model=None,
    openapi_extra=declares("registry.birth"),
)
def birth(
    request: Request,
    household_id: uuid.UUID,
    actor: StaffActor,
    name: Text = "",
    name_kana: Text = "",
    birth_date: Text = "",
    sex: Text = "",
    relationship: Text = "child",
    notified_on: Text = "",
) -> Response:
    rt = runtime(request)

    def change() -> services.Recorded:
        cmd = services.Birth(
            household_id=household_id,
            person=services.NewPerson(
                name=name.strip(),
                name_kana=name_kana.strip(),
                birth_date=_date(birth_date, "生年月日"),
                sex=int(sex) if sex in ("1", "2") else 0,
                relationship=relationship.strip() or "child",
            ),
            notified_on=_date(notified_on, "通知日") if notified_on else None,
        )
        return services.birth(rt.uow(), actor, cmd)

    return _changed(request, actor, change, "error_form.html")


# -- four-eyes: the approval queue (REG-CTRL-11) ------------------------------------------------


@router.get(
    "/approvals", response_class=HTMLResponse, openapi_extra=declares("registry.pending_approvals")
)
def approvals(request: Request, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    pending = queries.pending_approvals(rt.uow(), actor)
    return _page(request, "approvals.html", pending=pending)


def _decide(
    request: Request, actor: Actor, decide: Callable[[], object], notice: str
) -> HTMLResponse:
    rt = runtime(request)
    try:
        decide()
    except DomainError as e:
        pending = queries.pending_approvals(rt.uow(), actor)
        return _page(request, "approvals.html", e.http_status, pending=pending, error=e.message)
    pending = queries.pending_approvals(rt.uow(), actor)
    return _page(request, "approvals.html", pending=pending, notice=notice)


@router.post(
    "/approvals/{approval_id}/approve",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.approve_ex_officio"),
)
def approve(
    request: Request, approval_id: int, actor: StaffActor, version: Annotated[int, Form()] = 0
) -> HTMLResponse:
    rt = runtime(request)
    decision = services.Decision(approval_id, expected_version=version or None)
    return _decide(
        request,
        actor,
        lambda: services.approve_ex_officio(rt.uow(), actor, decision),
        f"決裁しました (No.{approval_id})。",
    )


@router.post(
    "/approvals/{approval_id}/reject",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.reject_ex_officio"),
)
def reject(
    request: Request, approval_id: int, actor: StaffActor, version: Annotated[int, Form()] = 0
) -> HTMLResponse:
    rt = runtime(request)
    decision = services.Decision(approval_id, expected_version=version or None)
    return _decide(
        request,
        actor,
        lambda: services.reject_ex_officio(rt.uow(), actor, decision),
        f"破棄しました (No.{approval_id})。",
    )


@router.post(
    "/residents/{resident_id}/ex-officio-deletion",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.request_ex_officio"),
)
def request_deletion(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    effective_on: Text = "",
) -> HTMLResponse:
    """職権消除 (e.g. 居住の実態なし) is drafted here and takes effect only when a second
    person approves it in the queue."""
    rt = runtime(request)
    try:
        cmd = services.ExOfficioDeletion(
            resident_id=resident_id, effective_on=_date(effective_on, "消除日")
        )
        draft = services.request_ex_officio(rt.uow(), actor, cmd)
    except DomainError as e:
        return _page(request, "error_form.html", e.http_status, error=e.message)
    return _page(request, "drafted.html", draft=draft, resident_id=resident_id)
