"""One pure ASGI middleware, outermost, for every HTTP request: request id, security headers, metrics and
the access log. (Pure ASGI rather than ``BaseHTTPMiddleware``: it costs microseconds on the hot
annotation endpoints and does not buffer streamed downloads.)

- **Request id**: ``X-Request-ID`` from the request when it is 1-64 characters of ``[A-Za-z0-9._-]``
  (a proxy's or a client's), else a new uuid4 hex. It is in ``app.ops.logs.REQUEST_ID`` while the request
  runs (so every log line carries it; thread-pool endpoints inherit the context) and in the response's
  ``X-Request-ID`` header.
- **Security headers** on every response (see ``security_headers``), unless a route set its own.
- **Metrics**: the request's duration by route template (``app.ops.metrics``).
- **Access log**: one line per request on ``prefloop.access``: method, path (never the query string),
  route, status, duration_ms, client, request id. Probes (``/healthz``, ``/readyz``, ``/metrics``) are
  logged at DEBUG. No header, cookie or body is ever logged.
- An unhandled exception is answered here with the usual error shape (500, with the headers above) and
  re-raised, so the server still logs its traceback.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops import metrics
from app.ops.logs import ACCESS_LOGGER, REQUEST_ID

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = logging.getLogger(ACCESS_LOGGER)

# The built UI loads its scripts and styles from /assets (same origin); React sets inline style attributes
# and the favicon is a data: URL. Nothing is fetched from elsewhere.
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's /docs (Swagger UI) and /redoc load their bundles from jsDelivr and start with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' data: https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000"


def security_headers(*, hsts: bool, csp: str = UI_CSP) -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy", csp),
    ]
    if hsts:  # only when cookies are Secure, i.e. the service is reached over HTTPS
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def request_id_from(raw: str | None) -> str:
    if raw is not None and _VALID_REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def route_template(scope: Mapping[str, object]) -> str:
    """The matched route's path template (set on the scope by the router), never the raw path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else metrics.UNMATCHED_ROUTE


class OpsMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)
        self.docs_headers = security_headers(hsts=hsts, csp=DOCS_CSP)
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_id = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                raw_id = value.decode("latin-1")
                break
        request_id = request_id_from(raw_id)
        token = REQUEST_ID.set(request_id)
        extra_headers = self.docs_headers if scope.get("path") in self.docs_paths else self.headers
        started = time.perf_counter()
        status = 0
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for key, value in extra_headers:
                    if key not in headers:
                        headers[key] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            status = 500
            if not response_started:
                body = json.dumps({"detail": "Internal server error.", "code": "internal"}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send_with_headers({"type": "http.response.start", "status": 500, "headers": headers})
                await send_with_headers({"type": "http.response.body", "body": body})
            raise
        finally:
            seconds = time.perf_counter() - started
            if not status:
                status = 499  # cancelled before answering: the client went away
            route = route_template(scope)
            method = str(scope.get("method", ""))
            metrics.observe_request(method, route, status, seconds)
            path = str(scope.get("path", ""))
            client = scope.get("client")
            access_log.log(
                logging.DEBUG if path in _PROBES else logging.INFO,
                "%s %s %s %.1fms",
                method,
                path,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            REQUEST_ID.reset(token)
