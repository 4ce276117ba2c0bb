"""`rag serve`: the API on uvicorn, with the models and index loaded once per worker process."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from rag.api.app import create_app
from rag.api.security import LOOPBACK, parse_keys
from rag.config import Settings, load_settings
from rag.errors import ConfigError
from rag.index.embed import load_embedder


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Nagle off on every connection. asyncio turns it off only for
    sockets whose protocol reads as TCP, and a listening socket handed to `--workers`
    processes reads as 0: each keep-alive reply then waited ~40 ms for a delayed ACK."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def app_for(settings: Settings) -> FastAPI:
    """The app with a one-thread model: a query is too small to share between cores, and
    concurrent requests (or worker processes) are the parallelism (measured in BENCHMARKS.md)."""
    return create_app(settings, load_embedder(settings.embedder, threads=1))


def from_environment() -> FastAPI:
    """The app from `RAG_*` settings: what each worker process of `rag serve --workers N` runs."""
    return app_for(load_settings())


def serve(settings: Settings, workers: int = 1, log_level: str = "info") -> None:
    """Serve until interrupted; listening beyond loopback without keys is warned about.

    One worker answers with one core (most of a question's work holds the GIL); each
    further worker loads its own copy of the model and index and uses another core.
    """
    if settings.api_host not in LOOPBACK and not parse_keys(settings.api_keys):
        print(
            f"warning: listening on {settings.api_host} without API keys: anyone who can reach this "
            "port can query the corpus; set RAG_API_KEYS",
            file=sys.stderr,
        )
    if workers > 1 and settings.qdrant_path:
        raise ConfigError(
            f"--workers {workers}: RAG_QDRANT_PATH (Qdrant's local mode) serves one process; "
            "use --workers 1 or a Qdrant server (RAG_QDRANT_URL)"
        )
    if workers > 1:
        # Workers are separate processes that read their settings from the environment.
        os.environ.update(
            {f"RAG_{f.name.upper()}": str(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
        )
        os.environ.update(
            {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        )
    uvicorn.run(
        app_for(settings) if workers == 1 else "rag.api.server:from_environment",
        factory=workers > 1,
        workers=workers,
        host=settings.api_host,
        port=settings.api_port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        http=NoDelayH11Protocol,
    )
