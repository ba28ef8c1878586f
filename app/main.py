"""The FastAPI application: routers, error handlers, the built UI at ``/``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from app.annotation import hot_connections
from app.annotation.hot_routes import HotRoutes
from app.annotation.router import router as annotation_router
from app.auth.router import router as auth_router
from app.config import get_settings
from app.datasets.router import router as datasets_router
from app.errors import NotFound, install_error_handlers
from app.jobs.router import router as jobs_router
from app.ops.setup import install_ops
from app.projects.router import router as projects_router
from app.prompts.router import router as prompts_router
from app.quality.router import router as quality_router
from app.registry.router import router as registry_router

STATIC_DIR = Path(__file__).resolve().parent / "static"
REAP_EVERY_SECONDS = 30.0
REAPER_STOP_SECONDS = 10.0
log = logging.getLogger(__name__)


def _reap_once() -> None:
    from app.db import session_scope, utcnow
    from app.jobs.service import reap

    with session_scope() as session:
        counts = reap(session, utcnow())
    if any(counts.values()):
        log.warning("job reaper: %s", counts)


async def _reaper_loop(stop: asyncio.Event) -> None:
    """Never stuck: jobs whose worker died are re-queued or failed even when no worker is left to notice."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REAP_EVERY_SECONDS)
        if stop.is_set():
            return
        try:
            await run_in_threadpool(_reap_once)
        except Exception:
            log.exception("job reaper failed; retrying later")


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Everything built so far (routes, models, schemas, SQLAlchemy's metadata) lives as long as the process:
    # moved out of the collector's reach, a full collection under load walks only what requests made and
    # pauses the event loop for a fraction of the time.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    task = asyncio.create_task(_reaper_loop(stop))
    try:
        yield
    finally:
        # Shutdown (uvicorn has already let in-flight requests finish): let a reap in progress commit,
        # then stop; cancel only if it hangs, so the process never waits on it for long.
        stop.set()
        try:
            await asyncio.wait_for(task, REAPER_STOP_SECONDS)
        except TimeoutError:
            log.warning("job reaper did not stop within %.0f s; cancelled", REAPER_STOP_SECONDS)
        except Exception:
            log.exception("job reaper failed while stopping")
        await hot_connections.close_pools()


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Prefloop",
        version="0.1.0",
        description="The human-feedback loop for language models: annotate, aggregate, train, evaluate.",
        lifespan=_lifespan,
    )
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up (touches no database and no heavy import)."""
        return {"status": "ok"}

    routers = (
        auth_router,
        projects_router,
        prompts_router,
        annotation_router,
        jobs_router,
        registry_router,
        quality_router,
        datasets_router,
    )
    for router in routers:
        app.include_router(router)
    # The annotators' two hot requests, answered before FastAPI's routing (it delegates all else to it).
    app.add_middleware(HotRoutes)
    # Readiness, metrics, logs, security headers, CORS (before the UI's catch-all route); outermost.
    install_ops(app, settings)
    _mount_ui(app)
    return app


def _mount_ui(app: FastAPI) -> None:
    """Serve the built frontend (``frontend/dist`` copied to ``app/static``) with SPA fallback."""
    index = STATIC_DIR / "index.html"
    if not index.exists():

        @app.get("/", include_in_schema=False)
        def no_ui() -> JSONResponse:
            return JSONResponse({"detail": "The web UI is not built. Run `prefloop up` or `npm run build`."})

        return
    if (STATIC_DIR / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        if path.startswith("api/"):
            raise NotFound(f"No API route /{path}.")
        candidate = (STATIC_DIR / path).resolve()
        if path and candidate.is_file() and STATIC_DIR in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(index)


app = create_app()
