"""Queries over users, sessions and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, BrowserSession, GlobalRole, User


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def principal_row_for_session(
    session: Session, token_hash: str, now: datetime
) -> Row[int, str, GlobalRole, int] | None:
    stmt = (
        select(User.id, User.username, User.role, BrowserSession.id)
        .join(BrowserSession, BrowserSession.user_id == User.id)
        .where(BrowserSession.token_hash == token_hash, BrowserSession.expires_at > now, User.is_active)
    )
    return session.execute(stmt).first()


def principal_row_for_token(
    session: Session, token_hash: str
) -> Row[int, str, GlobalRole, int, datetime | None] | None:
    stmt = (
        select(User.id, User.username, User.role, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None), User.is_active)
    )
    return session.execute(stmt).first()


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))
