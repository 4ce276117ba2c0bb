"""What a search backend must do, so that the retriever ranks the same way over any engine.

The retriever (rag.search.retrieve) owns fusion, date boosts, dedup and per-article
diversity; a backend only finds candidate rows and scores them. Today's embedded segments
(`rag.search.local.LocalBackend`) are the first implementation.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.index.embed import Embedder
from rag.index.manifest import Manifest
from rag.index.records import ArticleRecord, ChunkRecord, IndexedArticle
from rag.index.sentence_store import SentenceVectors
from rag.index.tokens import ChineseTokenizer
from rag.search.query import SearchFilters


@dataclass(frozen=True)
class Candidates:
    """Rows from the BM25 and the dense top lists, each with both raw scores and its day number.

    Both scores are given for every row (not only for the list that found it), so fusion
    compares like with like.
    """

    rows: np.ndarray  # int64, ascending
    lexical: np.ndarray  # float32 BM25 scores
    dense: np.ndarray  # float32 cosine similarities
    days: np.ndarray  # int32 day numbers (rag.index.days)


@dataclass(frozen=True, eq=False)
class ArticleRows:
    """Rows grouped by article, as arrays (a common phrase's rows span ~50k articles at 1M
    chunks, too many for an object each): group g is article `numbers[g]` of the backend's
    `article_table`, with rows `rows[bounds[g]:bounds[g + 1]]`, ascending."""

    numbers: np.ndarray  # int64, one per group, ascending
    rows: np.ndarray  # int64
    bounds: np.ndarray  # int64, one more than there are groups

    @classmethod
    def grouping(cls, numbers: np.ndarray, rows: np.ndarray) -> ArticleRows:
        """Group `rows` by the article number each has (`numbers`, one per row)."""
        order = np.lexsort((rows, numbers))
        numbers, rows = np.asarray(numbers, np.int64)[order], np.asarray(rows, np.int64)[order]
        if not len(rows):
            return cls(numbers, rows, np.zeros(1, dtype=np.int64))
        starts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1]])
        return cls(numbers[starts], rows, np.append(starts, len(rows)))


@dataclass(frozen=True)
class BackendStats:
    """What a backend holds, for `rag verify`, /healthz and the app's sidebar."""

    articles: int
    chunks: int
    first_date: date | None
    last_date: date | None
    parts: int = 1  # segments of a local index, shards of a server's collection


class OpenedVersion(Protocol):
    """What a search needs of an opened index version, wherever its vectors live."""

    folder: Path  # the version's folder: manifest and the index's own state
    manifest: Manifest
    tokenizer: ChineseTokenizer
    embedder: Embedder

    @property
    def size(self) -> int:
        """Rows a search can address: a local version counts deleted articles' rows too, a
        migrated one its live chunks only."""
        ...


class ArticleStore(Protocol):
    """Whole articles and their passages, for answers, the article browser and evaluation."""

    def article(self, article_id: str) -> IndexedArticle: ...

    def article_text(self, article_id: str) -> str: ...

    def article_chunks(self, article_id: str) -> list[ChunkRecord]: ...

    def category_names(self) -> list[str]: ...

    def live_articles(self) -> list[ArticleRecord]: ...

    def article_ids(self) -> list[str]:
        """Article ids for evaluation and calibration: by article number, deleted ones included,
        on a local version (`IndexVersion.chunk_article` indexes it); the live ones on Qdrant."""
        ...

    def chunk_column(self, column: str) -> list[str]: ...


class SearchBackend(Protocol):
    """Candidate search, records and corpus statistics over one index version."""

    # Whether every row `rows_with_all` gives holds every token for certain (64-bit term ids),
    # not possibly a token whose id collides with one (Qdrant's 32-bit sparse indices).
    exact_terms: bool

    def candidates(
        self, tokens: list[str], vector: np.ndarray, pool: int, filters: SearchFilters
    ) -> Candidates:
        """The union of the BM25 top-`pool` for `tokens` and the dense top-`pool` for `vector`,
        among passages that pass `filters`."""
        ...

    def records(self, rows: np.ndarray) -> list[ChunkRecord]:
        """Records of these rows, in the given order."""
        ...

    def texts(self, rows: np.ndarray) -> list[str]:
        """The texts of these rows, in the given order (a phrase check needs nothing else)."""
        ...

    def diversity_keys(self, rows: np.ndarray) -> tuple[Sequence[Hashable], Sequence[Hashable]]:
        """Per row, a key equal for reprints (`tokens.text_hash` of its text) and a key equal
        for passages of one article: what a ranking needs to show a text once and to spread
        its slots over articles, without fetching the records."""
        ...

    def sentence_vectors(self, chunks: list[tuple[str, str]]) -> list[SentenceVectors | None]:
        """For each (chunk id, text), the vectors the build stored for its sentences; None
        where none are stored (answers then embed the sentences they weigh)."""
        ...

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each token; unseen tokens get the maximum."""
        ...

    def known(self, tokens: list[str]) -> set[str]:
        """The tokens that occur somewhere in the corpus."""
        ...

    def rows_with_all(self, tokens: list[str]) -> np.ndarray:
        """Live rows whose text holds every token (exact phrase lookups start here)."""
        ...

    def article_table(self) -> Sequence[str]:
        """Article ids by the numbers `article_rows` groups by: the same for the backend's life."""
        ...

    def article_rows(self, rows: np.ndarray) -> ArticleRows:
        """These rows grouped by article, without fetching the records (phrase lookups count
        and verify articles, not rows)."""
        ...

    def chunk_counts(self) -> dict[str, int]:
        """Live chunks per article id."""
        ...

    def stats(self) -> BackendStats:
        """Counts and the date range of live articles."""
        ...
