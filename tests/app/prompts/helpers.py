"""Shared helpers for the import tests: files in each format, uploads, and row counts."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

from app.annotation.models import Item
from app.projects.models import ProjectRole
from app.prompts.models import Candidate, Prompt
from tests.factories import add_member, auth, make_project, make_user


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def parquet(rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), out)
    return out.getvalue()


def manager_project(**fields: Any) -> tuple[int, str]:
    project_id = make_project(**fields)
    uid, token = make_user()
    add_member(project_id, uid, ProjectRole.manager)
    return project_id, token


def upload(
    client: httpx.Client, project_id: int, token: str, name: str, content: bytes, fmt: str | None = None
) -> httpx.Response:
    return client.post(
        f"/api/projects/{project_id}/imports",
        files={"file": (name, content, "application/octet-stream")},
        data={"format": fmt} if fmt else {},
        headers=auth(token),
    )


def counts(engine: Engine, project_id: int) -> tuple[int, int, int]:
    """(prompts, candidates, items) in the project."""
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.scalar(select(func.count()).select_from(model).where(model.project_id == project_id)) or 0
            for model in (Prompt, Candidate, Item)
        )
