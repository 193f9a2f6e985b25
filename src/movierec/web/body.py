"""Request bodies read strictly: a size limit, then JSON that is UTF-8, shallow and well formed.

FastAPI's own reading answers some malformed bodies with an undocumented 400 ("There was an
error parsing the body": invalid UTF-8, JSON nested past Python's recursion limit, numbers of
thousands of digits) and silently takes others (a repeated key, ``NaN``). Here every one of
them is a 422 whose ``detail`` names the problem, and is refused before a parser recurses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 64  # our bodies nest two deep; a parser's recursion limit is far above this
PARSE_IN_THREAD_BYTES = 4096  # a typical body (five liked movies) is under 100 bytes
MAX_NUMBER_DIGITS = 30  # ids fit in 19 digits; longer numbers are refused before int() reads them

# A JSON string (the brackets in it do not nest), closed or running to the end of the body, so
# that the match never backtracks.
_STRING = re.compile(rb'"[^"\\]*(?:\\.?[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as int8
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BodyError(HTTPException):
    """A request body that is not JSON we can read: 422 with a one-line ``detail``."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=422, detail=detail)


def shown(text: str, limit: int = 40) -> str:
    """User input made safe to quote in a message: control characters and lone surrogates
    escaped, cut to ``limit`` characters."""
    safe = _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def nesting_depth(body: bytes) -> int:
    """How deep ``body``'s arrays and objects nest, without parsing it (so 30,000 ``[`` cost
    a fraction of a millisecond, not a parser's recursion)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    steps = np.frombuffer(brackets.translate(_STEPS), dtype=np.int8)
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def _refuse_constant(name: str) -> Any:
    raise BodyError(f"the request body is not valid JSON: {name} is not a JSON number")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise BodyError(
            f"the request body holds a number of {len(digits.lstrip('-'))} digits; "
            f"numbers here have at most {MAX_NUMBER_DIGITS}"
        )
    return int(digits)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (JSON parsers disagree on which one wins) and
    a key that is not text (an unpaired ``\\ud800`` escape)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if _SURROGATE.search(key):
            raise BodyError(
                f'the request body has a field name with an unpaired surrogate ("{shown(key)}"); '
                "field names are plain text"
            )
        if key in obj:
            raise BodyError(f'the request body gives "{shown(key)}" twice; give each field once')
        obj[key] = value
    return obj


def parse_json_body(body: bytes) -> Any:
    """The JSON value in ``body``, or BodyError saying what is wrong with it and where."""
    # Fewer brackets than the limit cannot nest past it: most bodies skip the count.
    brackets = body.count(b"[") + body.count(b"{")
    if brackets > MAX_JSON_DEPTH and nesting_depth(body) > MAX_JSON_DEPTH:
        raise BodyError(
            f"the request body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels; "
            "send a flat JSON object"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            f"the request body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset "
            f"{exc.start}); send JSON encoded as UTF-8"
        ) from None
    if text.startswith("\ufeff"):
        raise BodyError("the request body starts with a byte order mark; send JSON without one")
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_bounded_int,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        reason = (exc.msg[:1].lower() + exc.msg[1:]).removesuffix(" at")
        raise BodyError(
            f"the request body is not valid JSON: {reason} at line {exc.lineno}, column {exc.colno}"
        ) from None


def require_json_content_type(content_type: str | None) -> None:
    """BodyError unless ``content_type`` is JSON (``application/json`` or ``…+json``) in UTF-8."""
    media_type, *parameters = (content_type or "").split(";")
    media_type = media_type.strip().lower()
    is_json = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    if not is_json:
        sent = f"not {shown(content_type)}" if content_type else "none was given"
        raise BodyError(
            f"the request body must be JSON: send it with Content-Type: application/json ({sent})"
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise BodyError(f"the request body must be UTF-8 JSON, not charset {shown(charset)}")


class JsonBodyRequest(Request):
    """A request whose ``json()`` is :func:`parse_json_body`; a body over
    ``PARSE_IN_THREAD_BYTES`` (up to ~10 ms to parse at 64 KiB) is parsed in a worker thread, so
    the event loop keeps answering meanwhile."""

    async def json(self) -> Any:
        if not hasattr(self, "_parsed_json"):
            body = await self.body()
            if len(body) > PARSE_IN_THREAD_BYTES:
                self._parsed_json = await run_in_threadpool(parse_json_body, body)
            else:
                self._parsed_json = parse_json_body(body)
        return self._parsed_json


def only_known_query_parameters(request: Request, known: frozenset[str]) -> None:
    """Refuse a query parameter the route does not take (``known``: those it does), or one
    given twice, as a request body refuses unknown fields: ``?m=5`` must not quietly mean the
    default ``n``. Called by the API's route class before the route's own parameters are read."""
    if not request.scope.get("query_string"):
        return
    names = [name for name, _ in request.query_params.multi_items()]
    for name in names:
        if name not in known:
            takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
            raise HTTPException(
                422, f'unknown query parameter "{shown(name)}" for {request.url.path}; {takes}'
            )
        if names.count(name) > 1:
            times = names.count(name)
            raise HTTPException(422, f"query parameter {name} is given {times} times; give it once")


class JsonBodyRoute(APIRoute):
    """An API route that refuses query parameters it does not take
    (:func:`only_known_query_parameters`) and reads a JSON body strictly
    before FastAPI validates it: right content type, UTF-8, nesting within MAX_JSON_DEPTH, well
    formed, no repeated keys, no NaN. An empty body is left to FastAPI, which reports the
    missing body. (Checked here, once per request, rather than as a dependency: FastAPI's
    dependency machinery cost more than the check itself.)"""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        known = frozenset(param.alias for param in self.dependant.query_params)
        if self.body_field is None:

            async def handle_query(request: Request) -> Response:
                only_known_query_parameters(request, known)
                return await handle(request)

            return handle_query

        async def handle_json(request: Request) -> Response:
            only_known_query_parameters(request, known)
            request = JsonBodyRequest(request.scope, request.receive)
            if await request.body():
                require_json_content_type(request.headers.get("content-type"))
                await request.json()
            return await handle(request)

        return handle_json


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, counting what actually arrives (so a
    chunked body without Content-Length is caught too); the app sees the body replayed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is over {self.limit // 1024} KiB; send fewer liked movies"
        response = JSONResponse({"detail": detail}, status_code=413)
        await response(scope, receive, send)
