"""Every HTTP request to the web app, before any route sees it: the Host checked (DNS rebinding), other sites'
pages refused, the body counted as it arrives (chunked uploads too) and cut off at the limit of what the route
takes (413: POST /api/videos takes a clip, every other route images only); every response gets a
Content-Security-Policy and the other security headers.

    app.add_middleware(Guard, limits=limits, hosts=["localhost", "127.0.0.1", "::1"])   # hosts=None: any Host
    host_name("Example.org:8000")   # "example.org": a Host header (or a --host value) as the guard compares it
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

from ..errors import InputImageError
from .forms import Limits

UNSAFE = re.compile(r"[\x00-\x1f\x7f]")  # control characters: never echoed back in a message
# the page's own files only (static/: no inline script or style, no eval); nothing framed, nothing framing it
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = (("content-security-policy", PAGE_POLICY), ("x-frame-options", "DENY"),
                    ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"))
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TAIL = "painterly.tail"  # in a request's scope: the last bytes of its body, as the Guard counted them


class TooLarge(InputImageError):
    """An upload over the size limit (HTTP 413)."""


class Guard:
    """Every HTTP request: the Host checked (DNS rebinding), other sites' pages refused, the body counted as it
    arrives (chunked uploads too) and cut off at the limit; every response gets the security headers."""

    def __init__(self, app, *, limits: Limits, hosts: Iterable[str] | None):
        self.app = app
        self.most = limits.upload_bytes * (limits.styles + 1) + 2**20
        self.most_video = limits.video_bytes + limits.upload_bytes * limits.styles + 2**20  # POST /api/videos
        self.per_image, self.per_video = limits.upload_bytes, limits.video_bytes
        self.hosts = None if hosts is None else {host_name(h) for h in hosts}
        self.any_address = bool(self.hosts and self.hosts & {"0.0.0.0", "::"})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def secured(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS
                            if name.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            return await JSONResponse({"detail": refusal[1]}, status_code=refusal[0])(scope, receive, secured)
        received, most = 0, self._most(scope)
        tail = scope[TAIL] = bytearray()  # enough to hold a closing boundary (at most 70 characters + 6)

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                tail[:] = (tail + body)[-256:]
                if received > most:
                    raise TooLarge(self._too_large(scope, f"over {shown_size(most)} ({shown_size(received)} so far)"))
            return message

        try:
            await self.app(scope, counted, secured)
        except TooLarge as error:  # raised where no handler turned it into the answer
            if started:
                raise
            await JSONResponse({"detail": str(error)}, status_code=413)(scope, receive, secured)

    def _most(self, scope) -> int:
        return self.most_video if scope.get("path") == "/api/videos" else self.most

    def _too_large(self, scope, size: str) -> str:
        video = f"{shown_size(self.per_video)} per video and " if scope.get("path") == "/api/videos" else ""
        return (f"the upload is {size}, over the upload limit of {video}{shown_size(self.per_image)} per image: "
                f"choose smaller files")

    def _refusal(self, scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.hosts is not None:
            name = host_name(host)
            if not name:
                return 400, "no Host header: send the server's name, as a browser does"
            if name not in self.hosts and not (self.any_address and _is_address(name)):
                shown = UNSAFE.sub("", name)[:80]
                return 421, (f"host '{shown}' is not served here: open this server by its own name, or start it "
                             f"with --allowed-host {shown} if that is one of its names")
        origin = headers.get("origin")
        if scope["method"] not in ("GET", "HEAD") and origin and urlsplit(origin).netloc != host:
            return 403, f"a request from the page of {UNSAFE.sub('', origin)[:80]} was refused: use painterly's own " \
                        f"page or a script"
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._most(scope):
            return 413, self._too_large(scope, shown_size(int(declared)))
        return None


def host_name(host: str) -> str:
    """The name in a Host header (or a --host value), lower case, without port, brackets or final dot;
    "" when it is not a well-formed host[:port]."""
    host = host.strip().lower()
    name, port = host, ""
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return ""
        port = port[1:]
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
    elif ":" in host:  # a bare IPv6 address (a --host value)
        return host if _is_address(host) else ""
    if port and not port.isdigit():
        return ""
    return name.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def shown_size(size: int) -> str:
    """A number of bytes as a message shows it: "1.5 MB", "50 KB"."""
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} KB"
