"""Column types shared by every domain."""

from typing import Annotated, Any

from fastapi import Path
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")

MAX_ID = 2_147_483_647
"""Ids are 32-bit on PostgreSQL; larger numbers can never name a row."""

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id.")]
