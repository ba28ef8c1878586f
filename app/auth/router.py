"""Login, logout, the current user, API tokens and (for admins) user management."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.auth import repository, service
from app.auth.limits import LoginLimits, TooManyAttempts
from app.auth.models import User
from app.auth.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    LoginRequest,
    Me,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.auth.security import csrf_token_for
from app.config import get_settings
from app.deps import SESSION_COOKIE, AdminPrincipal, CurrentPrincipal, DbSession
from app.errors import NotAuthenticated, NotFound, error_responses
from app.types import IdPath

router = APIRouter(prefix="/api", tags=["auth"])


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (the proxy's, unless uvicorn trusts its forwarded headers)."""
    return (request.client.host if request.client else "unknown")[:64]


def _me(user: User, cookie_secret: str | None) -> Me:
    csrf = csrf_token_for(cookie_secret, get_settings().secret_key) if cookie_secret else None
    return Me.model_validate({**UserRead.model_validate(user).model_dump(), "csrf_token": csrf})


@router.post("/auth/login", response_model=Me, responses=error_responses(401, 422, 429))
def login(body: LoginRequest, request: Request, response: Response, session: DbSession) -> Me | JSONResponse:
    """Log in from the browser: sets an HttpOnly session cookie and returns the CSRF token for writes.

    Repeated failures lock the username for a while, and too many failures from one address throttle it:
    both answer 429 with ``Retry-After`` (seconds).
    """
    settings = get_settings()
    try:
        user, secret = service.login(
            session,
            body.username,
            body.password,
            days=settings.session_days,
            client_ip=client_address(request),
            limits=LoginLimits.from_settings(settings),
        )
    except TooManyAttempts as exc:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers={"Retry-After": str(exc.retry_after)})
    except NotAuthenticated:
        # The request's transaction is rolled back on errors: store the recorded failure first.
        session.commit()
        raise
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    return _me(user, secret)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403))
def logout(principal: CurrentPrincipal, response: Response, session: DbSession) -> None:
    """End this browser session (API tokens are revoked separately)."""
    if principal.session_id is not None:
        service.logout(session, principal.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=Me, responses=error_responses(401))
def me(principal: CurrentPrincipal, request: Request, session: DbSession) -> Me:
    """The logged-in user, with a fresh CSRF token when authenticated by cookie."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("User not found.")
    return _me(user, request.cookies.get(SESSION_COOKIE) if principal.session_id else None)


@router.get("/auth/tokens", response_model=list[ApiTokenRead], responses=error_responses(401))
def list_tokens(principal: CurrentPrincipal, session: DbSession) -> list[ApiTokenRead]:
    """My API tokens (never their secrets)."""
    return [ApiTokenRead.model_validate(t) for t in repository.tokens_of(session, principal.user_id)]


@router.post(
    "/auth/tokens",
    response_model=ApiTokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 422),
)
def create_token(body: ApiTokenCreate, principal: CurrentPrincipal, session: DbSession) -> ApiTokenCreated:
    """Create an API token for scripts. The secret is in this response only."""
    token, secret = service.create_token(session, principal.user_id, body.name)
    return ApiTokenCreated.model_validate({**ApiTokenRead.model_validate(token).model_dump(), "token": secret})


@router.delete("/auth/tokens/{token_id}", response_model=ApiTokenRead, responses=error_responses(401, 403, 404))
def revoke_token(token_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> ApiTokenRead:
    """Revoke one of my API tokens; it stops working at once."""
    return ApiTokenRead.model_validate(service.revoke_token(session, principal.user_id, token_id))


@router.get("/users", response_model=list[UserRead], responses=error_responses(401, 403))
def list_users(_admin: AdminPrincipal, session: DbSession) -> list[UserRead]:
    """All users (admin only)."""
    return [UserRead.model_validate(u) for u in service.list_users(session)]


@router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
)
def create_user(body: UserCreate, _admin: AdminPrincipal, session: DbSession) -> UserRead:
    """Create a user (admin only)."""
    return UserRead.model_validate(service.create_user(session, body))


@router.patch("/users/{user_id}", response_model=UserRead, responses=error_responses(401, 403, 404))
def update_user(user_id: IdPath, body: UserUpdate, admin: AdminPrincipal, session: DbSession) -> UserRead:
    """Change a user's name, password, role or active flag (admin only)."""
    return UserRead.model_validate(service.update_user(session, user_id, body, acting_user_id=admin.user_id))
