"""Staff pages of the registry (Japanese): search, the record with its history, 異動 forms,
the approval queue and certificate issuance. Forms are parsed here into the services'
command dataclasses; every decision stays in services/rules."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from machi.core.errors import CoreError, DomainError
from machi.core.wareki import to_wareki
from machi.privacy import access, vault
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.registry import queries, rules, services
from machi.registry.certificates import CertificateKind, CertificateOptions
from machi.registry.errors import MESSAGES, RegistryError
from machi.registry.queries import SearchCriteria
from machi.registry.rules import RequesterType
from machi.web.deps import PLAIN_TEXT, StaffActor, declares, render, runtime

router = APIRouter(prefix="/registry", include_in_schema=False)

Text = Annotated[str, Form(max_length=200, pattern=PLAIN_TEXT)]
OptionalText = Annotated[str, Form(max_length=200, pattern=PLAIN_TEXT)]


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            CoreError.INVALID_INPUT, f"{field}を正しい日付で入力してください。"
        ) from None


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return render(
        request,
        f"registry/{template}",
        status,
        wareki=_wareki,
        identity_documents=IDENTITY_DOCUMENTS,
        **ctx,
    )


def _wareki(d: date | None) -> str:
    return to_wareki(d) if d else ""


IDENTITY_DOCUMENTS = [(d.value, label) for d, label in rules.IDENTITY_DOCUMENT_LABELS.items()]
Documents = Annotated[list[str], Form()]


def _identification(
    applicant: str, documents: list[str], power_of_attorney: bool
) -> rules.Identification:
    """The counter's 本人確認 from the form; an unknown code is treated as not given, so the
    rule refuses with its own message rather than a 500."""
    kinds = [d for d in documents if d in rules.IdentityDocument._value2member_map_]
    kind = (
        rules.ApplicantKind(applicant)
        if applicant in rules.ApplicantKind._value2member_map_
        else rules.ApplicantKind.SELF
    )
    return rules.Identification(
        applicant=kind,
        documents=tuple(rules.IdentityDocument(d) for d in kinds),
        power_of_attorney=power_of_attorney,
    )


# -- 発行停止者一覧 (REG-CTRL-33) -------------------------------------------------------------


@router.get(
    "/protection",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.protected_residents"),
)
def protected_list(request: Request, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    listed = queries.protected_residents(rt.uow(), actor)
    return _page(request, "protected.html", listed=listed, today=rt.clock.business_date())


# -- 閲覧 (REG-CTRL-09) ----------------------------------------------------------------------


def _browsing_page(request: Request, actor: Actor, status: int = 200, **ctx: Any) -> HTMLResponse:
    rt = runtime(request)
    ctx.setdefault("form", {})
    return _page(
        request,
        "browsing.html",
        status,
        bases=list(rules.BrowsingBasis),
        towns=queries.town_areas(rt.uow(), actor),
        **ctx,
    )


@router.get("/browsing", response_class=HTMLResponse, openapi_extra=declares("registry.town_areas"))
def browsing_form(request: Request, actor: StaffActor) -> HTMLResponse:
    return _browsing_page(request, actor)


@router.post(
    "/browsing", response_class=HTMLResponse, openapi_extra=declares("registry.request_browsing")
)
def request_browsing(
    request: Request,
    actor: StaffActor,
    legal_basis: Text = "",
    requester: Text = "",
    purpose: Text = "",
    town_area_codes: Annotated[list[str], Form()] = [],  # noqa: B006 — FastAPI copies it
    min_age: Annotated[str, Form(max_length=3)] = "",
    max_age: Annotated[str, Form(max_length=3)] = "",
    sex: Annotated[str, Form(max_length=1)] = "",
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """閲覧の申出 受付: kept for a second person's 決裁; the list is shown on
    /registry/browsing/{承認番号} only after it, and only within the scope given here."""
    rt = runtime(request)
    form = {"legal_basis": legal_basis, "requester": requester, "purpose": purpose}
    try:
        cmd = services.BrowsingRequest(
            legal_basis=rules.BrowsingBasis(legal_basis),
            requester=requester,
            purpose=purpose,
            scope=rules.BrowsingScope(
                tuple(town_area_codes),
                int(min_age) if min_age.strip() else None,
                int(max_age) if max_age.strip() else None,
                int(sex) if sex.strip() else None,
            ),
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        approval_id = services.request_browsing(rt.uow(), actor, cmd)
    except ValueError:
        message = "法令上の根拠と閲覧の範囲 (年齢は数字) を正しく入力してください。"
        return _browsing_page(request, actor, 422, form=form, error=message)
    except DomainError as e:
        return _browsing_page(request, actor, e.http_status, form=form, error=e.message)
    return _browsing_page(request, actor, received=approval_id)


@router.get(
    "/browsing/{approval_id}",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.browsing_list"),
)
def browsing_list(request: Request, approval_id: int, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    try:
        listed = queries.browsing_list(rt.uow(), actor, approval_id)
    except DomainError as e:
        return _browsing_page(request, actor, e.http_status, error=e.message)
    return _page(request, "browsing_list.html", listed=listed)


# -- 人口統計 (REG-CTRL-34) ------------------------------------------------------------------


@router.get(
    "/statistics",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.population_statistics"),
)
def statistics_page(
    request: Request, actor: StaffActor, as_of: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse:
    rt = runtime(request)
    try:
        on = _optional_date(as_of, "基準日")
        stats = queries.population_statistics(rt.uow(), actor, as_of=on)
    except DomainError as e:
        return _page(request, "statistics.html", e.http_status, stats=None, error=e.message)
    return _page(request, "statistics.html", stats=stats)


# -- search --------------------------------------------------------------------------------


@router.get(
    "/search", response_class=HTMLResponse, openapi_extra=declares("registry.search_residents")
)
def search_page(
    request: Request,
    actor: StaffActor,
    name: Annotated[str, Query(max_length=100, pattern=PLAIN_TEXT)] = "",
    name_kana: Annotated[str, Query(max_length=100, pattern=PLAIN_TEXT)] = "",
    birth_date: Annotated[str, Query(max_length=10)] = "",
    address: Annotated[str, Query(max_length=100, pattern=PLAIN_TEXT)] = "",
    sex: Annotated[str, Query(max_length=1)] = "",
    include_removed: bool = False,
    resident_record_code: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    form = {
        "resident_record_code": resident_record_code,
        "name": name,
        "name_kana": name_kana,
        "birth_date": birth_date,
        "address": address,
        "sex": sex,
        "include_removed": include_removed,
    }
    if not any((name, name_kana, birth_date, address, resident_record_code.strip())):
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
            resident_record_code=resident_record_code.strip() or None,
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
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    as_of: str = "",
    measure: Annotated[uuid.UUID | None, Query()] = None,
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
        # The 支援措置 just registered: its number is what ending it asks for.
        measure=measure,
        legal_bases=list(rules.LegalBasis),
    )


# -- 異動 ------------------------------------------------------------------------------------


def _prg(change: Callable[[], str], again: Callable[[DomainError], Response]) -> Response:
    """Run one command: on success go to the URL it returns (303, so a reload cannot send it
    twice); on refusal answer ``again`` (the form with the message; nothing was written)."""
    try:
        target = change()
    except DomainError as e:
        return again(e)
    return RedirectResponse(target, status_code=303)


def _record_url(done: services.Recorded, resident_id: uuid.UUID) -> str:
    flag = "&late=1" if done.late_notice else ""
    return f"/registry/residents/{resident_id}?done=1{flag}"


def _changed(
    change: Callable[[], services.Recorded], again: Callable[[DomainError], Response]
) -> Response:
    """One 異動 from a form: to the record on success, ``again`` on refusal."""

    def run() -> str:
        done = change()
        return _record_url(done, done.resident_ids[0])

    return _prg(run, again)


def _refused(request: Request, e: DomainError) -> HTMLResponse:
    """The refusal of a form posted from the record page: the message, nothing written."""
    return _page(request, "error_form.html", e.http_status, error=e.message)


@router.get("/move-in", response_class=HTMLResponse, openapi_extra=declares("registry.town_areas"))
def move_in_form(
    request: Request, actor: StaffActor, removed: Annotated[str, Query(max_length=40)] = ""
) -> HTMLResponse:
    """The 転入届 form; with ``removed`` (a 除票 of a person coming back) its person items
    are pre-filled from that 除票 and flagged for checking (REG-CTRL-14), and the 転入 reuses
    its record and 宛名番号 (REG-CTRL-26)."""
    rt = runtime(request)
    form: dict[str, Any] = {}
    error = None
    if removed:
        try:
            r = queries.resident_record(rt.uow(), actor, _uuid(removed, "除票"))
            if not r.removed:
                raise DomainError(
                    RegistryError.ALREADY_RESIDENT, MESSAGES[RegistryError.ALREADY_RESIDENT]
                )
            form = {
                "resident_id": str(r.resident_id),
                "name": r.name,
                "name_kana": r.name_kana,
                "birth_date": r.birth_date.isoformat(),
                "sex": str(r.sex),
                "registered_domicile": r.registered_domicile or "",
                "family_register_head": r.family_register_head or "",
            }
        except DomainError as e:
            error = e.message
    return _page(
        request,
        "move_in.html",
        400 if error else 200,
        towns=queries.town_areas(rt.uow(), actor),
        form=form,
        error=error,
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
    move_out_certificate: Annotated[bool, Form()] = False,
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
    resident_id: Annotated[str, Form(max_length=40)] = "",
    quoted_checked: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    form = dict(_typed(locals()))

    def change() -> services.Recorded:
        rules.check_quotation_checked(bool(resident_id), quoted_checked)
        address_id = queries.find_address(rt.uow(), actor, town_area_code, lot)
        person = services.NewPerson(
            resident_id=_uuid(resident_id, "除票") if resident_id else None,
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
            move_out_certificate=move_out_certificate,
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        return services.move_in(rt.uow(), actor, cmd)

    def again(e: DomainError) -> Response:
        # The form again, with what was typed and where it went wrong.
        return _page(
            request,
            "move_in.html",
            e.http_status,
            error=e.message,
            field=e.field,
            towns=queries.town_areas(rt.uow(), actor),
            form=form,
            today=rt.clock.business_date().isoformat(),
        )

    return _changed(change, again)


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
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
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
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        return services.move_within(rt.uow(), actor, cmd)

    return _changed(change, lambda e: _refused(request, e))


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
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
    approval_id: Text = "",
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
            identification=_identification(applicant, identity_documents, power_of_attorney),
            approval_id=int(approval_id) if approval_id.strip() else None,
        )
    except ValueError:
        return _page(
            request,
            "error_form.html",
            422,
            error="証明書の種類、請求者または承認番号が正しくありません。",
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
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)

    def change() -> services.Recorded:
        cmd = services.PlannedMoveOut(
            resident_ids=(resident_id,),
            planned_on=_date(planned_on, "転出予定日"),
            notified_on=_date(notified_on, "届出日"),
            destination=destination.strip(),
            abroad=abroad,
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        return services.planned_move_out(rt.uow(), actor, cmd)

    return _changed(change, lambda e: _refused(request, e))


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

    return _changed(change, lambda e: _refused(request, e))


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

    return _changed(change, lambda e: _refused(request, e))


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
    request: Request,
    approval_id: int,
    actor: StaffActor,
    version: Annotated[int, Form()] = 0,
    verified: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    rt = runtime(request)
    decision = services.Decision(approval_id, expected_version=version or None, verified=verified)
    return _decide(
        request,
        actor,
        lambda: services.approve_ex_officio(rt.uow(), actor, decision),
        f"決裁しました (No.{approval_id})。",
    )


@router.get(
    "/approvals/{approval_id}",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.draft_detail"),
)
def draft_page(request: Request, approval_id: int, actor: StaffActor) -> HTMLResponse:
    """The 決裁 screen of one 仮登録: recorded and proposed values side by side, and 決裁
    only with 照合済 ticked (REG-CTRL-13)."""
    rt = runtime(request)
    try:
        detail = queries.draft_detail(rt.uow(), actor, approval_id)
    except DomainError as e:
        pending = queries.pending_approvals(rt.uow(), actor)
        return _page(request, "approvals.html", e.http_status, pending=pending, error=e.message)
    return _page(request, "draft.html", d=detail)


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
    "/requests/{approval_id}/approve",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.approve_request"),
)
def approve_request(
    request: Request, approval_id: int, actor: StaffActor, version: Annotated[int, Form()] = 0
) -> HTMLResponse:
    rt = runtime(request)
    decision = services.Decision(approval_id, expected_version=version or None)
    return _decide(
        request,
        actor,
        lambda: services.approve_request(rt.uow(), actor, decision),
        f"決裁しました。承認番号 {approval_id} で1回だけ交付・出力できます。",
    )


@router.post(
    "/requests/{approval_id}/reject",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.reject_request"),
)
def reject_request(
    request: Request, approval_id: int, actor: StaffActor, version: Annotated[int, Form()] = 0
) -> HTMLResponse:
    rt = runtime(request)
    decision = services.Decision(approval_id, expected_version=version or None)
    return _decide(
        request,
        actor,
        lambda: services.reject_request(rt.uow(), actor, decision),
        f"不承認としました (No.{approval_id})。",
    )


@router.post(
    "/residents/{resident_id}/disclosure-requests",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.request_disclosure"),
)
def request_disclosure(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    requester_type: Text = "",
    legal_basis: Text = "",
    requester: Text = "",
    purpose: Text = "",
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """受付 of a 公用・第三者請求 (REG-CTRL-10): kept for a second person's 決裁; the
    certificate is then issued with the 承認番号 shown here."""
    rt = runtime(request)
    try:
        cmd = services.DisclosureRequest(
            resident_ids=(resident_id,),
            requester_type=RequesterType(requester_type),
            legal_basis=rules.LegalBasis(legal_basis),
            requester=requester,
            purpose=purpose,
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
    except ValueError:
        return _page(
            request,
            "error_form.html",
            422,
            error="請求者の区分または法令上の根拠を選んでください。",
        )
    try:
        approval_id = services.request_disclosure(rt.uow(), actor, cmd)
    except DomainError as e:
        return _refused(request, e)
    return _page(
        request,
        "drafted.html",
        draft=approval_id,
        resident_id=resident_id,
        what="公用・第三者請求",
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


# -- shared by the pages below: PRG and what staff type ---------------------------------------


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise DomainError(
            CoreError.INVALID_INPUT, f"{field}の指定が正しくありません。", field=field
        ) from None


def _optional_date(value: str, field: str) -> date | None:
    return _date(value.strip(), field) if value.strip() else None


def _optional(value: str) -> str | None:
    return value.strip() or None


def _relationship(label: str) -> str:
    """Staff type the 続柄 as printed (「子の妻」); rules turn it into its code, or refuse it
    with the standard's message (標準仕様 §3.7)."""
    return rules.parse_relationship(label)


