"""What an import row may hold, what an import reports, and prompts as the API returns them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

MAX_TEXT_CHARS = 100_000
"""Longest prompt (all messages together) or candidate text."""
MAX_CANDIDATES_PER_ROW = 64
MAX_EXTERNAL_ID_CHARS = 256
MAX_SPLIT_CHARS = 32
MAX_MESSAGES = 256
MAX_METADATA_CHARS = 100_000
"""Longest metadata object, measured as compact JSON."""

# NUL is refused by PostgreSQL text and JSONB; lone surrogates cannot be encoded as UTF-8 by any driver.
# Both would otherwise fail at insert time as a 500 instead of a row error.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The same in serialised JSON: NUL comes out as the escape \u0000 (after an even number of backslashes,
# else it is a literal backslash followed by "u0000"); surrogates stay raw with ensure_ascii=False.
_UNSTORABLE_IN_JSON = re.compile(r"(?<!\\)(?:\\\\)*\\u0000|[\ud800-\udfff]")


class ImportFormat(StrEnum):
    """File formats an import reads."""

    jsonl = "jsonl"
    """JSON Lines: one JSON object per line."""
    csv = "csv"
    """Comma-separated, UTF-8, with a header row."""
    parquet = "parquet"
    """Apache Parquet, read one record batch at a time."""


class MessageRole(StrEnum):
    system = "system"
    user = "user"
    assistant = "assistant"
    tool = "tool"


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise PydanticCustomError("unstorable", "must not contain NUL characters or unpaired surrogates")
    return value


def _number_to_str(value: Any) -> Any:
    # Dataset ids are often integers (and Parquet id columns int64); they name the row all the same.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse what the JSON columns cannot store faithfully (Parquet gives dates, bytes, NaN...)."""
    if not value:
        return value
    try:
        # One serialisation finds every problem: non-JSON types, NaN, depth, and (below) size and characters.
        dumped = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except TypeError as exc:
        raise PydanticCustomError("json_type", "must hold only JSON values: {error}", {"error": str(exc)}) from None
    except ValueError:
        raise PydanticCustomError("json_number", "numbers must be finite (no NaN or Infinity)") from None
    except RecursionError:
        raise PydanticCustomError("too_deep", "is nested too deeply") from None
    if len(dumped) > MAX_METADATA_CHARS:
        raise PydanticCustomError("too_long", f"must be at most {MAX_METADATA_CHARS} characters as JSON")
    if _UNSTORABLE_IN_JSON.search(dumped):
        raise PydanticCustomError("unstorable", "must not contain NUL characters or unpaired surrogates")
    return value


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), AfterValidator(_storable)]
ExternalId = Annotated[
    str,
    BeforeValidator(_number_to_str),
    Field(min_length=1, max_length=MAX_EXTERNAL_ID_CHARS),
    AfterValidator(_storable),
]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]


class _WithExternalId(BaseModel):
    """An external id, accepted as ``id`` or ``external_id`` (datasets use both names)."""

    model_config = ConfigDict(extra="forbid")

    id: ExternalId | None = None
    external_id: ExternalId | None = None

    @model_validator(mode="after")
    def _ids_agree(self) -> Self:
        if self.id is not None and self.external_id is not None and self.id != self.external_id:
            raise PydanticCustomError(
                "id_conflict", "'id' and 'external_id' differ; give one of them", {"field": "external_id"}
            )
        return self

    @property
    def given_id(self) -> str | None:
        return self.id if self.id is not None else self.external_id


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: MessageRole
    content: Annotated[str, Field(max_length=MAX_TEXT_CHARS), AfterValidator(_storable)]


class CandidateIn(_WithExternalId):
    """A ready response to the row's prompt."""

    text: Text
    metadata: JsonObject | None = None


def _candidate_objects(value: Any) -> Any:
    # Plain strings are the short form of {"text": ...}; converting here keeps error locations simple.
    if isinstance(value, list):
        return [{"text": c} if isinstance(c, str) else c for c in value]
    return value


class ImportRow(_WithExternalId):
    """One row of an import file: a prompt (text or chat messages), optionally with candidates."""

    prompt: Text | None = None
    messages: list[MessageIn] | None = Field(None, min_length=1, max_length=MAX_MESSAGES)
    metadata: JsonObject | None = None
    split: Annotated[str, Field(min_length=1, max_length=MAX_SPLIT_CHARS), AfterValidator(_storable)] | None = None
    candidates: Annotated[
        list[CandidateIn], BeforeValidator(_candidate_objects), Field(max_length=MAX_CANDIDATES_PER_ROW)
    ] = Field(default_factory=list)

    @model_validator(mode="after")
    def _prompt_xor_messages(self) -> Self:
        if (self.prompt is None) == (self.messages is None):
            raise PydanticCustomError(
                "prompt_or_messages",
                "give either 'prompt' (text) or 'messages' (chat), not {what}",
                {"field": "prompt", "what": "both" if self.prompt is not None else "neither"},
            )
        if self.messages is not None and sum(len(m.content) for m in self.messages) > MAX_TEXT_CHARS:
            raise PydanticCustomError(
                "too_long", f"messages must hold at most {MAX_TEXT_CHARS} characters together", {"field": "messages"}
            )
        return self


ROW_FIELDS = tuple(ImportRow.model_fields)
"""The keys (JSONL) and columns (CSV, Parquet) an import row may have."""


class ImportProblem(BaseModel):
    """Why one row of an import was refused."""

    row: int | None = Field(
        description="1-based data row (the line for JSON Lines; the header is not a row); null for the file."
    )
    field: str | None = Field(description="The field at fault, e.g. 'candidates[2].text'; null for the whole row.")
    message: str


class ImportReport(BaseModel):
    """What an import changed. Re-importing the same file reports nothing created."""

    rows: int = Field(description="Data rows read.")
    prompts_created: int
    prompts_existing: int = Field(
        description="Rows whose prompt was already in the project (from an earlier import or an earlier row)."
    )
    candidates_created: int
    items_created: int = Field(description="Items built from the new candidates, per the project's settings.")


class CandidateRead(BaseModel):
    id: int
    external_id: str | None
    text: str
    source: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime


class PromptRead(BaseModel):
    id: int
    external_id: str | None = Field(
        description="The file's id, or 'sha256:...' of the prompt's content when the row gave none."
    )
    text: str | None
    messages: list[dict[str, Any]] | None
    metadata: dict[str, Any]
    split: str | None
    created_at: datetime
    candidate_count: int


class PromptDetail(PromptRead):
    candidates: list[CandidateRead]


class PromptPage(BaseModel):
    items: list[PromptRead]
    next_cursor: int | None = Field(None, description="Pass as ?after= for the next page.")
