"""Import prompts and candidates, and read them back.

An import streams its file: rows are checked one at a time and written in batches with Core bulk
inserts, so memory stays flat however long the file is. It is all-or-nothing: the writes run inside
a SAVEPOINT and any bad row rolls all of them back, then ``InvalidInput`` lists the bad rows.

Identity makes re-importing a file a no-op: a prompt is its external id (or, when the row gives none,
a hash of its content stored as the external id, so the unique index finds it again); a candidate is
its external id within the prompt or, when it has none, its exact text.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import JSON, Table, bindparam, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from app.annotation.items import build_items
from app.annotation.models import Item
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from app.projects.models import Project
from app.prompts.models import Candidate, Prompt
from app.prompts.readers import RawRow, read_rows
from app.prompts.schemas import (
    ROW_FIELDS,
    CandidateIn,
    CandidateRead,
    ImportFormat,
    ImportProblem,
    ImportReport,
    ImportRow,
    MessageIn,
    PromptDetail,
    PromptPage,
    PromptRead,
)

ROWS_PER_BATCH = 2000
CANDIDATES_PER_BATCH = 10_000
CHARS_PER_BATCH = 32_000_000
"""A batch is written when any of these is reached; the character cap bounds memory for long texts."""
LOOKUP_CHUNK = 500
"""Values per ``IN (...)`` lookup, well under SQLite's and PostgreSQL's bound-parameter limits."""
IMPORT_SOURCE = {"kind": "import"}

_PROMPTS: Table = Prompt.__table__  # type: ignore[assignment]
_CANDIDATES: Table = Candidate.__table__  # type: ignore[assignment]
# A text prompt has SQL NULL messages: the column's own JSON type would store None as JSON 'null'.
_NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
_INSERT_PROMPTS = (
    insert(_PROMPTS)
    .values(messages=bindparam("messages_or_null", type_=_NULLABLE_JSON))
    .returning(_PROMPTS.c.external_id, _PROMPTS.c.id)
)
_EXTENSIONS = {
    ".jsonl": ImportFormat.jsonl,
    ".ndjson": ImportFormat.jsonl,
    ".json": ImportFormat.jsonl,
    ".csv": ImportFormat.csv,
    ".parquet": ImportFormat.parquet,
    ".pq": ImportFormat.parquet,
}
_NESTED_FIELDS = {"candidates": tuple(CandidateIn.model_fields), "messages": tuple(MessageIn.model_fields)}
CandidateKey = tuple[int, str, str]
"""(prompt id, "id" or "text", value): what makes a candidate the same as another."""
T = TypeVar("T")


def resolve_format(fmt: str | None, filename: str | None) -> ImportFormat:
    """The explicit format if given, else the one the file name's extension names."""
    if fmt:
        name = fmt.strip().lower().lstrip(".")
        try:
            return ImportFormat(_EXTENSIONS.get(f".{name}", name))
        except ValueError:
            raise InvalidInput(f"Unknown format {fmt!r}; use jsonl, csv or parquet.", field="format") from None
    suffix = Path(filename or "").suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    raise InvalidInput(
        f"Cannot tell the format of {filename or 'the file'!r}; name it .jsonl, .csv or .parquet, or give format.",
        field="format",
    )


def import_file(
    session: Session,
    project: Project,
    source: str | os.PathLike[str] | BinaryIO,
    fmt: str | None = None,
    *,
    filename: str | None = None,
) -> ImportReport:
    """Import a file (a path, or an open binary file such as an upload) into a project; see the module."""
    if not isinstance(source, str | os.PathLike):
        return import_rows(session, project, read_rows(source, resolve_format(fmt, filename)))
    path = Path(source)
    chosen = resolve_format(fmt, filename or path.name)
    try:
        binary = path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"Cannot open {path}: {exc.strerror}.", field="file") from None
    with binary:
        return import_rows(session, project, read_rows(binary, chosen))


