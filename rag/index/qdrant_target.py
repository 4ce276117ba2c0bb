"""The collections of a Qdrant index as one build changes them: what the live version holds,
the points a build writes and retires as the next generation, the counts kept beside the
manifest, and the publishing that makes that generation the live version."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.calibration import BM25Parameters
from rag.config import Settings
from rag.errors import IngestError
from rag.index import store
from rag.index.days import NO_DAY, day_number
from rag.index.lexical import LexicalSegment
from rag.index.live import LiveArticle, LiveVersion
from rag.index.qdrant_connect import reaching, shared_client, where
from rag.index.qdrant_layout import (
    DENSE,
    RETIRED,
    RETIRER,
    SPARSE,
    WRITER,
    article_payload,
    chunk_payload,
    read_state,
    sparse_vector,
    state_files,
    visible,
)
from rag.index.records import ChunkRecord, IndexedArticle, SourceFile
from rag.index.segment import PreparedArticle
from rag.index.tokens import text_hash

BATCH = 256  # points per upsert, each acknowledged (wait=True) before the next
PAGE = 1000  # points per scroll page


def updated_doc_freq(
    terms: np.ndarray, doc_freq: np.ndarray, change: Counter[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted term ids and document frequencies after adding `change` (terms reaching 0 go)."""
    merged = Counter(dict(zip(terms.tolist(), doc_freq.tolist(), strict=True)))
    merged.update(change)
    kept = sorted(t for t, n in merged.items() if n > 0)
    return np.asarray(kept, dtype=np.uint32), np.asarray([merged[t] for t in kept], dtype=np.int64)


