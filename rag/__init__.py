"""Question answering over Chinese news: build an index, search it, ask it.

import rag
index = rag.open_index("index")
hits = index.search("东盟数字经济占GDP比重", k=5, filters=rag.SearchFilters.parse(since="2020-01-01"))
chat = rag.Conversation(index)
print(chat.ask("肖亚庆在二十国集团数字部长会议上说了什么？").answer)
print(chat.ask("他还说了什么？").answer)
"""

import importlib

# Where each public name lives; imported on first use, so `rag --help` or a command that
# needs only the index does not pay for the whole package (PEP 562).
_PUBLIC = {
    "Answer": "rag.answer.answers", "Answerer": "rag.answer.extractive", "Citation": "rag.answer.answers",
    "BuildReport": "rag.index.report", "build_index": "rag.index.build",
    "Settings": "rag.config", "load_settings": "rag.config",
    "Conversation": "rag.answer.conversation",
    "ConfigError": "rag.errors", "IndexLoadError": "rag.errors", "IngestError": "rag.errors",
    "QueryError": "rag.errors", "RagError": "rag.errors",
    "Hit": "rag.search.query", "SearchFilters": "rag.search.query", "SearchTuning": "rag.search.query",
    "SearchIndex": "rag.search.retrieve", "open_index": "rag.search.retrieve",
    "Router": "rag.answer.router",
}  # fmt: skip


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'rag' has no attribute '{name}'")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = [
    "Answer",
    "Answerer",
    "BuildReport",
    "Citation",
    "ConfigError",
    "Conversation",
    "Hit",
    "IndexLoadError",
    "IngestError",
    "QueryError",
    "RagError",
    "Router",
    "SearchFilters",
    "SearchIndex",
    "SearchTuning",
    "Settings",
    "build_index",
    "load_settings",
    "open_index",
]
