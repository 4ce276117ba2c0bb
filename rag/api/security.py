"""Who may call the API and how much one request may take: keys, body size, requests at once."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.errors import DIFY_BAD_HEADER, DIFY_BAD_KEY, ApiError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is read, so FastAPI passes it on as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the {limit} byte limit")


class BodyLimit:
    """ASGI middleware: a body over the limit of its path is answered 413 before it is all read."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
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
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {"error": {"message": f"request body over the {limit} byte limit", "type": "invalid_request_error",
                   "code": "body_too_large"}}
    ).encode()  # fmt: skip
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})  # fmt: skip
