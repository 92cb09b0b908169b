"""JSON API of the privacy context: unmasking a 個人番号 (with a reason, audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from machi.privacy import vault
from machi.web.deps import API_PROBLEMS, ApiActor, declares, runtime

router = APIRouter(prefix="/api/privacy", tags=["privacy"], responses=API_PROBLEMS)


class UnmaskRequest(BaseModel):
    reason: vault.UnmaskReason = Field(description="表示理由 (コード)")
    note: str = Field(default="", max_length=100, description="その他の場合の理由")


class IndividualNumberOut(BaseModel):
    subject_id: uuid.UUID
    individual_number: str


@router.post(
    "/individual-numbers/{subject_id}/unmask",
    summary="個人番号のマスク解除 (理由必須・記録される)",
    openapi_extra=declares(vault.ACTION_VIEW),
    response_model=IndividualNumberOut,
)
def unmask(
    request: Request,
    subject_id: Annotated[uuid.UUID, Path()],
    body: UnmaskRequest,
    actor: ApiActor,
) -> IndividualNumberOut:
    rt = runtime(request)
    number = vault.display_number(
        rt.uow(), actor, rt.keys, subject_id, reason=body.reason, note=body.note
    )
    return IndividualNumberOut(subject_id=subject_id, individual_number=number)