def import_rows(session: Session, project: Project, rows: Iterable[RawRow]) -> ImportReport:
    """Check and write rows; nothing stays written if any row is bad (``InvalidInput`` lists them)."""
    if project.archived:
        raise Conflict(f"Project {project.id} is archived; unarchive it to import.")
    settings = get_settings()
    importer = _Importer(session, project, settings.import_error_limit)
    # A SAVEPOINT makes the import all-or-nothing by itself, inside whatever transaction the caller runs.
    with session.begin_nested():
        for raw in rows:
            if raw.number > settings.max_import_rows:
                raise PayloadTooLarge(
                    f"The file has more than {settings.max_import_rows} rows; split it into several imports.",
                    field="file",
                )
            if not importer.add(raw):
                break
        return importer.finish()


@dataclass(slots=True)
class _Row:
    number: int
    key: str
    """The prompt's external id: given, or derived from its content."""
    data: ImportRow


@dataclass(slots=True)
class _Batch:
    rows: list[_Row] = field(default_factory=list)
    candidates: int = 0
    chars: int = 0

    def add(self, row: _Row) -> None:
        self.rows.append(row)
        self.candidates += len(row.data.candidates)
        self.chars += _prompt_chars(row.data) + sum(len(c.text) for c in row.data.candidates)

    def full(self) -> bool:
        return (
            len(self.rows) >= ROWS_PER_BATCH or self.candidates >= CANDIDATES_PER_BATCH or self.chars >= CHARS_PER_BATCH
        )

    def take(self) -> list[_Row]:
        rows = self.rows
        self.rows, self.candidates, self.chars = [], 0, 0
        return rows


class _Importer:
    """Checks rows one by one and writes them a batch at a time, until the first bad row.

    After a bad row nothing more is written (it would be rolled back anyway); rows are still checked
    so the report lists every problem, up to the error limit.
    """

    def __init__(self, session: Session, project: Project, error_limit: int) -> None:
        self._session = session
        self._project = project
        self._error_limit = max(error_limit, 1)
        self._now = utcnow()
        self._batch = _Batch()
        self._stats = _PlannerStats(session)
        self.problems: list[ImportProblem] = []
        self.report = ImportReport(rows=0, prompts_created=0, prompts_existing=0, candidates_created=0, items_created=0)

    def add(self, raw: RawRow) -> bool:
        """Take one row; False once the error limit is reached and reading should stop."""
        row = self._checked(raw)
        if row is not None:
            self.report.rows += 1
            if not self.problems:
                self._batch.add(row)
                if self._batch.full():
                    self._write(self._batch.take())
        return len(self.problems) < self._error_limit

    def finish(self) -> ImportReport:
        if self.problems:
            raise InvalidInput(self._failure_detail(), errors=[p.model_dump() for p in self.problems])
        if self.report.rows == 0:
            raise InvalidInput("The file has no rows.", field="file")
        self._write(self._batch.take())
        return self.report

    def _failure_detail(self) -> str:
        count = len(self.problems)
        more = f"; reading stopped after the first {count}" if count >= self._error_limit else ""
        return f"Nothing was imported: {count} problem{'s' if count > 1 else ''} found{more}."

    def _checked(self, raw: RawRow) -> _Row | None:
        if raw.problems:
            self._note(ImportProblem(row=raw.number, field=p.field, message=p.message) for p in raw.problems)
            return None
        try:
            data = ImportRow.model_validate(raw.data)
        except ValidationError as exc:
            self._note(_problem(raw.number, e) for e in exc.errors(include_url=False, include_input=False))
            return None
        return _Row(raw.number, data.given_id or content_id(data), data)

    def _note(self, problems: Iterable[ImportProblem]) -> None:
        for problem in problems:
            if len(self.problems) >= self._error_limit:
                return
            self.problems.append(problem)

    def _write(self, rows: list[_Row]) -> None:
        if not rows:
            return
        stored, created = self._prompt_ids(rows)
        candidates = self._new_candidates(rows, stored, created)
        if candidates:
            self._session.execute(insert(_CANDIDATES), candidates)
        self.report.candidates_created += len(candidates)
        touched = sorted({c["prompt_id"] for c in candidates})
        self.report.items_created += build_items(self._session, self._project, touched)
        self._stats.note_written(len(rows))

    def _prompt_ids(self, rows: list[_Row]) -> tuple[dict[str, int], dict[str, int]]:
        """Ids by key of the batch's prompts already stored, and of those created now."""
        stored = _stored_prompt_ids(self._session, self._project.id, list(dict.fromkeys(r.key for r in rows)))
        firsts: dict[str, _Row] = {}
        for row in rows:
            if row.key not in stored:
                firsts.setdefault(row.key, row)
        created = self._insert_prompts(list(firsts.values()))
        self.report.prompts_created += len(created)
        self.report.prompts_existing += len(rows) - len(created)
        return stored, created

    def _insert_prompts(self, rows: list[_Row]) -> dict[str, int]:
        if not rows:
            return {}
        values = [_prompt_values(self._project.id, row, self._now) for row in rows]
        result = self._session.execute(_INSERT_PROMPTS, values)
        return dict(result.all())

    def _new_candidates(
        self, rows: list[_Row], stored: dict[str, int], created: dict[str, int]
    ) -> list[dict[str, Any]]:
        """Insert values for the batch's candidates that neither the batch nor the database has yet."""
        seen: set[CandidateKey] = set()
        wanted: list[tuple[CandidateKey, CandidateIn]] = []
        for row in rows:
            prompt_id = stored.get(row.key) or created[row.key]
            for cand in row.data.candidates:
                key = _candidate_key(prompt_id, cand)
                if key in seen:
                    continue
                # A candidate's text also blocks a later id-less candidate with the same text.
                seen.update((key, (prompt_id, "text", cand.text)))
                wanted.append((key, cand))
        existing_ids = set(stored.values())
        in_db = _stored_candidate_keys(self._session, self._project.id, [k for k, _ in wanted if k[0] in existing_ids])
        return [
            _candidate_values(self._project.id, key[0], cand, self._now) for key, cand in wanted if key not in in_db
        ]


