"""One published index version, loaded and verified: its segments, and where each row lives.

Rows (and article numbers) are numbered segment after segment; articles deleted since a
segment was written are masked out (`alive`). Everything that maps a global row or article
number to its segment is here, so the record store and the search backend share one lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

from rag.errors import IndexDamaged, IndexLoadError
from rag.index import segment_files, store
from rag.index.days import NO_DAY, day_date
from rag.index.embed import Embedder, embedding_identity, load_embedder
from rag.index.manifest import Manifest
from rag.index.schema import check_deleted
from rag.index.segment import Segment, joined, rows_by_segment
from rag.index.tokens import TOKENIZER_VERSION, ChineseTokenizer

# Vector indexes are read on this many threads: faiss releases the GIL while reading
# (docs/BENCHMARKS.md, "Measurements behind constants").
LOAD_THREADS = 4


class _Background(threading.Thread):
    """Run a function on a thread; `join` re-raises what it raised."""

    def __init__(self, function: Callable[[], object]) -> None:
        super().__init__(name="rag-warm-up", daemon=True)
        self._function = function
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._function()
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self._error is not None:
            raise self._error


class IndexVersion:
    """A loaded version folder: manifest, tokenizer, embedder, segments and row bookkeeping."""

    def __init__(self, folder: Path, embedder: Embedder | str, full_verify: bool = False) -> None:
        """`embedder`: the model, or its name to load it here while jieba loads."""
        self.folder = folder
        self.manifest = store.read_manifest(folder)
        self.tokenizer = tokenizer_of(self.manifest)
        # jieba's dictionaries load (a second of Python) while this thread loads the model and
        # reads the segments (the model's array copies, file reads and hashing release the GIL).
        warm = _Background(lambda: self.tokenizer("预热"))
        try:
            if isinstance(embedder, str):
                embedder = load_embedder(embedder)
            self.segments = self._read_segments(embedder, full_verify)
            self.embedder = embedder
        finally:
            warm.join()
        self.row_offsets = np.cumsum([0] + [s.size for s in self.segments])
        self.article_offsets = np.cumsum([0] + [s.article_count for s in self.segments])
        self.chunk_article = joined(
            [
                np.asarray(s.chunk_article) + a
                for s, a in zip(self.segments, self.article_offsets, strict=False)
            ]
        )
        self.chunk_day = joined([np.asarray(s.chunk_day) for s in self.segments])
        self.chunk_text_hash = joined([np.asarray(s.chunk_text_hash) for s in self.segments], np.int64)
        self.deleted_articles = np.asarray(
            [a + int(n) for e, a in zip(self.manifest.segments, self.article_offsets, strict=False)
             for n in e.deleted],
            dtype=np.int32,
        )  # fmt: skip
        self.alive = (
            None if not self.deleted_articles.size else ~np.isin(self.chunk_article, self.deleted_articles)
        )
        live = self.size - (0 if self.alive is None else int((~self.alive).sum()))
        if live != self.manifest.chunks:
            raise IndexDamaged(f"{folder}: {live} live chunks, the manifest says {self.manifest.chunks}")

    def _read_segments(self, embedder: Embedder, full_verify: bool) -> list[Segment]:
        folders = [store.segment_dir(self.folder.parent.parent, e.name) for e in self.manifest.segments]
        with ThreadPoolExecutor(LOAD_THREADS, thread_name_prefix="load") as pool:
            # Memory maps, SQLite and checksums of small files: cold reads, in parallel.
            segments = list(pool.map(lambda path: Segment(path, full_verify), folders))
            for entry, segment in zip(self.manifest.segments, segments, strict=True):
                check_deleted(entry, segment.description, self.folder / "manifest.json")
            # The vector indexes (most of the bytes) are read while the embedder is checked.
            reads = [pool.submit(segment.read_dense) for segment in segments]
            try:
                check_embedder(self.manifest, embedder, self.folder)
            except BaseException:
                for read in reads:
                    read.cancel()
                raise
            for read in reads:
                read.result()
        return segments

    @property
    def name(self) -> str:
        """The version's folder name: what caches and API responses call the version."""
        return self.folder.name

    @property
    def size(self) -> int:
        """Rows, including those of deleted articles (which searches never return)."""
        return int(self.row_offsets[-1])

    @property
    def article_slots(self) -> int:
        """Article numbers, including deleted ones."""
        return int(self.article_offsets[-1])

    def all_vectors(self) -> np.ndarray:
        """Every row's stored vector in one array (evaluation and benchmarks, small indexes)."""
        return np.concatenate([np.asarray(s.vectors, dtype=np.float32) for s in self.segments])

    def live_days(self) -> np.ndarray:
        """The day number of every live, dated row."""
        days = self.chunk_day if self.alive is None else self.chunk_day[self.alive]
        return days[days != NO_DAY]

    def date_range(self) -> tuple[date | None, date | None]:
        """The first and the last date of a live article."""
        dated = self.live_days()
        return (day_date(int(dated.min())), day_date(int(dated.max()))) if dated.size else (None, None)

    def by_segment(self, rows: np.ndarray) -> Iterator[tuple[Segment, np.ndarray, np.ndarray]]:
        """For each segment holding some of these global rows: the segment, which positions of
        `rows` it holds, and their local row numbers."""
        for s, positions, local in rows_by_segment(self.row_offsets, rows):
            yield self.segments[s], positions, local

    def article_owner(self, article_num: int) -> tuple[Segment, int]:
        """The segment of a global article number, and the number within it."""
        s = int(np.searchsorted(self.article_offsets, article_num, side="right") - 1)
        return self.segments[s], int(article_num) - int(self.article_offsets[s])

    def segment_articles(self) -> Iterator[tuple[Segment, int]]:
        """Each segment with the global number of its first article."""
        yield from zip(self.segments, (int(a) for a in self.article_offsets), strict=False)


def check_embedder(manifest: Manifest, embedder: Embedder, folder: Path) -> None:
    """The model asked for must be the one that built the index.

    Raises:
        IndexLoadError: naming both models and the fix.
    """
    built_with = manifest.embedder
    with segment_files.LOAD_LOCK:  # the model reads its weights with np.load on first use
        asked = embedding_identity(embedder)
    if built_with != asked:
        raise IndexLoadError(
            f"{folder}: index built with embedder '{built_with['name']}' (dim {built_with['dim']}), "
            f"you asked for '{asked['name']}' (dim {asked['dim']}); "
            "run `rag build --rebuild` or set RAG_EMBEDDER to the model that built it"
        )


def tokenizer_of(manifest: Manifest) -> ChineseTokenizer:
    """The tokenizer the index was built with (its settings are in the manifest).

    Raises:
        IndexLoadError: built by another tokenizer version.
    """
    settings = manifest.pipeline.get("tokenizer", {})
    if settings.get("version") != TOKENIZER_VERSION:
        raise IndexLoadError(
            f"index tokenised with tokenizer version {settings.get('version')}, this release uses "
            f"{TOKENIZER_VERSION}; run `rag build` to update it"
        )
    user_dict = settings.get("user_dict") or None
    return ChineseTokenizer(
        bigrams=settings.get("bigrams", True), user_dict=Path(user_dict) if user_dict else None
    )
