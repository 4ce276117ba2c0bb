"""What the server answers with: one loaded index and router, swapped when a new version is published.

Requests keep the engine they started with; the first request after `rag build`/`rag add`
(checked at most once a second) opens the new version while others go on with the old one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag import store
from rag.catalog import Catalog
from rag.config import Settings
from rag.conversation import Conversation, Turn
from rag.embed import Embedder, load_embedder
from rag.retrieve import SearchIndex, open_index
from rag.router import Router

RELOAD_CHECK_S = 1.0
# Earlier turns of recent conversations, so a chat's next message does not re-answer them all.
CONVERSATIONS_KEPT = 256


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
        self._turns: OrderedDict[tuple, list[Turn]] = OrderedDict()
        self._turns_lock = threading.Lock()

    def _open(self) -> Loaded:
        index = open_index(self.settings.index, self.embedder)
        router = Router(index, self.settings)
        return Loaded(index.folder.name, index, router, router.context.catalog)

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

    def conversation(self, earlier: list[str], as_of: date | None, filters: dict) -> Conversation:
        """A conversation that has asked `earlier` (oldest first), ready for the next question.

        The turns of a conversation seen before are reused, so each message of a chat
        answers only itself, as in the app.
        """
        chat = Conversation(self.current().router, as_of=as_of)
        done = 0
        with self._turns_lock:
            for n in range(len(earlier), 0, -1):
                cached = self._turns.get(_turns_key(chat, earlier[:n], filters))
                if cached is not None:
                    chat.turns, done = list(cached), n
                    break
        for n in range(done, len(earlier)):
            chat.ask(earlier[n], **filters)
            self.remember(chat, earlier[: n + 1], filters)
        return chat

    def remember(self, chat: Conversation, questions: list[str], filters: dict) -> None:
        """Keep the turns of a conversation after `questions`, for its next message."""
        key = _turns_key(chat, questions, filters)
        with self._turns_lock:
            self._turns[key] = list(chat.turns)
            self._turns.move_to_end(key)
            while len(self._turns) > CONVERSATIONS_KEPT:
                self._turns.popitem(last=False)


def _turns_key(chat: Conversation, questions: list[str], filters: dict) -> tuple:
    version = chat.router.index.folder.name
    return (version, chat.as_of, repr(sorted(filters.items())), tuple(questions))
