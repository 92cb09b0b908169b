"""Staff pages of the privacy context: the 個人番号 unmask step."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from machi.core.errors import DomainError
from machi.privacy import vault
from machi.web.deps import StaffActor, declares, render, runtime

router = APIRouter(prefix="/privacy", include_in_schema=False)
SHOW_SECONDS = 60


@router.post(
    "/individual-numbers/{subject_id}/unmask",
    response_class=HTMLResponse,
    openapi_extra=declares(vault.ACTION_VIEW),
)
def unmask(
    request: Request,
    subject_id: uuid.UUID,
    actor: StaffActor,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    rt = runtime(request)
    try:
        number = vault.display_number(
            rt.uow(), actor, rt.keys, subject_id, reason=reason, note=note
        )
    except DomainError as e:
        return render(request, "privacy/number_shown.html", e.http_status, error=e.message)
    return render(
        request,
        "privacy/number_shown.html",
        number=number,
        mask=vault.MASK,
        seconds=SHOW_SECONDS,
    )
