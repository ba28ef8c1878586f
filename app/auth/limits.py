"""Login throttling: a lockout per username and a rate limit per client address.

- **Username lockout**: ``login_max_failures`` failed logins for one username within
  ``login_failure_window_seconds`` lock that username for ``login_lockout_seconds`` after the last of them.
  While locked, every attempt is refused with 429 before the password is checked, the right password
  included. The username is taken as typed, whether or not such a user exists: a lockout reveals nothing.
- **Client limit**: ``login_ip_max_failures`` failed logins from one client address within
  ``login_ip_window_seconds`` refuse further attempts from it until the oldest of them leaves the window.
  This slows password spraying (one password tried against many usernames). Only failures count, so a
  room of annotators behind one NAT logging in correctly is never throttled. Behind a reverse proxy run
  uvicorn with ``--forwarded-allow-ips`` so ``request.client`` is the real client, not the proxy.
- Refused (429) attempts are not recorded: an attacker cannot keep a victim locked for longer than one
  lockout per ``login_max_failures`` guesses. A successful login clears the username's failures.

Failures are rows in ``login_failures`` (in the database, so every API replica counts the same ones),
written in the login request's transaction, which the router commits even though it answers 401. On
PostgreSQL, attempts for one username are serialised by a transaction advisory lock, so parallel guesses
cannot all slip in before the lockout; on SQLite the write gate serialises every login anyway.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.models import LoginFailure
from app.config import Settings
from app.errors import AppError

# Two-key advisory locks live in their own key space (the single-bigint ones are the annotation queue's).
_ADVISORY_CLASS = 0x7066_6C6F  # "pflo"


class TooManyAttempts(AppError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class LoginLimits:
    max_failures: int
    window: timedelta
    lockout: timedelta
    ip_max_failures: int
    ip_window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            max_failures=settings.login_max_failures,
            window=timedelta(seconds=settings.login_failure_window_seconds),
            lockout=timedelta(seconds=settings.login_lockout_seconds),
            ip_max_failures=settings.login_ip_max_failures,
            ip_window=timedelta(seconds=settings.login_ip_window_seconds),
        )

    @property
    def horizon(self) -> timedelta:
        """Failures older than this can no longer count towards anything."""
        return max(self.window + self.lockout, self.ip_window)


def serialise_attempts(session: Session, username: str) -> None:
    """PostgreSQL: one login attempt per username at a time, until this transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(username.encode()).digest()[:4], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_CLASS, key)))


def check(session: Session, limits: LoginLimits, username: str, client_ip: str, now: datetime) -> None:
    """Raise ``TooManyAttempts`` when this client or this username may not try now."""
    if limits.ip_max_failures > 0:
        recent = list(
            session.scalars(
                select(LoginFailure.failed_at)
                .where(LoginFailure.client_ip == client_ip, LoginFailure.failed_at > now - limits.ip_window)
                .order_by(LoginFailure.failed_at.desc())
                .limit(limits.ip_max_failures)
            )
        )
        if len(recent) >= limits.ip_max_failures:
            wait = _seconds_until(recent[-1] + limits.ip_window, now)
            raise TooManyAttempts(
                f"Too many failed logins from your address. Try again in {_minutes(wait)}.", retry_after=wait
            )
    last = list(
        session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.username == username, LoginFailure.failed_at > now - limits.window - limits.lockout)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limits.max_failures)
        )
    )
    if len(last) >= limits.max_failures and last[0] - last[-1] < limits.window:
        locked_until = last[0] + limits.lockout
        if now < locked_until:
            wait = _seconds_until(locked_until, now)
            raise TooManyAttempts(
                f"Too many failed logins for this username: it is locked. Try again in {_minutes(wait)}.",
                retry_after=wait,
            )


def record_failure(session: Session, limits: LoginLimits, username: str, client_ip: str, now: datetime) -> None:
    session.add(LoginFailure(username=username, client_ip=client_ip, failed_at=now))
    # Housekeeping on the indexed timestamp: keeps the table as small as the windows need.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - limits.horizon))
    session.flush()


def clear_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))


def _seconds_until(when: datetime, now: datetime) -> int:
    return max(1, math.ceil((when - now).total_seconds()))


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
