"""Wire the operations parts into an app: logging, the ops routes, CORS (only when configured) and the
request middleware (outermost, so even CORS answers carry the request id and security headers)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app.config import Settings
from app.ops.logs import configure_logging
from app.ops.middleware import REQUEST_ID_HEADER, OpsMiddleware
from app.ops.router import router


def install_ops(app: FastAPI, settings: Settings) -> None:
    configure_logging(settings)
    app.include_router(router)
    if settings.cors_origins:
        # Closed by default: without PREFLOOP_CORS_ORIGINS browsers allow only the same origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After", "Content-Disposition"],
            max_age=600,
        )
    docs_paths = frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p)
    app.add_middleware(OpsMiddleware, hsts=settings.secure_cookies, docs_paths=docs_paths)
