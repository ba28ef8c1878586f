"""Login, logout, users and API tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.auth import limits as login_limits
from app.auth import repository
from app.auth.limits import LoginLimits
from app.auth.models import ApiToken, BrowserSession, GlobalRole, User
from app.auth.schemas import UserCreate, UserUpdate
from app.auth.security import digest, hash_password, new_secret, verify_password
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotAuthenticated, NotFound


def create_user(session: Session, data: UserCreate) -> User:
    if repository.get_user_by_username(session, data.username) is not None:
        raise Conflict(f"A user named {data.username!r} already exists.", field="username")
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        password_hash=hash_password(data.password),
        role=data.role,
    )
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user_id: int, data: UserUpdate, *, acting_user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    if user_id == acting_user_id and (data.role == GlobalRole.user or data.is_active is False):
        raise Forbidden("You cannot demote or deactivate yourself.", field="role")
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        # A new password ends every existing browser session of that user.
        session.execute(delete(BrowserSession).where(BrowserSession.user_id == user_id))
    if data.role is not None:
        user.role = data.role
    if data.is_active is not None:
        user.is_active = data.is_active
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def count_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == GlobalRole.admin)) or 0


def login(
    session: Session,
    username: str,
    password: str,
    *,
    days: int,
    client_ip: str = "unknown",
    limits: LoginLimits | None = None,
) -> tuple[User, str]:
    """Check the password and open a browser session; returns the user and the cookie secret.

    With ``limits``: raises ``TooManyAttempts`` (before checking the password) while the username is locked
    or the client is throttled, records a failure before raising ``NotAuthenticated`` (the caller must
    commit it), and clears the username's failures on success.
    """
    if limits is not None:
        login_limits.serialise_attempts(session, username)
    now = utcnow()
    if limits is not None:
        login_limits.check(session, limits, username, client_ip, now)
    user = repository.get_user_by_username(session, username)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        if limits is not None:
            login_limits.record_failure(session, limits, username, client_ip, now)
        raise NotAuthenticated("Wrong username or password.")
    if limits is not None:
        login_limits.clear_failures(session, username)
    secret = new_secret("pfs")
    session.add(BrowserSession(user_id=user.id, token_hash=digest(secret), expires_at=now + timedelta(days=days)))
    # Housekeeping: a user's expired sessions are dropped at their next login.
    session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id, BrowserSession.expires_at < now))
    session.flush()
    return user, secret


def logout(session: Session, session_id: int) -> None:
    session.execute(delete(BrowserSession).where(BrowserSession.id == session_id))


def create_token(session: Session, user_id: int, name: str) -> tuple[ApiToken, str]:
    secret = new_secret("pft")
    token = ApiToken(user_id=user_id, name=name, prefix=secret[:8], token_hash=digest(secret))
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"API token {token_id} not found.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    session.flush()
    return token


def touch_token(session: Session, token_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
