"""Shared fixtures: the real seed corpus, the bundled models loaded once, a real index on disk."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.index import lock, store
from rag.index.build import build_index
from rag.index.embed import UsemEmbedder
from rag.search.retrieve import SearchIndex, open_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def usem() -> UsemEmbedder:
    return UsemEmbedder()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, usem) -> Path:
    """A real index of the five seed articles, built once for the session (read-only use)."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    build_index(Settings(corpus=SEEDS, index=index_dir), embedder=usem, log=lambda _: None)
    return index_dir


@pytest.fixture(scope="session")
def seed_index(seed_index_dir, usem) -> SearchIndex:
    return open_index(seed_index_dir, usem)


@pytest.fixture(scope="session")
def news_index(tmp_path_factory, usem) -> SearchIndex:
    """A real index of the 25 fictional news articles (tests/fixtures/NEWS.md), read-only use."""
    index_dir = tmp_path_factory.mktemp("news-index")
    build_index(Settings(corpus=FIXTURES / "news", index=index_dir), embedder=usem, log=lambda _: None)
    return open_index(index_dir, usem)


@pytest.fixture()
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the seeds, for tests that add, edit or delete files."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target, ignore=shutil.ignore_patterns("*.jsonl"))
    return target


@contextlib.contextmanager
def lock_held_elsewhere(index_dir: Path, release_after_s: float = 30.0) -> Iterator[None]:
    """Another build holding the index's lock (on another thread) until the block ends or
    `release_after_s` passes, whichever is first."""
    holding, release = threading.Event(), threading.Event()

    def other_build() -> None:
        with lock.build_lock(index_dir):
            holding.set()
            release.wait(release_after_s)

    other = threading.Thread(target=other_build)
    other.start()
    holding.wait(30)
    try:
        yield
    finally:
        release.set()
        other.join()


def live_segment(index_dir: Path) -> Path:
    """The folder of the live version's first segment (the seeds fit in one)."""
    manifest = store.read_manifest(store.current_version(index_dir))
    return store.segment_dir(index_dir, manifest.segments[0].name)