class _PlannerStats:
    """Keeps PostgreSQL's planner statistics in step with a large import's own, uncommitted rows.

    Autovacuum cannot analyze rows that are not committed, so while one transaction fills a new project
    the planner still believes its tables are nearly empty and prefers scanning the whole project to
    the unique indexes: every batch's lookups would then cost O(rows so far), O(n^2) in all. ANALYZE in
    the same transaction counts its own inserts; running it each time the import has doubled keeps the
    lookups on the indexes for the price of a few ANALYZEs. (SQLite picks these lookups' indexes
    without statistics.)
    """

    FIRST_AT = 20_000

    def __init__(self, session: Session) -> None:
        self._session = session
        self._enabled = session.get_bind().dialect.name == "postgresql"
        self._written = 0
        self._next_at = self.FIRST_AT

    def note_written(self, rows: int) -> None:
        self._written += rows
        if self._enabled and self._written >= self._next_at:
            # Without ownership of the tables PostgreSQL skips them with a warning, not an error.
            self._session.execute(text(f"ANALYZE {_PROMPTS.name}, {_CANDIDATES.name}, {Item.__tablename__}"))
            self._next_at = 2 * self._written


def content_id(row: ImportRow) -> str:
    """A stable external id for a row that gives none: the same prompt always gets the same id."""
    if row.prompt is not None:
        content = "text\x00" + row.prompt
    else:
        messages = [m.model_dump(mode="json") for m in row.messages or []]
        content = "messages\x00" + json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def _prompt_chars(row: ImportRow) -> int:
    return len(row.prompt) if row.prompt is not None else sum(len(m.content) for m in row.messages or [])


def _candidate_key(prompt_id: int, cand: CandidateIn) -> CandidateKey:
    if cand.given_id is not None:
        return (prompt_id, "id", cand.given_id)
    return (prompt_id, "text", cand.text)


def _prompt_values(project_id: int, row: _Row, now: datetime) -> dict[str, Any]:
    data = row.data
    messages = [m.model_dump(mode="json") for m in data.messages] if data.messages is not None else None
    return {
        "project_id": project_id,
        "external_id": row.key,
        "text": data.prompt,
        "messages_or_null": messages,
        "metadata": data.metadata or {},
        "split": data.split,
        "created_at": now,
    }


def _candidate_values(project_id: int, prompt_id: int, cand: CandidateIn, now: datetime) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "prompt_id": prompt_id,
        "external_id": cand.given_id,
        "text": cand.text,
        "source": IMPORT_SOURCE,
        "metadata": cand.metadata or {},
        "created_at": now,
    }


