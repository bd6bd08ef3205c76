"""The review server's routes: the page, its two assets, and the JSON API under `/api/`.

The API is small and documented in the README (section "Reviewing in the browser"); the page
uses nothing else, so a script can do whatever the page does. Handlers only parse the request
and call `ReviewServerState`; a `PrecodeError` becomes a 400 with its message and hint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.errors import PrecodeError
from pipeline.review.server.security import COOKIE, Guard
from pipeline.review.server.state import ORDERS, ReviewServerState, Verdict

CODER_COOKIE = "precode_coder"
# The only files the server ever sends: fixed names, read from the package, never a path
# taken from a request.
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/app.css": ("app.css", "text/css; charset=utf-8")}
Handler = Callable[[Request], Awaitable[Response]]


def create_app(state: ReviewServerState, token: str, hosts: set[str] | None,
               coder: str | None = None) -> Guard:
    """The ASGI app for one run. `coder`: everyone is this coder (--coder); else each browser
    signs in with a name, kept in a cookie."""
    assets = {path: (_asset(name), media) for path, (name, media) in ASSETS.items()}

    def coder_of(request: Request) -> str:
        name = coder or request.cookies.get(CODER_COOKIE, "").strip()
        if not name:
            raise PrecodeError("sign in first: who is reviewing?",
                               hint='POST /api/session {"coder": "NAME"}, or start precode '
                                    "serve with --coder NAME")
        return name

    async def page(request: Request) -> Response:
        path = request.url.path
        body, media = assets[path]
        if path == "/" and request.query_params.get("token"):
            # Trade the token in the address for a cookie, and drop it from the address bar.
            response: Response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        return Response(body, media_type=media, headers={"Cache-Control": "no-store"})

    async def session(request: Request) -> Response:
        if request.method == "POST":
            body = await _json(request)
            name = str(body.get("coder") or "").strip()
            if coder is not None:
                raise PrecodeError(f"this server reviews as {coder!r}",
                                   hint="start another precode serve for another coder")
            if not name:
                raise PrecodeError("a coder name is needed", hint='send {"coder": "NAME"}')
            response = JSONResponse({"coder": name})
            response.set_cookie(CODER_COOKIE, name, httponly=True, samesite="strict")
            return response
        signed_in = coder or request.cookies.get(CODER_COOKIE) or None
        data = state.data
        # A coder's scores change with each background refit: the method says so.
        method = state.session(signed_in).method if signed_in else data.scored.method
        return JSONResponse({"coder": signed_in, "run": data.run.path.resolve().name,
                             "blind": state.blind, "threshold": data.threshold,
                             "method": method, "orders": list(ORDERS),
                             "retrain_every": state.retrain_every})

    async def codebook(request: Request) -> Response:
        return JSONResponse(state.codebook())

    async def sources(request: Request) -> Response:
        return JSONResponse({"sources": state.sources_list(coder_of(request))})

    async def source(request: Request) -> Response:
        return JSONResponse(state.source(request.query_params.get("id", "")))

    async def segments(request: Request) -> Response:
        q = request.query_params
        return JSONResponse(state.segments(coder_of(request), q.get("source") or None,
                                           _int(q.get("offset"), 0), _int(q.get("limit"), 200)))

    async def queue(request: Request) -> Response:
        q = request.query_params
        ids = state.queue(coder_of(request), q.get("order", "uncertain"),
                          q.get("source") or None, q.get("code") or None,
                          q.get("unreviewed", "") in ("1", "true", "yes"))
        return JSONResponse({"total": len(ids), "segment_ids": ids})

    async def decisions(request: Request) -> Response:
        name = coder_of(request)
        if request.method == "GET":
            return JSONResponse({"decisions": state.decisions(name)})
        body = await _json(request)
        codes = body.get("codes") or ([body["code"]] if body.get("code") else [])
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise PrecodeError("codes must be a list of code ids", hint='"codes": ["hope"]')
        verdict = Verdict(str(body.get("segment_id") or ""), str(body.get("verdict") or ""),
                          tuple(codes), str(body.get("note") or ""))
        return JSONResponse(state.decide(name, verdict), status_code=201)

    async def undo(request: Request) -> Response:
        return JSONResponse(state.undo(coder_of(request)))

    async def progress(request: Request) -> Response:
        return JSONResponse(state.progress(coder_of(request)))

    async def search(request: Request) -> Response:
        return JSONResponse({"codes": state.search(coder_of(request),
                                                   request.query_params.get("q", ""))})

    routes = [Route(path, page) for path in ASSETS] + [
        Route("/api/session", _errors(session), methods=["GET", "POST"]),
        Route("/api/codebook", _errors(codebook)),
        Route("/api/sources", _errors(sources)),
        Route("/api/source", _errors(source)),
        Route("/api/segments", _errors(segments)),
        Route("/api/queue", _errors(queue)),
        Route("/api/decisions", _errors(decisions), methods=["GET", "POST"]),
        Route("/api/undo", _errors(undo), methods=["POST"]),
        Route("/api/progress", _errors(progress)),
        Route("/api/search", _errors(search)),
    ]
    return Guard(Starlette(routes=routes), token, hosts)


def _errors(handler: Handler) -> Handler:
    """A user's mistake (unknown segment, code, verdict) is a 400 with what to do."""
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except PrecodeError as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint or ""}, status_code=400)
    return wrapped


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise PrecodeError("the request body is not JSON", hint="send a JSON object") from None
    if not isinstance(body, dict):
        raise PrecodeError("the request body must be a JSON object", hint='e.g. {"coder": "A"}')
    return body


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        raise PrecodeError(f"{value!r} is not a whole number",
                           hint="offset and limit are whole numbers") from None


def _asset(name: str) -> bytes:
    return (resources.files("pipeline.review.server") / "static" / name).read_bytes()
