"""What both pages of the app answer from: the live index version, and a rebuild that runs
in the background while readers keep asking the version they have."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import streamlit as st

from rag.answer.router import Router
from rag.config import Settings, load_settings
from rag.errors import RagError
from rag.index import store
from rag.index.build import build_index
from rag.index.report import BuildReport
from rag.search.retrieve import SearchIndex, open_index


@st.cache_resource(show_spinner="正在加载索引和模型…")
def load_engine(index_dir: str, embedder: str, version: str) -> tuple[SearchIndex, Router]:
    """One index and router per process and index version, shared by all sessions."""
    del version  # part of the cache key only: a rebuilt index gets a fresh entry
    index = open_index(Path(index_dir), embedder, settings=load_settings())
    return index, Router(index)


def live_version(config: Settings) -> Path | None:
    """The live version's folder; None when there is none; a damaged pointer is shown in one
    line and stops the page."""
    try:
        return store.current_version(config.index)
    except RagError as exc:
        _unloadable(exc)


def live_engine(config: Settings) -> tuple[SearchIndex, Router] | None:
    """The engine of the live version; None (with the reason shown) when there is none."""
    version = live_version(config)
    if version is None:
        return None
    try:
        return load_engine(str(config.index), config.embedder, version.name)
    except RagError as exc:
        _unloadable(exc)


def _unloadable(exc: RagError) -> NoReturn:
    st.error(f"索引无法加载：{exc}")
    st.stop()


@dataclass
class Rebuild:
    """A full rebuild on a background thread: how far it got, and how it ended."""

    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    report: BuildReport | None = None
    error: str = ""
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def status(self) -> str:
        return progress_text("正在重建索引", self.done, self.total, time.monotonic() - self.started)


def progress_text(label: str, done: int, total: int, elapsed_s: float) -> str:
    """A build's progress for readers: articles done, rate and time left."""
    rate = done / max(elapsed_s, 1e-6)
    left = f"，约剩 {(total - done) / rate:.0f} 秒" if rate and total else ""
    return f"{label}：已处理 {done}/{total or '?'} 篇文章，{rate:.1f} 篇/秒{left}"


@st.cache_resource
def rebuilds() -> dict[str, Rebuild]:
    """The rebuild of each index folder in this process (one at a time per index)."""
    return {}


def start_rebuild(config: Settings) -> Rebuild:
    """Start re-embedding the whole corpus on a thread, unless one is running for this index."""
    key = str(Path(config.index).resolve())
    current = rebuilds().get(key)
    if current is not None and current.running:
        return current
    rebuild = Rebuild()

    def progress(done: int, total: int) -> None:
        rebuild.done, rebuild.total = done, total

    def run() -> None:
        try:
            rebuild.report = build_index(config, rebuild=True, progress=progress, log=lambda _: None)
        except RagError as exc:
            rebuild.error = str(exc)

    rebuild.thread = threading.Thread(target=run, name="rebuild", daemon=True)
    rebuilds()[key] = rebuild
    rebuild.thread.start()
    return rebuild


def rebuild_of(config: Settings) -> Rebuild | None:
    return rebuilds().get(str(Path(config.index).resolve()))