def _chunks(values: Sequence[T], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _stored_prompt_ids(session: Session, project_id: int, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(_PROMPTS.c.external_id, _PROMPTS.c.id).where(
                _PROMPTS.c.project_id == project_id, _PROMPTS.c.external_id.in_(chunk)
            )
        )
        found.update(rows.all())
    return found


def _stored_candidate_keys(session: Session, project_id: int, keys: list[CandidateKey]) -> set[CandidateKey]:
    """Which of these candidate keys the database already holds (by id, or by text for any candidate)."""
    found: set[CandidateKey] = set()
    c = _CANDIDATES.c
    for chunk in _chunks(keys):
        ids = {value for _, kind, value in chunk if kind == "id"}
        texts = {value for _, kind, value in chunk if kind == "text"}
        matches = session.execute(
            select(c.prompt_id, c.external_id, c.text).where(
                c.project_id == project_id,
                c.prompt_id.in_({prompt_id for prompt_id, _, _ in chunk}),
                or_(c.external_id.in_(ids), c.text.in_(texts)),
            )
        )
        for prompt_id, external_id, body in matches:
            if external_id is not None:
                found.add((prompt_id, "id", external_id))
            found.add((prompt_id, "text", body))
    return found


def _problem(number: int, error: ErrorDetails) -> ImportProblem:
    """A pydantic error as a row problem: a dotted field path and a message that says what to do."""
    loc = error["loc"]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    extra = (error.get("ctx") or {}).get("field")
    if extra:
        path = f"{path}.{extra}" if path else str(extra)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        allowed = _NESTED_FIELDS.get(str(loc[0]), ROW_FIELDS) if len(loc) > 1 else ROW_FIELDS
        message = f"unknown field; expected one of: {', '.join(a for a in allowed if a != 'external_id')}"
    return ImportProblem(row=number, field=path or None, message=message)


def list_prompts(session: Session, project_id: int, *, after: int, limit: int) -> PromptPage:
    """A page of the project's prompts in id order, each with its number of candidates."""
    prompts = list(
        session.scalars(
            select(Prompt).where(Prompt.project_id == project_id, Prompt.id > after).order_by(Prompt.id).limit(limit)
        )
    )
    counts = _candidate_counts(session, project_id, [p.id for p in prompts])
    return PromptPage(
        items=[_prompt_read(p, counts.get(p.id, 0)) for p in prompts],
        next_cursor=prompts[-1].id if len(prompts) == limit else None,
    )


def get_prompt(session: Session, project_id: int, prompt_id: int) -> PromptDetail:
    """One prompt of the project with all its candidates, oldest first."""
    prompt = session.scalar(select(Prompt).where(Prompt.id == prompt_id, Prompt.project_id == project_id))
    if prompt is None:
        raise NotFound(f"Prompt {prompt_id} not found in project {project_id}.")
    candidates = list(
        session.scalars(
            select(Candidate)
            .where(Candidate.project_id == project_id, Candidate.prompt_id == prompt_id)
            .order_by(Candidate.id)
        )
    )
    read = _prompt_read(prompt, len(candidates))
    return PromptDetail(**read.model_dump(), candidates=[_candidate_read(c) for c in candidates])


def _candidate_counts(session: Session, project_id: int, prompt_ids: list[int]) -> dict[int, int]:
    if not prompt_ids:
        return {}
    rows = session.execute(
        select(Candidate.prompt_id, func.count())
        .where(Candidate.project_id == project_id, Candidate.prompt_id.in_(prompt_ids))
        .group_by(Candidate.prompt_id)
    )
    return dict(rows.all())


def _prompt_read(prompt: Prompt, candidate_count: int) -> PromptRead:
    return PromptRead(
        id=prompt.id,
        external_id=prompt.external_id,
        text=prompt.text,
        messages=prompt.messages,
        metadata=prompt.meta,
        split=prompt.split,
        created_at=prompt.created_at,
        candidate_count=candidate_count,
    )


def _candidate_read(candidate: Candidate) -> CandidateRead:
    return CandidateRead(
        id=candidate.id,
        external_id=candidate.external_id,
        text=candidate.text,
        source=candidate.source,
        metadata=candidate.meta,
        created_at=candidate.created_at,
    )
