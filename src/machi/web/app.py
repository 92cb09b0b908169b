"""The app factory. ``create_app()`` with no arguments builds everything from the
environment (uvicorn's ``--factory``); tests pass their own runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from machi import __version__, bootstrap
from machi.bootstrap import Runtime
from machi.core import database
from machi.core.settings import Settings
from machi.privacy import api as privacy_api
from machi.privacy import views as privacy_views
from machi.registry import api as registry_api
from machi.registry import views as registry_views
from machi.web import auth, deps, problems

STATIC = Path(__file__).with_name("static")


def create_app(runtime: Runtime | None = None) -> FastAPI:
    if runtime is None:
        settings = Settings()
        runtime = bootstrap.build(settings, database.app_url(settings))
    app = FastAPI(
        title="Machi API",
        version=__version__,
        description="Machi: 個人番号関係事務の基幹業務システム (API)",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    problems.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    app.include_router(privacy_api.router)
    app.include_router(privacy_views.router)
    app.include_router(registry_api.router)
    app.include_router(registry_views.router)
    app.include_router(registry_views.public)

    @app.exception_handler(deps.LoginRequired)
    async def to_login(_request: Request, exc: deps.LoginRequired) -> Response:
        return RedirectResponse(exc.to, status_code=303)

    @app.middleware("http")
    async def same_origin_posts(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Forms change state; a POST from another site's page is refused (with the
        # SameSite=Strict cookie this closes cross-site request forgery).
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("origin")
            host = request.headers.get("host")
            if origin and host and origin.split("://", 1)[-1] != host:
                return problems.problem(
                    403,
                    "core.cross_origin",
                    "別サイトからの送信は受け付けません。",
                    request.url.path,
                )
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on
        # our own form posts, which the check above would refuse.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/health", tags=["system"], summary="稼働確認")
    def health() -> JSONResponse:
        """Liveness and database reachability, for load balancers and monitoring."""
        try:
            with runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            db = "ok"
        except Exception:
            db = "unavailable"
        status = 200 if db == "ok" else 503
        return JSONResponse(
            {"status": "ok" if db == "ok" else "degraded", "database": db}, status_code=status
        )

    return app
