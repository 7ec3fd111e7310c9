"""What every response of the explorer goes through: bounds on the size of a request, and
headers that keep the page to its own server.

A request with a query string over ``max_query_bytes`` or a body over ``max_body_bytes``
(by its Content-Length, or as it arrives) is refused before any handler reads it. Every
response carries a content security policy that lets the page load nothing from anywhere
but this server (users in archives and classrooms are often offline, and a page that
fetched from elsewhere would break there and leak what they look at).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from purgesim.explorer.limits import Limits

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""Plotly sets inline styles on the charts it draws (hence 'unsafe-inline' for styles
only); scripts come from this server alone."""
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


class TooLarge(Exception):
    """A request body went over the bound as it arrived."""


def problem_body(lines: list[str]) -> bytes:
    return json.dumps({"problems": lines}).encode()


class Guard:
    """ASGI middleware: the size bounds and the security headers."""

    def __init__(self, app: ASGIApp, limits: Limits):
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if len(query) > self.limits.max_query_bytes:
            await _refuse(send, 414, f"link: {len(query)} bytes of settings: allowed: at most "
                                     f"{self.limits.max_query_bytes}")
            return
        length = _content_length(scope)
        if length is not None and length > self.limits.max_body_bytes:
            await _refuse(send, 413, f"upload: {length} bytes: allowed: at most "
                                     f"{self.limits.max_body_bytes} (a scenario file is a few "
                                     "kilobytes)")
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limits.max_body_bytes:
                    raise TooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        try:
            await self.app(scope, counted, with_headers)
        except TooLarge:
            if not started:
                await _refuse(send, 413, f"upload: over {self.limits.max_body_bytes} bytes: "
                                         "allowed: a scenario file of a few kilobytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, line: str) -> None:
    body = problem_body([line])
    headers: list[Any] = [(b"content-type", b"application/json"),
                          (b"content-length", str(len(body)).encode()), *HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
