"""Defences that wrap every request and response of the web pages.

- :class:`SecurityHeaders` gives every response (pages, downloads, static files, redirects,
  error and crash pages) headers that forbid framing by another site (clickjacking:
  ``X-Frame-Options`` and a Content-Security-Policy with ``frame-ancestors 'none'``), MIME
  sniffing and caching of pages with clients' data; a response that sets its own policy (the
  sandboxed report, framed by the submission page) keeps it.
- :class:`GuardedStarlette` puts those headers outside Starlette's own error handling, so
  that a crash page gets them too.
- :func:`record_id` reads an id from an address: only 1 to 2**31-1, so no id reaches the
  database that it cannot hold (an overflow was a 500).
- :func:`server_options` are uvicorn's proxy options of ``serve``: behind a reverse proxy
  that terminates HTTPS, the proxy's ``X-Forwarded-Proto``/``X-Forwarded-For`` are believed
  from the allowed addresses only, so the session cookie is ``Secure`` over HTTPS and the
  sign-in throttle sees the real client address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""The Content-Security-Policy of every page: nothing from elsewhere, no inline script,
never framed (the report, framed by the submission page, sets its own sandboxed policy)."""

HEADERS = {
    "content-security-policy": PAGE_POLICY,
    "x-frame-options": "DENY",  # browsers that predate frame-ancestors
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}

HSTS = "max-age=31536000"
"""Sent over HTTPS only: the browser then refuses plain HTTP to this site for a year."""

MAX_ID = 2**31 - 1
"""The largest id any table holds (a 32-bit integer column on every database)."""


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers and not static:
                    headers["cache-control"] = "no-store"  # a shared branch computer
                if https:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class GuardedStarlette(Starlette):
    """A Starlette application whose every response, a crash page included, carries the
    :class:`SecurityHeaders` (user middleware would run inside the crash handler)."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def record_id(text: Any) -> int | None:
    """The id in an address (``/submissions/12``), or None when it is not one: not a whole
    number written in digits, zero, negative or beyond :data:`MAX_ID`."""
    value = str(text)
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def server_options(*, proxy_headers: bool = False,
                   forwarded_allow_ips: str | None = None) -> dict[str, Any]:
    """uvicorn's options for the proxy in front of ``serve``: proxy headers are believed only
    when asked for, and then only from ``forwarded_allow_ips`` (comma-separated addresses or
    networks; default 127.0.0.1, a proxy on the same machine)."""
    options: dict[str, Any] = {"proxy_headers": proxy_headers}
    if proxy_headers:
        options["forwarded_allow_ips"] = forwarded_allow_ips or "127.0.0.1"
    return options


def attachment(name: str) -> str:
    """A Content-Disposition for downloading a file under ``name``: an HTTP header carries
    only Latin-1, so a name in another script (an office or center named in Amharic) goes
    in ``filename*`` (RFC 6266, UTF-8), with its ASCII letters as the fallback ``filename``."""
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"

