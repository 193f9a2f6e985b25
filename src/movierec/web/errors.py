"""Every error the web app answers is JSON ``{"detail": "…"}``: one line that names the problem
and the way out, quoting user input only escaped and cut short."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import MovieRecError
from .body import shown

log = logging.getLogger("movierec.web")

MAX_REPORTED = 5
# Strict types: for these, the message also says what was sent instead ("5" is not 5).
TYPE_ERRORS = {"int_type", "bool_type", "list_type", "model_type", "dict_type", "string_type"}


def _where(location: Sequence[Any]) -> str:
    """``("body", "liked", 3)`` → ``liked[3]``; ``("query", "n")`` → ``n``."""
    out = ""
    for part in location[1:] if location and location[0] in ("body", "query", "path") else location:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{shown(str(part))}" if out else shown(str(part))
    return out


def _sent(value: Any) -> str:
    """What a JSON value is, for a message: ``the string "5"``, ``true``, ``a list``."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (int, float)):
        return f"the number {shown(repr(value), 24)}"
    if isinstance(value, str):
        return f'the string "{shown(value, 24)}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def readable(errors: Sequence[Any]) -> str:
    """One line a person can act on, from pydantic's validation errors."""
    parts = []
    for error in errors[:MAX_REPORTED]:
        kind, where = error.get("type", ""), _where(error.get("loc", ()))
        if kind == "missing" and not where:
            parts.append("a JSON request body is required")
            continue
        message = str(error.get("msg", "is invalid"))
        message = message[:1].lower() + message[1:]
        if kind in TYPE_ERRORS and "input" in error:
            message += f", not {_sent(error['input'])}"
        parts.append(f"{where or 'request body'}: {message}")
    if len(errors) > MAX_REPORTED:
        parts.append(f"and {len(errors) - MAX_REPORTED} more problems")
    return "; ".join(parts)


def http_detail(request: Request, exc: StarletteHTTPException) -> str:
    """Starlette's bare "Not Found" and "Method Not Allowed", said with the way out."""
    path = shown(request.url.path, 60)
    if exc.status_code == 404 and exc.detail == "Not Found":
        return f"nothing at {path}; the API is listed at /docs"
    if exc.status_code == 405 and exc.detail == "Method Not Allowed":
        headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
        allowed = headers.get("allow", "another method")
        return f"{shown(request.method, 16)} is not allowed on {path}; use {allowed}"
    return str(exc.detail)


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation errors, movierec's own errors, HTTP errors and anything unexpected
    with ``{"detail": …}``; the unexpected ones are logged, never shown."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": readable(exc.errors())}, status_code=422)

    @app.exception_handler(MovieRecError)
    async def movierec_error(request: Request, exc: MovieRecError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = http_detail(request, exc)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "internal server error; the request was not completed"}, status_code=500
        )
