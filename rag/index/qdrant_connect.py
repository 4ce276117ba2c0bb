"""Connections to Qdrant: a server (RAG_QDRANT_URL) or qdrant-client's local mode in a folder
(RAG_QDRANT_PATH), one client per process for each, and transport errors as one line."""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import ConfigError

_CLIENTS: dict[tuple[str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(settings: Settings) -> Any:
    """One client per server or local-mode folder in a process (local mode allows one only)."""
    key = (settings.qdrant_url, settings.qdrant_path)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            if not _CLIENTS:
                atexit.register(_close_clients)  # before interpreter shutdown, where closing fails
            _CLIENTS[key] = connect(settings.qdrant_url, settings.qdrant_api_key, settings.qdrant_path)
        return _CLIENTS[key]


def _close_clients() -> None:
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            client.close()
        _CLIENTS.clear()


def where(settings: Settings) -> str:
    """How the messages name the Qdrant in use."""
    return (
        f"RAG_QDRANT_URL={settings.qdrant_url}"
        if settings.qdrant_url
        else f"RAG_QDRANT_PATH={settings.qdrant_path}"
    )


@contextlib.contextmanager
def reaching(place: str) -> Iterator[None]:
    """Qdrant's transport errors as one line naming the server or folder."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    try:
        yield
    except (ResponseHandlingException, UnexpectedResponse, OSError) as exc:
        raise ConfigError(f"cannot reach Qdrant at {place}: {exc}") from None


def connect(url: str = "", api_key: str = "", path: str = "") -> Any:
    """A qdrant-client for a server (`url`) or for local mode in a folder (`path`, ":memory:").

    Raises:
        ConfigError: neither given, or the local-mode folder is in use by another process.
    """
    try:
        from qdrant_client import QdrantClient
    except ImportError:  # pragma: no cover - the optional extra is missing
        raise ConfigError("RAG_BACKEND=qdrant needs qdrant-client: pip install -e '.[qdrant]'") from None
    if url:
        return QdrantClient(url=url, api_key=api_key or None)
    if not path:
        raise ConfigError("a migrated index needs RAG_QDRANT_URL (a server) or RAG_QDRANT_PATH (local mode)")
    if path == ":memory:":
        return QdrantClient(location=":memory:")
    if Path(path).exists() and not Path(path).is_dir():
        raise ConfigError(f"RAG_QDRANT_PATH={path}: not a folder")
    try:
        return QdrantClient(path=path)
    except RuntimeError as exc:  # local mode locks its folder for one client
        raise ConfigError(
            f"RAG_QDRANT_PATH={path}: in use by another process; local mode serves one process "
            "at a time (run a Qdrant server for more)"
        ) from exc
