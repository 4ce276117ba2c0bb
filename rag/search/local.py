"""The search backend over this project's own index segments: BM25 postings and FAISS
indexes in memory-mapped files, filters as boolean masks over rows."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence

import numpy as np

from rag.index.days import NO_DAY
from rag.index.lexical import LexicalIndex
from rag.index.lexical_top import lexical_top
from rag.index.records import ChunkRecord, RecordStore
from rag.index.segment import MultiDense
from rag.index.sentence_store import SentenceVectors
from rag.index.tokens import text_hash
from rag.index.version import IndexVersion
from rag.search.backend import ArticleRows, BackendStats, Candidates
from rag.search.query import SearchFilters


class LocalBackend:
    """`SearchBackend` over a loaded `IndexVersion` (thread-safe for concurrent searches)."""

    exact_terms = True

    def __init__(
        self, version: IndexVersion, records: RecordStore, lexical: LexicalIndex | None = None
    ) -> None:
        self.version, self._records = version, records
        self.dense = MultiDense(version.segments, version.row_offsets)
        self.lexical = lexical or LexicalIndex([s.lexical for s in version.segments])

    def allowed(self, filters: SearchFilters) -> np.ndarray | None:
        """Rows that pass the filters, as a mask over all rows (None: every row)."""
        version = self.version
        mask = None if version.alive is None else version.alive.copy()
        low, high = filters.day_bounds
        if low is not None or high is not None:
            days = version.chunk_day
            in_range = days != NO_DAY
            if low is not None:
                in_range &= days >= low
            if high is not None:
                in_range &= days <= high
            mask = in_range if mask is None else mask & in_range
        if filters.article_ids or filters.categories:
            chosen = self._records.article_numbers(filters.article_ids, filters.categories)
            in_set = np.isin(version.chunk_article, chosen)
            mask = in_set if mask is None else mask & in_set
        return mask

    def candidates(
        self, tokens: list[str], vector: np.ndarray, pool: int, filters: SearchFilters
    ) -> Candidates:
        allowed = self.allowed(filters)
        dense_pending = self.dense.start(vector, pool, allowed)  # runs while BM25 scores
        lexical = lexical_top(self.lexical, tokens, pool, allowed)
        dense_ids, _ = dense_pending()
        rows = np.union1d(dense_ids, lexical.rows).astype(np.int64)
        return Candidates(
            rows,
            lexical.at(rows),
            self.dense.scores(vector, rows),
            self.version.chunk_day[rows],
        )

    def records(self, rows: np.ndarray) -> list[ChunkRecord]:
        return self._records.chunks(rows)

    def texts(self, rows: np.ndarray) -> list[str]:
        return self._records.chunk_texts(rows)

    def diversity_keys(self, rows: np.ndarray) -> tuple[Sequence[Hashable], Sequence[Hashable]]:
        version = self.version  # both stored by the build, one entry per row
        return version.chunk_text_hash[rows].tolist(), version.chunk_article[rows].tolist()

    def sentence_vectors(self, chunks: list[tuple[str, str]]) -> list[SentenceVectors | None]:
        version = self.version
        found: list[SentenceVectors | None] = [None] * len(chunks)
        if not chunks:
            return found
        wanted: dict[str, list[int]] = {}
        for position, (chunk_id, _) in enumerate(chunks):
            wanted.setdefault(chunk_id, []).append(position)
        sql = f"SELECT row, chunk_id FROM chunks WHERE chunk_id IN ({','.join('?' * len(wanted))})"
        for segment, offset in zip(version.segments, version.row_offsets[:-1], strict=True):
            rows = segment.query(sql, list(wanted))
            for row, chunk_id in rows:
                alive = version.alive is None or version.alive[offset + row]
                for position in wanted[chunk_id]:
                    # The row of this very text: a chunk id can name a replaced article's text.
                    if alive and version.chunk_text_hash[offset + row] == text_hash(chunks[position][1]):
                        found[position] = segment.sentences(row)
        return found

    def idf(self, tokens: list[str]) -> dict[str, float]:
        return self.lexical.idf(tokens)

    def known(self, tokens: list[str]) -> set[str]:
        return self.lexical.known(tokens)

    def rows_with_all(self, tokens: list[str]) -> np.ndarray:
        rows = self.lexical.rows_with_all(tokens)
        return rows if self.version.alive is None else rows[self.version.alive[rows]]

    def article_table(self) -> Sequence[str]:
        return self._article_ids

    def article_rows(self, rows: np.ndarray) -> ArticleRows:
        rows = np.asarray(rows, dtype=np.int64)
        return ArticleRows.grouping(self.version.chunk_article[rows], rows)

    @functools.cached_property
    def _article_ids(self) -> list[str]:  # by article number, read once per loaded version
        return self._records.article_ids()

    def chunk_counts(self) -> dict[str, int]:
        return self._records.chunk_counts()

    def stats(self) -> BackendStats:
        first, last = self.version.date_range()
        manifest = self.version.manifest
        return BackendStats(manifest.articles, manifest.chunks, first, last, len(self.version.segments))
