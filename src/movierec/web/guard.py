"""Who may change what on the web page: the profile cookie, CSRF protection and per-client rate
limits on writes.

- **The profile cookie** (:data:`PROFILE_COOKIE`) holds ``ID.SECRET``: the profile's public id
  and its secret (256 random bits, kept hashed by the store). It is ``HttpOnly`` (no script
  reads it), ``SameSite=Strict`` (no other site's page sends it), ``Secure`` when the request
  came over HTTPS, and scoped to ``/api``. The secret never appears in a URL the server sees:
  the private link carries it in the fragment (``/#open=ID.SECRET``), which browsers keep to
  themselves, and the page trades it for the cookie with a ``POST`` whose body holds it.
- **CSRF**: every state-changing request (``POST``, ``PUT``, ``DELETE`` under ``/api/profile``
  and ``/api/movie-night``) must carry the header ``X-CSRF-Token`` equal to the
  ``movierec_csrf`` cookie (*double submit*: another site can neither read our cookie nor set a
  custom header on a cross-site request without a CORS preflight, which this server never
  grants); an ``Origin`` header, when sent, must be this server's own, and a browser's
  ``Sec-Fetch-Site: cross-site`` is refused outright. Both checks answer 403.
- **Rate limits**: a token bucket per client address (``request.client.host``; behind a proxy,
  run uvicorn with ``--proxy-headers`` so that it is the visitor's): ``burst`` writes at once,
  then ``per_second``; over it, 429 with ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response

PROFILE_COOKIE = "movierec_profile"
CSRF_COOKIE = "movierec_csrf"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_DAYS = 400  # the longest a browser keeps a cookie (Chrome caps Max-Age there)
CSRF_BYTES = 32


@dataclass(frozen=True)
class Credential:
    """A profile id and its secret, as the cookie or a private link carries them."""

    profile_id: str
    secret: str

    @classmethod
    def parse(cls, text: str | None) -> Credential | None:
        """``ID.SECRET`` → a Credential; None for anything else (nothing is quoted back)."""
        if not text or len(text) > 200 or not text.isascii():  # ids and secrets are base64url
            return None
        profile_id, dot, secret = text.partition(".")
        if not dot or not profile_id or not secret:
            return None
        return cls(profile_id, secret)

    def __str__(self) -> str:
        return f"{self.profile_id}.{self.secret}"

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Credential({self.profile_id!r}, secret=…)"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_profile_cookie(response: Response, request: Request, credential: Credential) -> None:
    response.set_cookie(
        PROFILE_COOKIE,
        str(credential),
        max_age=COOKIE_DAYS * 86_400,
        path="/api",
        secure=is_https(request),
        httponly=True,
        samesite="strict",
    )


def clear_profile_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        PROFILE_COOKIE, path="/api", secure=is_https(request), httponly=True, samesite="strict"
    )


def csrf_token(request: Request, response: Response) -> str:
    """The request's CSRF token (its cookie), or a new one set on ``response``."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) < 32 or not token.replace("-", "").replace("_", "").isalnum():
        token = secrets.token_urlsafe(CSRF_BYTES)
        response.set_cookie(
            CSRF_COOKIE,
            token,
            max_age=COOKIE_DAYS * 86_400,
            path="/",
            secure=is_https(request),
            httponly=False,  # the page reads it to send it back as a header
            samesite="strict",
        )
    return token


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def check_csrf(request: Request) -> None:
    """403 unless the request comes from our own page (see the module's docstring)."""
    if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
        raise HTTPException(403, "a request from another site may not change a profile")
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise HTTPException(403, "a request from another origin may not change a profile")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise HTTPException(
            403,
            f"this request lacks its CSRF token: send the {CSRF_COOKIE} cookie's value as the "
            f"{CSRF_HEADER} header (GET /api/session sets the cookie)",
        )


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_second``.
    At most ``max_clients`` buckets are kept (the least recently used go first: a client
    forgotten starts again with a full bucket). Safe to share between threads."""

    def __init__(
        self,
        burst: int = 60,
        per_second: float = 10.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("a rate limit needs burst ≥ 1 and per_second > 0")
        self.burst = burst
        self.per_second = per_second
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take one token for ``client``: 0 when it may go ahead, else the seconds until a
        token is back."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.per_second
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_rate(request: Request, limiter: RateLimiter) -> None:
    """429 with ``Retry-After`` when this client has used up its writes for now."""
    wait = limiter.take(client_of(request))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(
            429,
            f"too many changes from this address; wait {seconds} s and try again",
            headers={"Retry-After": str(seconds)},
        )
