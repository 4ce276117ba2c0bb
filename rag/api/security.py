"""Who may call the API and how much one request may take: keys, body size and time, requests at once.

Keys and bodies are checked in ASGI middleware, before any body is parsed, so a caller
without a valid key learns only that (even when its JSON is broken or its upload large).
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.errors import DIFY_BAD_HEADER, DIFY_BAD_KEY, ApiError, error_response

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SLASHES = re.compile(r"/{2,}")


def parse_keys(text: str) -> tuple[str, ...]:
    """The keys of `RAG_API_KEYS` (comma-separated, blanks dropped)."""
    return tuple(key.strip() for key in text.split(",") if key.strip())


def key_matches(given: str, keys: tuple[str, ...]) -> bool:
    """Whether `given` is one of `keys`, compared in constant time against every key."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched


def check_key(authorization: str | None, keys: tuple[str, ...], required: bool = False) -> None:
    """Refuse a request without a valid `Authorization: Bearer <key>` when keys are configured.

    Args:
        required: refuse even when no key is configured (uploads change the corpus).

    Raises:
        ApiError: 401 for a missing or wrong key, 403 when no key could ever be right.
    """
    if not keys:
        if required:
            raise ApiError(403, "uploads need an API key: start the server with RAG_API_KEYS set",
                           "permission_error", "uploads_disabled", DIFY_BAD_KEY)  # fmt: skip
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "missing API key: send the header 'Authorization: Bearer <key>'",
                       "authentication_error", "missing_api_key", DIFY_BAD_HEADER)  # fmt: skip
    if not key_matches(given.strip(), keys):
        raise ApiError(401, "invalid API key", "authentication_error", "invalid_api_key", DIFY_BAD_KEY)


class Gate:
    """At most `limit` requests answered at once; one more is refused at once, never queued."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, limit))

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise ApiError(503, "server busy: too many requests at once; retry shortly",
                           "server_error", "overloaded")  # fmt: skip
        try:
            yield
        finally:
            self._slots.release()


class KeyCheck:
    """ASGI middleware: the API key, checked before the body is read.

    Args:
        open_paths: path prefixes anyone may call (health, API docs).
        key_always: (method, path) that needs a key even when none is configured.
    """

    def __init__(
        self, app: ASGIApp, keys: tuple[str, ...], open_paths: tuple[str, ...], key_always: tuple[str, str]
    ) -> None:
        self.app, self.keys, self.open_paths, self.key_always = app, keys, open_paths, key_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or path.startswith(self.open_paths):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        try:
            check_key(header, self.keys, required=(scope["method"], path) == self.key_always)
        except ApiError as error:
            await error_response(path, error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class TidyPath:
    """ASGI middleware: `//retrieval` and `/v1/search/` are served as `/retrieval`, `/v1/search`
    (Dify appends `/retrieval` to an endpoint that may end in a slash)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = _SLASHES.sub("/", scope["path"])
            path = path.rstrip("/") or "/"
            if path != scope["path"]:
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is read, so FastAPI passes it on as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the {limit} byte limit")


class BodyTimeout(StarletteHTTPException):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(408, f"request body did not arrive within {timeout_s:g} s")


class BodyLimit:
    """ASGI middleware: a body over the limit of its path is answered 413 before it is all read,
    and one that stops arriving 408."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int], timeout_s: float) -> None:
        self.app, self.limit_for, self.timeout_s = app, limit_for, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limit_for(path)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(BodyTooLarge(limit), path, scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            try:
                with anyio.fail_after(self.timeout_s):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(self.timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (BodyTooLarge, BodyTimeout) as refused:
            if not started:
                await _refuse(refused, path, scope, receive, send)


async def _refuse(exc: StarletteHTTPException, path: str, scope: Scope, receive: Receive, send: Send) -> None:
    code = "body_too_large" if exc.status_code == 413 else "body_timeout"
    error = ApiError(exc.status_code, str(exc.detail), "invalid_request_error", code)
    await error_response(path, error)(scope, receive, send)
