"""One immutable slice of the index: its articles' metadata, vectors, FAISS index and BM25 postings.

A build streams prepared articles into a `SegmentWriter`, which writes metadata rows to
SQLite as they come and keeps only this segment's vectors and term counts in memory, so
a build's memory is bounded by the segment size, not by the corpus.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.calibration import BM25Parameters
from rag.errors import IndexDamaged, IndexLoadError
from rag.index import segment_files, store
from rag.index.days import day_number
from rag.index.dense import DenseIndex
from rag.index.lexical import LexicalSegment, TermCounts
from rag.index.sentence_store import SentenceVectors, StoredSentences, save_sentences
from rag.index.tokens import chunk_terms, text_hash


@dataclass
class PreparedArticle:
    """An article ready for a segment: its row, its chunk rows, their term counts and vectors."""

    article: dict  # segment_files.ARTICLE_COLUMNS except "num"
    chunks: list[dict]  # chunk_id, paragraph, start, end, text
    terms: list[TermCounts] = field(default_factory=list)
    vectors: np.ndarray | None = None
    sentences: list[SentenceVectors | None] | None = None  # per chunk, when the embedder gives them


class SegmentWriter:
    """Writes one segment into a staging folder; `finish` returns its description."""

    def __init__(self, folder: Path, dim: int, bm25: BM25Parameters, exact_limit: int) -> None:
        self.folder = folder
        self.files = segment_files.SegmentFiles(folder)
        self._dim, self._bm25, self._exact_limit = dim, bm25, exact_limit
        self._db = segment_files.create_metadata_db(self.files.metadata)
        self._vectors: list[np.ndarray] = []
        self._terms: list[TermCounts] = []
        self._chunk_article: list[np.ndarray] = []
        self._chunk_day: list[np.ndarray] = []
        self._chunk_text_hash: list[np.ndarray] = []
        self._sentences: list[SentenceVectors] = []
        self.articles = 0
        self.chunks = 0

    def add(self, item: PreparedArticle) -> None:
        n = len(item.chunks)
        sentences = item.sentences if item.sentences is not None else [None] * n
        if item.vectors is None or len(item.vectors) != n or len(item.terms) != n or len(sentences) != n:
            raise IndexLoadError(f"internal error: {item.article['article_id']} lacks vectors or terms")
        num = self.articles
        self._db.execute(
            f"INSERT INTO articles ({', '.join(segment_files.ARTICLE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(segment_files.ARTICLE_COLUMNS))})",
            [num if c == "num" else item.article.get(c) for c in segment_files.ARTICLE_COLUMNS],
        )
        self._db.executemany(
            'INSERT INTO chunks (row, chunk_id, article_num, paragraph, start, "end", text) '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (self.chunks + i, c["chunk_id"], num, c["paragraph"], c["start"], c["end"], c["text"])
                for i, c in enumerate(item.chunks)
            ],
        )
        self._vectors.append(np.asarray(item.vectors, dtype=np.float32))
        self._terms.extend(item.terms)
        self._chunk_article.append(np.full(n, num, dtype=np.int32))
        self._chunk_day.append(np.full(n, day_number(item.article.get("display_date")), dtype=np.int32))
        self._chunk_text_hash.append(np.array([text_hash(c["text"]) for c in item.chunks], dtype=np.int64))
        empty = SentenceVectors.empty(self._dim)
        self._sentences += [found or empty for found in sentences]
        self.articles += 1
        self.chunks += n

    def finish(self) -> dict:
        """Write arrays, the vector index and the postings; free the buffers."""
        self._db.commit()
        self._db.close()
        vectors = (
            np.concatenate(self._vectors) if self._vectors else np.zeros((0, self._dim), dtype=np.float32)
        )
        self._vectors.clear()
        segment_files.save_array(self.files.vectors, vectors)
        segment_files.save_array(self.files.chunk_article, joined(self._chunk_article))
        segment_files.save_array(self.files.chunk_day, joined(self._chunk_day))
        segment_files.save_array(self.files.chunk_text_hash, joined(self._chunk_text_hash, np.int64))
        save_sentences(self.files, self._sentences, self._dim)
        self._sentences.clear()
        dense = DenseIndex.build(vectors, self._exact_limit)
        dense.save(self.files.dense)
        recall = dense.recall_at_10(vectors)
        del vectors
        LexicalSegment.build(self._terms, self._bm25.k1, self._bm25.b).save(self.files.bm25)
        self._terms.clear()
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "dense": {**dense.describe(), "recall_at_10": round(recall, 4)},
        }

    def abort(self) -> None:
        self._db.close()


def joined(parts: list[np.ndarray], dtype: type = np.int32) -> np.ndarray:
    """Per-row arrays one after another, as `dtype` (empty when there are none)."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


