"""Security and caching headers on every response the web app sends, errors included.

- ``X-Content-Type-Options: nosniff``: a browser takes JSON as JSON, never as a page or script.
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page can frame ours.
- ``Referrer-Policy: no-referrer``: search queries in our URLs never reach another site.
- ``Content-Security-Policy``: the page and /docs run only their own scripts (``PAGE_POLICY``,
  ``docs_policy``); anything else (JSON, assets, errors) may run nothing (``DEFAULT_POLICY``).
- ``Cache-Control`` by route: API answers ``no-store`` (they depend on the model the server
  loaded, a body of favourite movies is personal, and an answer costs about a millisecond, so a
  cache would save little and could serve a stale model's answers); the page, /docs and the
  OpenAPI schema ``no-cache`` (revalidated each time, so an upgrade shows at once); static
  assets an hour (``public, max-age=3600``); every error ``no-store``.
- No ``Server`` header: nothing says which server software answers (``movierec serve`` also
  runs uvicorn with ``server_header=False``).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The page loads only its own files; inline scripts and other hosts are refused by the browser.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# JSON, static assets and errors are never documents that should run or load anything.
DEFAULT_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
ASSET_PREFIXES = ("/static/", "/docs-assets/")
REVALIDATED = ("/", "/docs", "/openapi.json")
ASSET_CACHE = "public, max-age=3600"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The CSP for a Swagger UI page: its own assets, plus exactly the inline scripts in ``html``
    (by hash, so no other inline script runs). Swagger UI sets inline styles and draws icons
    from ``data:`` URLs, so those are allowed on this page only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def cache_control(path: str, status: int) -> str:
    """How long a response to ``path`` with ``status`` may be kept, and by whom."""
    if status >= 400:
        return "no-store"
    if path.startswith(ASSET_PREFIXES):
        return ASSET_CACHE
    if path in REVALIDATED:
        return "no-cache"
    return "no-store"


class SecurityHeaders:
    """ASGI middleware setting the headers above on every HTTP response; a response that set its
    own Content-Security-Policy (the page, /docs) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cache-Control"] = cache_control(path, message["status"])
                headers.setdefault("Content-Security-Policy", DEFAULT_POLICY)
                del headers["Server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
