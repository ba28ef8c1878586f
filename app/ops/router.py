"""Operations endpoints: readiness and Prometheus metrics (``/healthz`` stays in ``app.main``)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.auth.security import tokens_equal
from app.config import get_settings
from app.errors import ErrorBody, NotAuthenticated
from app.ops import metrics
from app.ops.readiness import OK, check_broker, check_database, run_check

router = APIRouter(tags=["ops"])


class Readiness(BaseModel):
    database: str = Field(description='"ok", or "error: ..." when a `SELECT 1` fails.')
    broker: str = Field(description='"ok", or "error: ..." when the task broker cannot be reached.')


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is down; the body says which."}},
)
async def readyz() -> JSONResponse:
    """Ready to serve: the database answers and the broker is reachable (503 and which part failed, if not)."""
    results: dict[str, str] = {}

    async def run(name: str, check: Callable[[], None]) -> None:
        results[name] = await run_check(name, check)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, "database", check_database)
        tg.start_soon(run, "broker", check_broker)
    body = Readiness(database=results["database"], broker=results["broker"])
    ready = body.database == OK and body.broker == OK
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format."},
        401: {"model": ErrorBody},
    },
)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics. Needs ``Authorization: Bearer <PREFLOOP_METRICS_TOKEN>`` when that is set."""
    expected = get_settings().metrics_token
    if expected:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not tokens_equal(sent.strip(), expected):
            raise NotAuthenticated("GET /metrics needs 'Authorization: Bearer <PREFLOOP_METRICS_TOKEN>'.")
    body, content_type = await run_in_threadpool(metrics.render)
    return Response(body, media_type=content_type)
