"""Queries over users, sessions and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, BrowserSession, GlobalRole, User
from app.db import UTCDateTime


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


# Built once: every request runs one of these two (building a select costs more than running it).
_PRINCIPAL_FOR_SESSION = (
    select(User.id, User.username, User.role, BrowserSession.id)
    .join(BrowserSession, BrowserSession.user_id == User.id)
    .where(
        BrowserSession.token_hash == bindparam("token_hash"),
        BrowserSession.expires_at > bindparam("now", type_=UTCDateTime()),
        User.is_active,
    )
)
_PRINCIPAL_FOR_TOKEN = (
    select(User.id, User.username, User.role, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None), User.is_active)
)


def principal_row_for_session(
    session: Session, token_hash: str, now: datetime
) -> Row[int, str, GlobalRole, int] | None:
    # On the connection: a Core select needs none of the ORM's per-statement work.
    return session.connection().execute(_PRINCIPAL_FOR_SESSION, {"token_hash": token_hash, "now": now}).first()


def principal_row_for_token(
    session: Session, token_hash: str
) -> Row[int, str, GlobalRole, int, datetime | None] | None:
    return session.connection().execute(_PRINCIPAL_FOR_TOKEN, {"token_hash": token_hash}).first()


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))
