"""Who may talk to the review server: the person holding its token, from its own origin.

Transcripts are confidential, so the server is guarded as Jupyter guards a notebook server:
- a random token, printed in the start URL (`/?token=T`); the first visit trades it for an
  HttpOnly, SameSite=Strict cookie; scripts send `Authorization: token T`. Anything else: 401.
- the `Host` header must name the server itself (a DNS-rebinding page cannot reach it);
- a POST must be JSON, and when the browser says where it comes from (`Origin`), that must be
  the server's own origin: a page elsewhere cannot make the reviewer's browser decide things.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "precode_token"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """The `Host` values that name this server; None (any) when it listens on every interface,
    where other machines reach it by names this one cannot know (the token still guards it)."""
    if host in ("0.0.0.0", "::"):
        return None
    names = {host, "127.0.0.1", "localhost", "[::1]"}
    return {f"{name}:{port}" for name in names} | ({host} if port == 80 else set())


class Guard:
    """ASGI middleware: the token, the Host header and the origin of POSTs (module docstring)."""

    def __init__(self, app: ASGIApp, token: str, hosts: Iterable[str] | None) -> None:
        self.app = app
        self.token = token
        self.hosts = set(hosts) if hosts is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self.refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        host = request.headers.get("host", "")
        if self.hosts is not None and host not in self.hosts:
            return PlainTextResponse(f"Unknown host {host!r}: open the address precode serve "
                                     "printed.", status_code=403)
        if request.method == "POST":
            origin = request.headers.get("origin")
            own = self.hosts if self.hosts is not None else {host}
            if origin is not None and origin not in {f"http://{h}" for h in own}:
                return _refuse(403, "cross-origin requests are refused",
                               "use the page precode serve printed")
            content_type = request.headers.get("content-type", "")
            if not content_type.startswith("application/json"):
                return _refuse(415, "send JSON", "Content-Type: application/json")
        if self.authorized(request):
            return None
        if request.url.path == "/" and request.query_params.get("token"):
            return _refuse(401, "this token is not the server's",
                           "open the address precode serve printed when it started")
        if request.url.path.startswith("/api/"):
            return _refuse(401, "a token is needed",
                           "open the address precode serve printed, or send "
                           "'Authorization: token T'")
        return PlainTextResponse("precode serve: open the address (with ?token=...) that "
                                 "precode serve printed when it started.", status_code=401)

    def authorized(self, request: Request) -> bool:
        given = [request.cookies.get(COOKIE, ""), request.query_params.get("token", "")]
        header = request.headers.get("authorization", "")
        if header.lower().startswith("token "):
            given.append(header[6:].strip())
        return any(secrets.compare_digest(g.encode(), self.token.encode()) for g in given if g)


def _refuse(status: int, error: str, hint: str) -> JSONResponse:
    return JSONResponse({"error": error, "hint": hint}, status_code=status)