def _typed_relationships(member: list[str], relationship: list[str]) -> dict[str, str]:
    """Resident id (as in the form) → the 続柄 typed on that row. Rows are parallel lists,
    so a tampered form with lists of different lengths is refused rather than misaligned."""
    if len(member) != len(relationship):
        raise DomainError(
            CoreError.INVALID_INPUT, "入力内容に誤りがあります。画面を開き直してください。"
        )
    return dict(zip(member, relationship, strict=True))


# Offered in the <datalist> of 続柄 inputs; chains (「子の妻」) are typed out.
RELATIONSHIP_CHOICES = [r.label for r in rules.Relationship]


# -- 世帯変更 (法第25条): 世帯分離, 世帯主変更, 世帯合併 ------------------------------------------

# One entry per household member row (checkboxes send nothing when none is ticked).
MemberList = Annotated[list[str], Form(max_length=100, default_factory=list)]


def _household_page(
    request: Request,
    actor: Actor,
    household_id: uuid.UUID,
    status: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    rt = runtime(request)
    view = queries.household(rt.uow(), actor, household_id)
    ctx.setdefault("form", {})
    return _page(
        request,
        "household.html",
        status,
        h=view,
        relationships=RELATIONSHIP_CHOICES,
        today=rt.clock.business_date().isoformat(),
        **ctx,
    )


@router.get(
    "/households/{household_id}",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.household"),
)
def household_page(request: Request, household_id: uuid.UUID, actor: StaffActor) -> HTMLResponse:
    return _household_page(request, actor, household_id)


@router.post(
    "/households/{household_id}/split",
    response_model=None,
    openapi_extra=declares("registry.household_split"),
)
def household_split(
    request: Request,
    household_id: uuid.UUID,
    actor: StaffActor,
    leaving: MemberList,
    member: MemberList,
    relationship: MemberList,
    effective_on: Text = "",
    notified_on: Text = "",
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    form = {
        "kind": "split",
        "applicant": applicant,
        "leaving": set(leaving),
        "rel": dict(zip(member, relationship, strict=False)),
        "effective_on": effective_on,
        "notified_on": notified_on,
    }

    def change() -> str:
        typed = _typed_relationships(member, relationship)
        leave = {_uuid(rid, "分離する方"): _relationship(typed.get(rid, "")) for rid in leaving}
        stay = {
            _uuid(rid, "残る方"): _relationship(label)
            for rid, label in typed.items()
            if rid not in leaving and label.strip()
        }
        cmd = services.HouseholdSplit(
            household_id=household_id,
            leaving=leave,
            staying=stay,
            effective_on=_date(effective_on, "異動日"),
            notified_on=_date(notified_on, "届出日"),
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        done = services.household_split(rt.uow(), actor, cmd)
        return _record_url(done, next(iter(leave)))

    return _prg(
        change,
        lambda e: _household_page(
            request, actor, household_id, e.http_status, error=e.message, form=form
        ),
    )


@router.post(
    "/households/{household_id}/head",
    response_model=None,
    openapi_extra=declares("registry.household_head_change"),
)
def household_head_change(
    request: Request,
    household_id: uuid.UUID,
    actor: StaffActor,
    member: MemberList,
    relationship: MemberList,
    new_head: Text = "",
    effective_on: Text = "",
    notified_on: Text = "",
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    form = {
        "kind": "head",
        "applicant": applicant,
        "new_head": new_head,
        "rel": dict(zip(member, relationship, strict=False)),
        "effective_on": effective_on,
        "notified_on": notified_on,
    }

    def change() -> str:
        typed = _typed_relationships(member, relationship)
        head = _uuid(new_head, "新しい世帯主")
        # The new head's own 続柄 is 世帯主 by definition; what was typed on that row is moot.
        others = {
            _uuid(rid, "世帯員"): _relationship(label)
            for rid, label in typed.items()
            if rid != new_head and label.strip()
        }
        cmd = services.HouseholdHeadChange(
            household_id=household_id,
            new_head_id=head,
            relationships=others,
            effective_on=_date(effective_on, "異動日"),
            notified_on=_date(notified_on, "届出日"),
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        return _record_url(services.household_head_change(rt.uow(), actor, cmd), head)

    return _prg(
        change,
        lambda e: _household_page(
            request, actor, household_id, e.http_status, error=e.message, form=form
        ),
    )


def _merge_page(
    request: Request,
    actor: Actor,
    household_id: uuid.UUID,
    name: str,
    name_kana: str,
    status: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """The household, and — once a name is typed — the residents of that name at the same
    address (a merge needs one address: 住所の異なる世帯は転居), to pick the other household."""
    rt = runtime(request)
    view = queries.household(rt.uow(), actor, household_id)
    candidates: list[queries.SearchRow] = []
    search_error = None
    if (name.strip() or name_kana.strip()) and view.address_text:
        criteria = SearchCriteria(
            name=name or None,
            name_kana=name_kana or None,
            address=f"{view.address_text}{view.building or ''}",
        )
        ours = {m.resident_id for m in view.members}
        try:
            found = queries.search_residents(rt.uow(), actor, criteria, limit=20)
            candidates = [r for r in found.rows if r.resident_id not in ours]
        except DomainError as e:
            search_error = e.message
    ctx.setdefault("form", {})
    return _page(
        request,
        "household_merge.html",
        status,
        h=view,
        # Not "name": render() takes the template's name under that keyword.
        typed_name=name,
        typed_kana=name_kana,
        candidates=candidates,
        search_error=search_error,
        relationships=RELATIONSHIP_CHOICES,
        today=rt.clock.business_date().isoformat(),
        **ctx,
    )


@router.get(
    "/households/{household_id}/merge",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.search_residents"),
)
def household_merge_page(
    request: Request,
    household_id: uuid.UUID,
    actor: StaffActor,
    name: Annotated[str, Query(max_length=100, pattern=PLAIN_TEXT)] = "",
    name_kana: Annotated[str, Query(max_length=100, pattern=PLAIN_TEXT)] = "",
) -> HTMLResponse:
    return _merge_page(request, actor, household_id, name, name_kana)


@router.post(
    "/households/{household_id}/merge",
    response_model=None,
    openapi_extra=declares("registry.household_merge"),
)
def household_merge(
    request: Request,
    household_id: uuid.UUID,
    actor: StaffActor,
    member: MemberList,
    relationship: MemberList,
    into_resident: Text = "",
    effective_on: Text = "",
    notified_on: Text = "",
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
    name: OptionalText = "",
    name_kana: OptionalText = "",
) -> Response:
    rt = runtime(request)
    form = {
        "applicant": applicant,
        "into_resident": into_resident,
        "rel": dict(zip(member, relationship, strict=False)),
        "effective_on": effective_on,
        "notified_on": notified_on,
    }

    def change() -> str:
        typed = _typed_relationships(member, relationship)
        joining = {_uuid(rid, "世帯員"): _relationship(label) for rid, label in typed.items()}
        target = _uuid(into_resident, "合併先の世帯")
        into = queries.resident_record(rt.uow(), actor, target).household_id
        cmd = services.HouseholdMerge(
            from_household_id=household_id,
            into_household_id=into,
            relationships=joining,
            effective_on=_date(effective_on, "異動日"),
            notified_on=_date(notified_on, "届出日"),
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        done = services.household_merge(rt.uow(), actor, cmd)
        return _record_url(done, next(iter(joining)))

    return _prg(
        change,
        lambda e: _merge_page(
            request,
            actor,
            household_id,
            name,
            name_kana,
            e.http_status,
            error=e.message,
            form=form,
        ),
    )


# -- 職権修正 and 職権記載: drafts for the approval queue (REG-CTRL-11, -12) -------------------

# What the correction form offers: the person's own items. 世帯・続柄 change by 世帯変更, the
# 住所 by 転居 or a correction with the address master, 外国人住民 items by their own form.
CORRECTABLE_ITEMS = (
    "name",
    "name_kana",
    "former_surname",
    "former_surname_kana",
    "alias_name",
    "alias_name_kana",
    "alphabet_name",
    "birth_date",
    "sex",
    "building",
    "became_resident_on",
    "address_set_on",
    "registered_domicile",
    "family_register_head",
)
_DATE_ITEMS = frozenset({"birth_date", "became_resident_on", "address_set_on"})
CORRECTION_REASONS = (
    rules.ChangeReason.EX_OFFICIO_CORRECTION,
    rules.ChangeReason.CLERICAL_ERROR_CORRECTION,
    rules.ChangeReason.MINOR_CORRECTION,
)
ENTRY_REASONS = (
    rules.ChangeReason.EX_OFFICIO_ENTRY,
    rules.ChangeReason.EX_OFFICIO_ENTRY_NATURALIZATION,
    rules.ChangeReason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS,
)


def _corrected_value(item: str, value: str) -> object:
    """The value as the draft should hold it; an empty value clears an optional item."""
    label = rules.FIELD_LABELS[item]
    value = value.strip()
    if not value:
        return None
    if item in _DATE_ITEMS:
        return _date(value, label)
    if item == "sex":
        if value not in ("1", "2"):
            raise DomainError(
                CoreError.INVALID_INPUT, "性別は男か女を選んでください。", field="value"
            )
        return int(value)
    return value


def _correction_page(
    request: Request, resident_id: uuid.UUID, status: int = 200, **ctx: Any
) -> HTMLResponse:
    ctx.setdefault("form", {})
    return _page(
        request,
        "correction.html",
        status,
        resident_id=resident_id,
        items=[(i, rules.FIELD_LABELS[i]) for i in CORRECTABLE_ITEMS],
        reasons=[(r.value, r.label) for r in CORRECTION_REASONS],
        **ctx,
    )


@router.get(
    "/residents/{resident_id}/correction",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.resident_record"),
)
def correction_form(request: Request, resident_id: uuid.UUID, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    record = queries.resident_record(rt.uow(), actor, resident_id)
    return _correction_page(request, resident_id, r=record)


@router.post(
    "/residents/{resident_id}/correction",
    response_model=None,
    openapi_extra=declares("registry.request_ex_officio"),
)
def request_correction(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    item: Text = "",
    value: OptionalText = "",
    change_reason: Text = rules.ChangeReason.EX_OFFICIO_CORRECTION.value,
    applies_from: OptionalText = "",
) -> Response:
    """職権修正 is drafted here and reaches the record only when someone else approves it."""
    rt = runtime(request)
    form = dict(_typed(locals()))

    def change() -> str:
        if item not in CORRECTABLE_ITEMS:
            raise DomainError(
                CoreError.INVALID_INPUT, "修正する記載事項を選んでください。", field="item"
            )
        reasons = {r.value: r for r in CORRECTION_REASONS}
        if change_reason not in reasons:
            raise DomainError(
                CoreError.INVALID_INPUT, "異動事由を選んでください。", field="change_reason"
            )
        cmd = services.ExOfficioCorrection(
            resident_id=resident_id,
            corrections={item: _corrected_value(item, value)},
            applies_from=_optional_date(applies_from, "修正の始期"),
            change_reason=reasons[change_reason],
        )
        draft = services.request_ex_officio(rt.uow(), actor, cmd)
        return f"/registry/residents/{resident_id}?drafted={draft}"

    return _prg(
        change,
        lambda e: _correction_page(
            request, resident_id, e.http_status, error=e.message, field=e.field, form=form
        ),
    )


def _entry_page(request: Request, actor: Actor, status: int = 200, **ctx: Any) -> HTMLResponse:
    rt = runtime(request)
    ctx.setdefault("form", {})
    return _page(
        request,
        "ex_officio_entry.html",
        status,
        towns=queries.town_areas(rt.uow(), actor),
        reasons=[(r.value, r.label) for r in ENTRY_REASONS],
        today=rt.clock.business_date().isoformat(),
        **ctx,
    )


@router.get(
    "/ex-officio-entry", response_class=HTMLResponse, openapi_extra=declares("registry.town_areas")
)
def ex_officio_entry_form(
    request: Request,
    actor: StaffActor,
    drafted: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    return _entry_page(request, actor, drafted=drafted)


@router.post(
    "/ex-officio-entry", response_model=None, openapi_extra=declares("registry.request_ex_officio")
)
def request_entry(
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
    notified_on: OptionalText = "",
    change_reason: Text = rules.ChangeReason.EX_OFFICIO_ENTRY.value,
    registered_domicile: OptionalText = "",
    family_register_head: OptionalText = "",
) -> Response:
    """職権記載 of a person found living here (a new household, like a 転入) as a draft."""
    rt = runtime(request)
    form = dict(_typed(locals()))

    def change() -> str:
        reasons = {r.value: r for r in ENTRY_REASONS}
        if change_reason not in reasons:
            raise DomainError(
                CoreError.INVALID_INPUT, "異動事由を選んでください。", field="change_reason"
            )
        address_id = queries.find_address(rt.uow(), actor, town_area_code, lot)
        person = services.NewPerson(
            name=name.strip(),
            name_kana=name_kana.strip(),
            birth_date=_date(birth_date, "生年月日"),
            sex=int(sex) if sex in ("1", "2") else 0,
            relationship=rules.Relationship.HEAD.value,
            registered_domicile=_optional(registered_domicile),
            family_register_head=_optional(family_register_head),
        )
        cmd = services.ExOfficioEntry(
            person=person,
            address_id=address_id,
            building=_optional(building),
            effective_on=_date(effective_on, "記載日"),
            change_reason=reasons[change_reason],
            notified_on=_optional_date(notified_on, "通知日"),
        )
        draft = services.request_ex_officio(rt.uow(), actor, cmd)
        return f"/registry/ex-officio-entry?drafted={draft}"

    return _prg(
        change,
        lambda e: _entry_page(
            request, actor, e.http_status, error=e.message, field=e.field, form=form
        ),
    )


# -- 外国人住民の在留資格等 (法第30条の50) ----------------------------------------------------


def _foreign_page(
    request: Request, resident_id: uuid.UUID, status: int = 200, **ctx: Any
) -> HTMLResponse:
    rt = runtime(request)
    ctx.setdefault("form", {})
    return _page(
        request,
        "foreign_status.html",
        status,
        resident_id=resident_id,
        classes=[(c.value, c.label) for c in rules.ForeignResidentClass],
        today=rt.clock.business_date().isoformat(),
        **ctx,
    )


@router.get(
    "/residents/{resident_id}/foreign-status",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.resident_record"),
)
def foreign_status_form(
    request: Request, resident_id: uuid.UUID, actor: StaffActor
) -> HTMLResponse:
    rt = runtime(request)
    r = queries.resident_record(rt.uow(), actor, resident_id)
    current = {
        "nationality": r.nationality or "",
        "foreign_resident_class": r.foreign_resident_class or "",
        "residence_status": r.residence_status or "",
        "residence_period": r.residence_period or "",
        "residence_expires_on": r.residence_expires_on.isoformat()
        if r.residence_expires_on
        else "",
        "residence_card_no": r.residence_card_no or "",
    }
    return _foreign_page(request, resident_id, r=r, form=current)


@router.post(
    "/residents/{resident_id}/foreign-status",
    response_model=None,
    openapi_extra=declares("registry.change_foreign_resident_status"),
)
def change_foreign_status(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    nationality: Text = "",
    foreign_resident_class: Text = "",
    residence_status: OptionalText = "",
    residence_period: OptionalText = "",
    residence_expires_on: OptionalText = "",
    residence_card_no: OptionalText = "",
    effective_on: Text = "",
    notified_on: OptionalText = "",
) -> Response:
    rt = runtime(request)
    form = dict(_typed(locals()))

    def change() -> str:
        cmd = services.ForeignResidentStatusChange(
            resident_id=resident_id,
            effective_on=_date(effective_on, "異動日"),
            nationality=nationality.strip(),
            foreign_resident_class=foreign_resident_class.strip(),
            residence_status=_optional(residence_status),
            residence_period=_optional(residence_period),
            residence_expires_on=_optional_date(residence_expires_on, "在留期間等の満了の日"),
            residence_card_no=_optional(residence_card_no),
            notified_on=_optional_date(notified_on, "通知日"),
        )
        done = services.change_foreign_resident_status(rt.uow(), actor, cmd)
        return _record_url(done, resident_id)

    return _prg(
        change,
        lambda e: _foreign_page(
            request, resident_id, e.http_status, error=e.message, field=e.field, form=form
        ),
    )


# -- 個人番号の指定・変更 (番号法 第7条) ----------------------------------------------------


def _require_number_right(request: Request, actor: Actor, resident_id: uuid.UUID) -> None:
    """The form is for 個人番号取扱者 only. The service checks the 異動 right; the number
    right is checked here as well (and a refusal audited), so a counter clerk without it
    cannot reach the form by typing its address."""
    access.require(
        runtime(request).uow(),
        actor,
        Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER,
        action="registry.change_individual_number",
        subjects=(resident_id,),
    )


def _number_page(
    request: Request, resident_id: uuid.UUID, status: int = 200, **ctx: Any
) -> HTMLResponse:
    rt = runtime(request)
    ctx.setdefault("form", {})
    return _page(
        request,
        "individual_number.html",
        status,
        resident_id=resident_id,
        today=rt.clock.business_date().isoformat(),
        **ctx,
    )


@router.get(
    "/residents/{resident_id}/individual-number",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.resident_record"),
)
def individual_number_form(
    request: Request, resident_id: uuid.UUID, actor: StaffActor
) -> HTMLResponse:
    _require_number_right(request, actor, resident_id)
    r = queries.resident_record(runtime(request).uow(), actor, resident_id)
    return _number_page(request, resident_id, r=r)


def _number_as_typed(value: str) -> str:
    # Cards and keyboards give full-width digits, spaces and hyphens (「1234 5678 9012」);
    # the vault takes 12 ASCII digits.
    folded = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in folded if ch not in " -\t")


@router.post(
    "/residents/{resident_id}/individual-number",
    response_model=None,
    openapi_extra=declares("registry.change_individual_number"),
)
def change_individual_number(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    individual_number: Annotated[str, Form(max_length=40)] = "",
    previous_number: Annotated[str, Form(max_length=40)] = "",
    certificate_number: Annotated[str, Form(max_length=40)] = "",
    effective_on: Text = "",
    claimed_on: OptionalText = "",
    applicant: Text = "self",
    identity_documents: Documents = [],  # noqa: B006 — FastAPI copies form defaults
    power_of_attorney: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    _require_number_right(request, actor, resident_id)
    # Never shown again: the form comes back with the dates only.
    form = {"effective_on": effective_on, "claimed_on": claimed_on}

    def change() -> str:
        cmd = services.IndividualNumberChange(
            resident_id=resident_id,
            individual_number=_number_as_typed(individual_number),
            previous_number=_number_as_typed(previous_number) or None,
            certificate_number=_number_as_typed(certificate_number) or None,
            effective_on=_date(effective_on, "異動日"),
            claimed_on=_optional_date(claimed_on, "請求日"),
            identification=_identification(applicant, identity_documents, power_of_attorney),
        )
        done = services.change_individual_number(rt.uow(), actor, rt.keys, cmd)
        return _record_url(done, resident_id)

    return _prg(
        change,
        lambda e: _number_page(
            request, resident_id, e.http_status, error=e.message, field=e.field, form=form
        ),
    )


# -- 支援措置 (OQ-02) ---------------------------------------------------------------------------

PROTECTED_USE_LABELS = {
    rules.ProtectedUse.BROWSING: "住民基本台帳の一部の写しの閲覧",
    rules.ProtectedUse.RESIDENT_RECORD_COPY: "住民票の写し・記載事項証明書の交付",
    rules.ProtectedUse.REMOVED_RECORD_COPY: "除票の写し等の交付",
    rules.ProtectedUse.FAMILY_REGISTER_SUPPLEMENT_COPY: "戸籍の附票の写しの交付",
}
END_REASON_LABELS = {
    "request": "申出者からの終了の申出",
    "expired": "期間満了",
    "unnecessary": "支援の必要がなくなった",
}


def _protection_page(
    request: Request, resident_id: uuid.UUID, status: int = 200, **ctx: Any
) -> HTMLResponse:
    rt = runtime(request)
    ctx.setdefault("form", {})
    ctx.setdefault("end", {})
    return _page(
        request,
        "protection.html",
        status,
        resident_id=resident_id,
        uses=[(u.value, label) for u, label in PROTECTED_USE_LABELS.items()],
        end_reasons=list(END_REASON_LABELS.items()),
        today=rt.clock.business_date().isoformat(),
        **ctx,
    )


@router.get(
    "/residents/{resident_id}/protection",
    response_class=HTMLResponse,
    openapi_extra=declares("registry.protection_measures"),
)
def protection_form(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    measure: Annotated[uuid.UUID | None, Query()] = None,
) -> HTMLResponse:
    rt = runtime(request)
    r = queries.resident_record(rt.uow(), actor, resident_id)
    measures = queries.protection_measures(rt.uow(), actor, resident_id)
    current = next((m for m in measures if m.ended_on is None), None)
    chosen = measure or (current.measure_id if current else None)
    return _protection_page(
        request,
        resident_id,
        r=r,
        measures=measures,
        form={"scope": [u.value for u in rules.ProtectedUse]},
        end={"measure_id": str(chosen) if chosen else ""},
    )


def _addressee_nos(value: str) -> tuple[int, ...]:
    """加害者の宛名番号, zero or more, separated by spaces or commas as staff type them."""
    folded = unicodedata.normalize("NFKC", value).replace(",", " ").replace("、", " ")
    parts = folded.split()
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise DomainError(
            CoreError.INVALID_INPUT,
            "加害者の宛名番号は数字で入力してください。",
            field="offender_addressee_nos",
        )
    return tuple(int(p) for p in parts)


@router.post(
    "/residents/{resident_id}/protection",
    response_model=None,
    openapi_extra=declares("registry.register_protection_measure"),
)
def register_protection(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    scope: Annotated[list[str], Form(max_length=10, default_factory=list)],
    requested_on: Text = "",
    valid_from: Text = "",
    valid_until: OptionalText = "",
    offender_addressee_nos: OptionalText = "",
    provisional: Annotated[bool, Form()] = False,
) -> Response:
    rt = runtime(request)
    form: dict[str, Any] = dict(_typed(locals())) | {"scope": scope}

    def change() -> str:
        cmd = services.ProtectionMeasureRequest(
            applicant_id=resident_id,
            requested_on=_date(requested_on, "申出日"),
            valid_from=_date(valid_from, "開始日"),
            valid_until=_optional_date(valid_until, "終了予定日"),
            offender_addressee_nos=_addressee_nos(offender_addressee_nos),
            scope=tuple(scope),
            provisional=provisional,
        )
        done = services.register_protection_measure(rt.uow(), actor, cmd)
        return f"/registry/residents/{resident_id}?done=1&measure={done.measure_ids[0]}"

    return _prg(
        change,
        lambda e: _protection_page(
            request, resident_id, e.http_status, error=e.message, field=e.field, form=form
        ),
    )


@router.post(
    "/residents/{resident_id}/protection/end",
    response_model=None,
    openapi_extra=declares("registry.end_protection_measure"),
)
def end_protection(
    request: Request,
    resident_id: uuid.UUID,
    actor: StaffActor,
    measure_id: Text = "",
    ended_on: Text = "",
    end_reason: Text = "",
) -> Response:
    rt = runtime(request)
    end = dict(_typed(locals()))

    def change() -> str:
        cmd = services.ProtectionMeasureEnd(
            measure_id=_uuid(measure_id.strip(), "措置番号"),
            ended_on=_date(ended_on, "終了日"),
            end_reason=end_reason,
        )
        services.end_protection_measure(rt.uow(), actor, cmd)
        return f"/registry/residents/{resident_id}?done=1"

    return _prg(
        change,
        lambda e: _protection_page(
            request,
            resident_id,
            e.http_status,
            end_error=e.message,
            form={"scope": [u.value for u in rules.ProtectedUse]},
            end=end,
        ),
    )