class Segment:
    """A loaded, verified segment (read-only; safe to share between threads)."""

    def __init__(self, folder: Path, full_verify: bool = False) -> None:
        self.folder = folder
        self.name = folder.name
        self.description = store.read_segment(folder)
        segment_files.verify_files(folder, self.description["files"], full=full_verify)
        files = segment_files.SegmentFiles(folder)
        self.vectors = segment_files.load_array(files.vectors)
        self.chunk_article = segment_files.load_array(files.chunk_article)
        self.chunk_day = segment_files.load_array(files.chunk_day)
        self.lexical = LexicalSegment.load(files.bm25)
        self._db = segment_files.open_metadata_db(files.metadata)
        self._db_lock = threading.Lock()
        self._dense: DenseIndex | None = None
        self._dense_lock = threading.Lock()
        self.chunk_text_hash = (
            segment_files.load_array(files.chunk_text_hash)
            if files.chunk_text_hash.name in self.description["files"]
            else self._hashed_texts()  # written before builds stored them: `rag build --rebuild` does
        )
        self._check_count(
            {len(self.vectors), len(self.chunk_article), len(self.chunk_day), len(self.chunk_text_hash),
             self.lexical.size}
        )  # fmt: skip
        self._sentences = StoredSentences.load(files, self.description["files"], self.size)

    def sentences(self, row: int) -> SentenceVectors | None:
        """The stored sentence vectors of one of this segment's rows (None when none are stored)."""
        return None if self._sentences is None else self._sentences.of(row)

    def _hashed_texts(self) -> np.ndarray:
        with self._db_lock:
            texts = self._db.execute("SELECT text FROM chunks ORDER BY row").fetchall()
        return np.array([text_hash(text) for (text,) in texts], dtype=np.int64)

    def _check_count(self, counts: set[int]) -> None:
        if counts != {self.description["chunks"]}:
            raise IndexDamaged(
                f"{self.folder}: vector, chunk and BM25 counts differ {sorted(counts | {self.size})}"
            )

    @property
    def dense(self) -> DenseIndex:
        """The vector index, read on first use (see `read_dense`)."""
        return self.read_dense()

    def read_dense(self) -> DenseIndex:
        """Read the vector index once: most of a segment's bytes, read with the GIL released,
        so start-up reads several segments on threads while it loads the model. Merging
        segments never needs it."""
        with self._dense_lock:
            if self._dense is None:
                dense = DenseIndex.load(segment_files.SegmentFiles(self.folder).dense)
                self._check_count({dense.size})
                self._dense = dense
            return self._dense

    @property
    def size(self) -> int:
        return int(self.description["chunks"])

    @property
    def article_count(self) -> int:
        return int(self.description["articles"])

    def query(self, sql: str, parameters: list | tuple = ()) -> list[sqlite3.Row]:
        with self._db_lock:
            return self._db.execute(sql, parameters).fetchall()

    def prepared_articles(
        self, nums: set[int], tokenize: Callable[[str], list[str]]
    ) -> list[PreparedArticle]:
        """Articles of this segment rebuilt as PreparedArticle (for merging segments).

        Term counts come from the stored postings; `tokenize` is used only for segments
        written before raw counts were stored.
        """
        stored = self.lexical.term_counts()
        prepared = []
        for row in self.query(
            f"SELECT {', '.join(segment_files.ARTICLE_COLUMNS)} FROM articles ORDER BY num"
        ):
            if row["num"] not in nums:
                continue
            chunks = [
                dict(c)
                for c in self.query(
                    'SELECT row, chunk_id, paragraph, start, "end", text FROM chunks '
                    "WHERE article_num = ? ORDER BY row",
                    [row["num"]],
                )
            ]
            if stored is not None:
                terms = [stored[c["row"]] for c in chunks]
            else:
                terms = [
                    TermCounts.of(t) for t in chunk_terms(tokenize, row["title"], [c["text"] for c in chunks])
                ]
            prepared.append(
                PreparedArticle(
                    article={k: row[k] for k in segment_files.ARTICLE_COLUMNS if k != "num"},
                    chunks=[{k: v for k, v in c.items() if k != "row"} for c in chunks],
                    terms=terms,
                    vectors=np.asarray(self.vectors[[c["row"] for c in chunks]], dtype=np.float32),
                    sentences=[self.sentences(c["row"]) for c in chunks],
                )
            )
        return prepared


class MultiDense:
    """Vector search over every segment, with rows numbered segment after segment.

    Segments are searched on a small thread pool, one FAISS thread each (FAISS releases
    the GIL), while the calling thread scores BM25.
    """

    def __init__(self, segments: list[Segment], offsets: np.ndarray) -> None:
        self._segments, self._offsets = segments, offsets
        workers = min(len(segments), os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="dense") if workers > 1 else None

    @property
    def size(self) -> int:
        return int(self._offsets[-1])

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, scores) over all segments; `allowed` is a mask over all rows."""
        return self.start(query, k, allowed)()

    def start(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        """Begin `search` on the thread pool; calling the result waits for (rows, scores).

        The caller scores BM25 meanwhile, so the two halves of a hybrid search overlap.
        """

        def one(position: int) -> tuple[np.ndarray, np.ndarray]:
            segment, start = self._segments[position], int(self._offsets[position])
            mask = None if allowed is None else allowed[start : start + segment.size]
            ids, found = segment.dense.search(query, k, mask)
            return ids + start, found

        positions = range(len(self._segments))
        futures = [self._pool.submit(one, p) for p in positions] if self._pool else None

        def finish() -> tuple[np.ndarray, np.ndarray]:
            results = [f.result() for f in futures] if futures else [one(p) for p in positions]
            rows_all = np.concatenate([r for r, _ in results])
            scores_all = np.concatenate([s for _, s in results])
            best = np.argsort(-scores_all, kind="stable")[:k]
            return rows_all[best], scores_all[best]

        return finish

    def scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Dense scores of the query for these global rows (see `DenseIndex.scores`)."""
        out = np.empty(len(rows), dtype=np.float32)
        for s, positions, local in rows_by_segment(self._offsets, rows):
            out[positions] = self._segments[s].dense.scores(query, local)
        return out


def rows_by_segment(offsets: np.ndarray, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For each segment holding some of these global rows (numbered segment after segment, from
    `offsets`): its position, which positions of `rows` it holds, and their local row numbers."""
    rows = np.asarray(rows, dtype=np.int64)
    owner = np.searchsorted(offsets, rows, side="right") - 1
    for s in np.unique(owner):
        positions = np.flatnonzero(owner == s)
        yield int(s), positions, rows[positions] - int(offsets[s])
