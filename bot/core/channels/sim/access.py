"""Who may use the simulator: the Host allow-list, same-origin checks, sessions, CSRF tokens, the access token.

A session is the operator at the page, who plays every simulated member (that is what the simulator is for).
The page gets one when it loads (or, where the operator's access token is needed, in the answer to giving it),
as an HttpOnly, SameSite=Strict cookie plus a CSRF token that is handed out only with a fresh session — written
into the page that made it, or in the login's JSON answer — and that the page keeps in its tab (sessionStorage)
and sends with every API request, reads included (a header; a `csrf` query parameter where a browser cannot
set one: the event stream, images). The cookie alone is worth nothing: a page on another port of this host
gets the cookie from the browser (ports share cookies, and SameSite counts them as the same site) but can
never read the token, which the server never gives out again for a cookie.
Sessions are signed, not stored: with an access token the signing key derives from it (sessions survive a
restart and work in every process); without one the key is random per process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.core import texts
from bot.core.config import LOOPBACK_HOSTS, Config

SESSION_COOKIE = "yizhan_sim"
CSRF_HEADER = "X-Yizhan-CSRF"
CSRF_QUERY = "csrf"  # for the event stream and images, which a browser fetches without our headers
# Wall-clock time on purpose: a session's age is a security matter, not the bot's (injectable) domain time.
SESSION_SECONDS = 24 * 3600
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
# Fetch metadata a browser sends; anything else (same-site: another port of this host) is a foreign page.
SAME_ORIGIN_FETCH = ("same-origin", "none")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer that no cache keeps and no browser sniffs as something else."""
    return web.json_response(
        data,
        status=status,
        dumps=lambda obj: json.dumps(obj, ensure_ascii=False),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **(headers or {})},
    )


def refusal(error: str, status: int) -> web.Response:
    return json_response({"error": error}, status=status)


def host_name(header: str) -> str:
    """The host of a Host header ('[::1]:8080' -> '::1', 'Example.org.:80' -> 'example.org'); '' if malformed."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        rest = header[end + 1 :]
        if end < 2 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return ""
        return header[1:end]
    name, sep, port = header.partition(":")
    if sep and not port.isdigit():
        return ""
    return name.rstrip(".")


def _configured_name(host: str) -> str:
    """A host name as config.toml writes it ('::1', '[::1]', 'Example.org') in the form host_name gives."""
    return host.strip().strip("[]").rstrip(".").lower()


class SimAccess:
    """The simulator's gatekeeper; one per application that serves the simulator."""

    def __init__(self, config: Config) -> None:
        token = config.sim.access_token
        self.needs_token = config.sim_needs_token
        self._token = hashlib.sha256(token.encode()).digest() if token else b""
        self._key = (
            hmac.new(token.encode(), b"yizhan-sim-session-v1", hashlib.sha256).digest()
            if token
            else secrets.token_bytes(32)
        )
        hosts = {*LOOPBACK_HOSTS, *config.server.allowed_hosts, config.server.host, config.sim.host}
        self.hosts = frozenset(_configured_name(h) for h in hosts) - set(WILDCARD_HOSTS)

    # --- sessions ------------------------------------------------------------------------------------
    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def new_session(self) -> str:
        """A fresh session cookie value: issued-at, nonce, signature."""
        body = f"{int(time.time())}.{secrets.token_urlsafe(18)}"
        return f"{body}.{self._sign('session|' + body)}"

    def session(self, cookie: str | None) -> str | None:
        """The session's nonce if the cookie is genuine and young enough, else None."""
        if not cookie or len(cookie) > 200:
            return None
        issued, _, rest = cookie.partition(".")
        nonce, _, signature = rest.partition(".")
        body = f"{issued}.{nonce}"
        if not (issued.isdigit() and nonce and hmac.compare_digest(signature, self._sign("session|" + body))):
            return None
        if not 0 <= time.time() - int(issued) <= SESSION_SECONDS:
            return None
        return nonce

    def csrf_token(self, nonce: str) -> str:
        return self._sign("csrf|" + nonce)

    def token_ok(self, given: str) -> bool:
        """Whether given is the operator's access token (never true when none is configured)."""
        if not self._token:
            return False
        return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "replace")).digest(), self._token)

    def set_cookie(self, response: web.StreamResponse, request: web.Request, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )

    # --- the checks every route makes ----------------------------------------------------------------
    def foreign(self, request: web.Request, *, navigation: bool = False) -> web.Response | None:
        """Refuse another Host (DNS rebinding) and, unless a page navigation, a request from another origin."""
        if host_name(request.headers.get("Host", "")) not in self.hosts:
            return refusal(texts.SIM_HOST_REFUSED, 421)
        if navigation:
            return None
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != request.headers["Host"].strip().lower():
            return refusal(texts.SIM_FOREIGN_ORIGIN, 403)
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site not in SAME_ORIGIN_FETCH:
            return refusal(texts.SIM_FOREIGN_ORIGIN, 403)
        return None

    def check(self, request: web.Request, *, post: bool) -> web.Response | None:
        """Everything an API request needs: our Host, our origin, a session and its CSRF token; a POST also JSON.

        The token comes in a header; a GET may carry it as the `csrf` query parameter instead (EventSource and
        <img> cannot set headers).
        """
        refused = self.foreign(request)
        if refused is not None:
            return refused
        nonce = self.session(request.cookies.get(SESSION_COOKIE))
        if nonce is None:
            return refusal(texts.SIM_NO_SESSION, 401)
        if post and request.content_type != "application/json":
            return refusal(texts.SIM_NOT_JSON, 415)
        given = request.headers.get(CSRF_HEADER) or ("" if post else request.query.get(CSRF_QUERY, ""))
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.csrf_token(nonce).encode()):
            return refusal(texts.SIM_BAD_CSRF, 403)
        return None


ACCESS = web.AppKey("sim_access", SimAccess)


def guarded(handler: Handler, *, post: bool = False) -> Handler:
    """handler behind the simulator's checks (Host, origin, session, and for a POST: JSON and CSRF)."""

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        refused = request.app[ACCESS].check(request, post=post)
        if refused is not None:
            return refused
        return await handler(request)

    guarded_handler.__name__ = handler.__name__
    guarded_handler.__doc__ = handler.__doc__
    return guarded_handler
