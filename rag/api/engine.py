"""What the server answers with: one loaded index and router, swapped when a new version is published.

Requests keep the engine they started with; the first request after `rag build`/`rag add`
(checked at most once a second) opens the new version while others go on with the old one.
Recent conversations and answers are kept per version, so a chat's next message answers
only itself, and a question asked again (same filters, same earlier turns) is not worked
out twice; a new version starts afresh.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

from rag.answer.answers import Answer
from rag.answer.conversation import Conversation, Turn
from rag.answer.router import Router
from rag.config import Settings
from rag.index import store
from rag.index.embed import Embedder, load_embedder
from rag.search.catalog import Catalog
from rag.search.query import SearchFilters
from rag.search.retrieve import SearchIndex, open_index

RELOAD_CHECK_S = 1.0
CONVERSATIONS_KEPT = 256
ANSWERS_KEPT = 1024

Value = TypeVar("Value")


class Recent(Generic[Value]):
    """A thread-safe map that forgets its least recently used entries beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Value | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: tuple, value: Value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class Loaded:
    """One index version with the router and catalog over it."""

    version: str
    index: SearchIndex
    router: Router
    catalog: Catalog


class Engine:
    """The live index version for a long-running server; thread-safe."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or load_embedder(settings.embedder)
        self._loaded = self._open()
        self._checked = time.monotonic()
        self._reload_lock = threading.Lock()
        self._turns: Recent[list[Turn]] = Recent(CONVERSATIONS_KEPT)
        self.answers: Recent[Answer] = Recent(ANSWERS_KEPT)

    def _open(self) -> Loaded:
        index = open_index(self.settings.index, self.embedder, settings=self.settings)
        router = Router(index, self.settings)
        return Loaded(index.name, index, router, router.catalog)

    def current(self, force: bool = False) -> Loaded:
        """The live version: reopened when the index's pointer names another one."""
        if not force and time.monotonic() - self._checked < RELOAD_CHECK_S:
            return self._loaded
        # One request opens the new version; the others meanwhile answer with the old one.
        if not self._reload_lock.acquire(blocking=force):
            return self._loaded
        try:
            self._checked = time.monotonic()
            folder = store.current_version(Path(self.settings.index))
            if folder is not None and folder.name != self._loaded.version:
                self._loaded = self._open()
            return self._loaded
        finally:
            self._reload_lock.release()

    def ask(self, questions: list[str], scope: Scope) -> Answer:
        """The extractive answer to the last of `questions`, the earlier ones its conversation."""
        key = (self.current().version, scope, tuple(questions))
        answer = self.answers.get(key)
        if answer is None:
            chat = self.conversation(questions[:-1], scope)
            answer = chat.ask(questions[-1], scope.k, scope.filters)
            self.remember(chat, questions, scope)
            self.answers.put(key, answer)
        return answer

    def conversation(self, earlier: list[str], scope: Scope) -> Conversation:
        """A conversation that has asked `earlier` (oldest first), ready for the next question."""
        loaded = self.current()
        chat = Conversation(loaded.router, as_of=scope.as_of)
        done = 0
        for n in range(len(earlier), 0, -1):
            cached = self._turns.get((loaded.version, scope, tuple(earlier[:n])))
            if cached is not None:
                chat.turns, done = list(cached), n
                break
        for n in range(done, len(earlier)):
            chat.ask(earlier[n], scope.k, scope.filters)
            self.remember(chat, earlier[: n + 1], scope)
        return chat

    def remember(self, chat: Conversation, questions: list[str], scope: Scope) -> None:
        """Keep the turns of a conversation after `questions`, for its next message."""
        self._turns.put((chat.router.index.name, scope, tuple(questions)), list(chat.turns))


@dataclass(frozen=True)
class Scope:
    """What decides a conversation's answers besides its questions and the index version."""

    k: int | None
    filters: SearchFilters
    as_of: date | None
