"""`rag serve`: the API on uvicorn, with the models and index loaded once per worker process."""

from __future__ import annotations

import os
import sys

import uvicorn
from fastapi import FastAPI

from rag.api.app import create_app
from rag.api.security import LOOPBACK, parse_keys
from rag.config import Settings, load_settings


def from_environment() -> FastAPI:
    """The app from `RAG_*` settings: what each worker process of `rag serve --workers N` runs."""
    return create_app(load_settings())


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
        uvicorn.run(create_app(settings), **options)
        return
    # Workers are separate processes that read their settings from the environment.
    os.environ.update({f"RAG_{name.upper()}": str(getattr(settings, name)) for name in _PASSED_ON})
    uvicorn.run("rag.api.server:from_environment", factory=True, workers=workers, **options)


_PASSED_ON = ("index", "corpus", "embedder", "top_k", "max_query_chars", "api_keys", "api_knowledge_id",
              "api_max_concurrent", "api_max_body_bytes", "api_max_messages", "api_max_conversation_chars",
              "llm_base_url", "llm_model", "llm_api_key", "llm_timeout_s")  # fmt: skip
