"""Request and response bodies for auth, users and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.models import GlobalRole

Username = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: GlobalRole
    is_active: bool
    created_at: datetime


class Me(UserRead):
    csrf_token: str | None = Field(
        None, description="Send as X-CSRF-Token on cookie-authenticated writes (absent for API tokens)."
    )


class UserCreate(BaseModel):
    username: str = Username
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field("", max_length=128)
    role: GlobalRole = GlobalRole.user


class UserUpdate(BaseModel):
    display_name: str | None = Field(None, max_length=128)
    password: str | None = Field(None, min_length=8, max_length=256)
    role: GlobalRole | None = None
    is_active: bool | None = None


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The secret. Shown only in this response; store it now.")
