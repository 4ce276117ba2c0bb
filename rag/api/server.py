"""`rag serve`: the API on uvicorn, with the models and index loaded once per worker process."""

from __future__ import annotations

import dataclasses
import os
import sys

import uvicorn
from fastapi import FastAPI

from rag.api.app import create_app
from rag.api.security import LOOPBACK, parse_keys
from rag.config import Settings, load_settings
from rag.embed import load_embedder


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
    options = {"host": settings.api_host, "port": settings.api_port, "log_level": log_level,
               "timeout_graceful_shutdown": 5}  # fmt: skip
    if workers == 1:
        uvicorn.run(app_for(settings), **options)
        return
    # Workers are separate processes that read their settings from the environment.
    os.environ.update(
        {f"RAG_{f.name.upper()}": str(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    )
    os.environ.update({name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    uvicorn.run("rag.api.server:from_environment", factory=True, workers=workers, **options)
