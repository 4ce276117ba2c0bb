"""The HTTP API (`rag serve`): OpenAI-compatible chat, search, Dify retrieval and articles."""

from rag.api.app import create_app

__all__ = ["create_app"]
