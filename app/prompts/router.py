"""Prompts, candidates and imports."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute

from app.config import get_settings
from app.deps import CurrentPrincipal, DbSession
from app.errors import PayloadTooLarge, error_responses
from app.projects.access import project_for
from app.projects.models import ProjectRole
from app.prompts import service
from app.prompts.schemas import ImportFormat, ImportReport, PromptDetail, PromptPage
from app.types import MAX_ID, IdPath


def _upload_limit_bytes() -> int:
    return get_settings().max_upload_mb * 1024 * 1024


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is larger than {get_settings().max_upload_mb} MB.", field="file")


class _UploadLimitRoute(APIRoute):
    """Refuses a body whose Content-Length is over the upload limit before it is read and spooled to disk.

    The endpoint checks the spooled size too, for chunked uploads that declare no length.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > _upload_limit_bytes():
                raise _too_large()
            return await handler(request)

        return limited


router = APIRouter(prefix="/api", tags=["prompts"], route_class=_UploadLimitRoute)


@router.post(
    "/projects/{project_id}/imports",
    response_model=ImportReport,
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
def import_prompts(
    project_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="JSON Lines, CSV (with a header) or Parquet, UTF-8.")],
    fmt: Annotated[
        ImportFormat | None, Form(alias="format", description="Overrides the format the file name implies.")
    ] = None,
) -> ImportReport:
    """Import prompts, and optionally their candidates, from a file (manager or admin).

    One row is one prompt: `prompt` (text) or `messages` (`[{role, content}]`), optional `id`,
    `metadata`, `split` and `candidates` (strings or `{text, id, metadata}`). CSV and Parquet may also
    give `candidate_1` ... `candidate_N` columns, and JSON text for `messages`, `metadata` and
    `candidates`. Items are built from the new candidates per the project's settings.

    All or nothing: if any row is bad nothing changes, and the 422 lists the bad rows
    (`errors: [{row, field, message}]`). Re-importing a file creates nothing new: a prompt is known by
    its id (or its content when it has none), a candidate by its id (or its text). A row naming a
    prompt that exists only adds its new candidates; the stored prompt is not changed. A file over
    `PREFLOOP_MAX_UPLOAD_MB` or `PREFLOOP_MAX_IMPORT_ROWS` rows gets a 413 and changes nothing.
    """
    access = project_for(session, principal, project_id, ProjectRole.manager)
    size = file.size if file.size is not None else file.file.seek(0, 2)
    if size > _upload_limit_bytes():
        raise _too_large()
    file.file.seek(0)
    return service.import_file(session, access.project, file.file, fmt, filename=file.filename)


@router.get(
    "/projects/{project_id}/prompts",
    response_model=PromptPage,
    responses=error_responses(401, 403, 404),
)
def list_prompts(
    project_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    after: int = Query(0, ge=0, le=MAX_ID, description="Return prompts with a larger id (cursor)."),
    limit: int = Query(100, ge=1, le=1000),
) -> PromptPage:
    """The project's prompts in id order, each with its number of candidates (manager or admin)."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return service.list_prompts(session, project_id, after=after, limit=limit)


@router.get(
    "/projects/{project_id}/prompts/{prompt_id}",
    response_model=PromptDetail,
    responses=error_responses(401, 403, 404),
)
def get_prompt(project_id: IdPath, prompt_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> PromptDetail:
    """One prompt with all its candidates (manager or admin)."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return service.get_prompt(session, project_id, prompt_id)
