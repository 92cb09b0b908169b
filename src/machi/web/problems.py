"""Errors leave the server as RFC 9457 problem details (API) or a Japanese error page
(staff UI); never a stack trace, never the text of an unexpected exception."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from machi.core.errors import CoreError, DomainError

log = logging.getLogger("machi.web")
PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, instance: str, **extra: object) -> JSONResponse:
    body = {
        "type": f"urn:machi:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "instance": instance,
        **extra,
    }
    return JSONResponse(status_code=status, content=body, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if not request.url.path.startswith("/api/"):
            # A staff page gets a Japanese error page, not JSON.
            from machi.web.deps import render

            return render(request, "web/error.html", exc.http_status, error=exc.message)
        return problem(
            exc.http_status, str(exc.code), exc.message, request.url.path, field=exc.field
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # Field locations and error kinds only: pydantic's messages echo the input value.
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type")} for e in exc.errors()]
        return problem(
            422,
            CoreError.INVALID_INPUT,
            "入力内容に誤りがあります。",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = CoreError.NOT_FOUND if exc.status_code == 404 else "core.http_error"
        title = "ページが見つかりません。" if exc.status_code == 404 else "要求を処理できません。"
        return problem(exc.status_code, str(code), title, request.url.path)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The exception's type only: its text may carry personal data.
        log.error("unexpected error on %s: %s", request.url.path, type(exc).__name__)
        return problem(
            500,
            "core.internal_error",
            "システムエラーが発生しました。管理者に連絡してください。",
            request.url.path,
        )