class QdrantTarget:
    """The live Qdrant version's collections and counts, as one build changes them."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.client, self.place = shared_client(settings), where(settings)
        self.manifest = store.read_manifest(folder)
        self.state, self.terms, self.doc_freq = read_state(folder)
        if self.state.generation is None:
            raise IngestError(
                f"{folder.parent.parent}: migrated before builds could write into Qdrant; "
                "run `rag migrate` once more from the local index"
            )
        self.live_generation = self.state.generation
        self.generation = self.live_generation + 1  # what this build writes
        self.frequency_change: Counter[int] = Counter()
        self.articles = self.manifest.articles
        self.writer = uuid.uuid4().hex  # marks what this build adds and retires
        with reaching(self.place):
            collections = (self.state.chunks, self.state.articles)
            missing = [c for c in collections if not self.client.collection_exists(c)]
        if missing:
            raise IngestError(
                f"{folder.parent.parent}: Qdrant at {self.place} has no collection '{missing[0]}'; point "
                "RAG_QDRANT_* where this index was migrated"
            )

    @property
    def chunks(self) -> int:
        """Live chunks once this build publishes."""
        return sum(self.state.chunk_counts.values())

    def start_over(self) -> None:
        """Count from nothing: a build that replaces every article (its old points are retired
        without being counted off, so counts that went wrong are made right)."""
        state = self.state
        state.chunk_counts, state.day_counts, state.category_counts = {}, {}, {}
        self.articles, self.frequency_change = 0, Counter()
        self.terms, self.doc_freq = np.zeros(0, np.uint32), np.zeros(0, np.int64)

    def _filter(self, *conditions: Any) -> Any:
        from qdrant_client import models

        return models.Filter(must=list(conditions))

    def _scroll(
        self, collection: str, query_filter: Any, payload: list[str], vectors: Any = False
    ) -> Iterator[Any]:
        offset = None
        with reaching(self.place):
            while True:
                page, offset = self.client.scroll(
                    collection, scroll_filter=query_filter, limit=PAGE, offset=offset,
                    with_payload=payload, with_vectors=vectors,
                )  # fmt: skip
                yield from page
                if offset is None:
                    return

    def live(self, only: tuple[list[str], list[str]] | None = None) -> LiveVersion:
        """The live articles (all, or those with these ids or content hashes) and their files."""
        from qdrant_client import models

        query = self._filter(*visible(self.live_generation))
        if only is not None:
            query.should = [
                models.FieldCondition(key=key, match=models.MatchAny(any=values))
                for key, values in zip(("article_id", "content_hash"), only, strict=True)
                if values
            ]
            if not query.should:
                return LiveVersion()
        fields = ["article_id", "content_hash", "source_size", "source_mtime_ns"]
        articles = {
            p.payload["article_id"]: LiveArticle(
                -1,
                int(p.id),
                p.payload["content_hash"],
                p.payload["source_size"],
                p.payload["source_mtime_ns"],
            )
            for p in self._scroll(self.state.articles, query, fields)
        }
        return LiveVersion(articles=articles)

    def add(self, items: list[PreparedArticle], bm25: BM25Parameters) -> None:
        """Write these articles' points as this build's generation; BM25's length normalisation
        is over this batch, as a local build's is over its new segment."""
        lexical = LexicalSegment.build([terms for item in items for terms in item.terms], bm25.k1, bm25.b)
        rows, hashes, tf_part = lexical.row_postings()
        bounds = np.searchsorted(rows, np.arange(lexical.size + 1))
        sparse = (sparse_vector(hashes[bounds[r] : bounds[r + 1]], tf_part[bounds[r] : bounds[r + 1]])
                  for r in range(lexical.size))  # fmt: skip
        chunk_points, article_points = [], []
        for item in items:
            number, row = self.state.next_article, item.article
            self.state.next_article += 1
            article = IndexedArticle.from_row(number, row)
            source = SourceFile(row["content_hash"], row.get("source_size"), row.get("source_mtime_ns"))
            day = day_number(row.get("display_date"))
            for chunk, vector in zip(item.chunks, np.asarray(item.vectors), strict=True):
                chunk_points.append(self._chunk_point(article, day, chunk, vector, next(sparse)))
            self._tally_article(article.categories, +1)
            self._tally_chunks(article.article_id, day, len(item.chunks))
            payload = {**article_payload(article, source, self.generation), WRITER: self.writer}
            article_points.append(self._point(number, {}, payload))
        self._upsert(self.state.chunks, chunk_points)
        self._upsert(self.state.articles, article_points)

    def _chunk_point(
        self, article: IndexedArticle, day: int, chunk: dict, vector: np.ndarray, sparse: tuple
    ) -> Any:
        from qdrant_client import models

        record = ChunkRecord(chunk["chunk_id"], article.article_id, article.title, article.date,
                             chunk["paragraph"], chunk["start"], chunk["end"], chunk["text"])  # fmt: skip
        payload = chunk_payload(
            record, day, text_hash(record.text), list(article.categories), self.generation
        )
        payload[WRITER] = self.writer
        indices, values = sparse
        self.frequency_change.update(indices.tolist())
        vectors = {DENSE: vector.tolist(),
                   SPARSE: models.SparseVector(indices=indices.tolist(), values=values.tolist())}  # fmt: skip
        point_id = self.state.next_point
        self.state.next_point += 1
        return self._point(point_id, vectors, payload)

    def _point(self, point_id: int, vectors: dict, payload: dict) -> Any:
        from qdrant_client import models

        return models.PointStruct(id=point_id, vector=vectors, payload=payload)

    def _upsert(self, collection: str, points: list[Any]) -> None:
        with reaching(self.place):
            for start in range(0, len(points), BATCH):
                self.client.upsert(collection, points=points[start : start + BATCH], wait=True)

    def _tally_article(self, categories: Iterable[str], sign: int) -> None:
        self.articles += sign
        for category in categories:
            _add_count(self.state.category_counts, category, sign)

    def _tally_chunks(self, article_id: str, day: int, chunks: int) -> None:
        """Counts after `chunks` chunks of an article come (> 0) or go (< 0); zeros are dropped."""
        _add_count(self.state.chunk_counts, article_id, chunks)
        if day != NO_DAY:
            _add_count(self.state.day_counts, day, chunks)

    def retire(self, article_ids: list[str] | None) -> None:
        """Retire the live points of these articles, counted off (None: every live point, after
        `start_over`)."""
        from qdrant_client import models

        conditions = visible(self.live_generation)
        if article_ids is not None:
            if not article_ids:
                return
            conditions.append(models.FieldCondition(key="article_id", match=models.MatchAny(any=article_ids)))
        query = self._filter(*conditions)
        if article_ids is not None:
            self._count_off(query)
        with reaching(self.place):
            for collection in (self.state.chunks, self.state.articles):
                retired = {RETIRED: self.generation, RETIRER: self.writer}
                self.client.set_payload(collection, retired, points=query, wait=True)

    def _count_off(self, query: Any) -> None:
        for point in self._scroll(self.state.articles, query, ["categories"]):
            self._tally_article(point.payload["categories"], -1)
        for point in self._scroll(self.state.chunks, query, ["article_id", "day"], [SPARSE]):
            self._tally_chunks(point.payload["article_id"], int(point.payload["day"]), -1)
            self.frequency_change.subtract(point.vector[SPARSE].indices)

    def publish(self, index_dir: Path, manifest_changes: dict) -> str:
        """Make this generation the live version (its manifest and state in a new version folder)."""
        terms, doc_freq = updated_doc_freq(self.terms, self.doc_freq, self.frequency_change)
        self.state.generation = self.generation
        manifest = dataclasses.replace(
            self.manifest, articles=self.articles, chunks=self.chunks,
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **manifest_changes,
        )  # fmt: skip
        return store.publish_version(index_dir, manifest, state_files(self.state, terms, doc_freq)).name


def _add_count(table: dict[Any, int], key: Any, change: int) -> None:
    table[key] = table.get(key, 0) + change
    if not table[key]:
        del table[key]
