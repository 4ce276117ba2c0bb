"""BM25 over Chinese tokens, in segments that share one set of corpus statistics.

A segment stores, for each term, the chunks that contain it (CSC postings) and the
term-frequency part of Lucene's BM25, tf / (tf + k1·(1 − b + b·len/avg_len)), but not the
IDF: the IDF is applied at query time from the document frequencies of all segments
together, so an index made of one large segment and a few small added ones ranks like a
single index. (bm25s, used as the reference in the tests, bakes the IDF into its matrix,
which would freeze each segment's own statistics.) Terms are 64-bit xxh3 hashes kept in a
sorted array, so a vocabulary lookup is a binary search in a memory-mapped file rather
than a dictionary of millions of strings read at start-up.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import xxhash

from rag.errors import IndexDamaged, IndexLoadError
from rag.index.segment_files import load_array, prefetch

FORMAT = "rag-bm25-csc-1"
_ARRAYS = ("terms", "indptr", "indices", "tf_part", "counts")
_POSTINGS = ("indices", "tf_part", "counts")  # memory-mapped
# Raw term counts per posting (uint16) let segments be merged without tokenizing their
# chunks again; segments written before they were stored lack the file.
_OPTIONAL = ("counts",)
_hash = xxhash.xxh3_64_intdigest


def term_hashes(tokens: list[str]) -> np.ndarray:
    """Stable 64-bit ids of tokens (the same in every process and release)."""
    return np.fromiter((_hash(t.encode()) for t in tokens), dtype=np.uint64, count=len(tokens))


@dataclass(frozen=True)
class TermCounts:
    """One chunk as a bag of words: distinct term hashes, their counts, and its length."""

    terms: np.ndarray  # uint64, sorted, distinct
    counts: np.ndarray  # int32
    length: int

    @classmethod
    def of(cls, tokens: list[str]) -> TermCounts:
        terms, counts = np.unique(term_hashes(tokens), return_counts=True)
        return cls(terms, counts.astype(np.int32), len(tokens))


def lucene_idf(doc_freq: np.ndarray, docs: int) -> np.ndarray:
    """Lucene's IDF, never negative: log(1 + (N − df + 0.5) / (df + 0.5))."""
    return np.log1p((docs - doc_freq + 0.5) / (doc_freq + 0.5))


@dataclass(frozen=True)
class QueryTerm:
    """One distinct term of a query: its weight (IDF × repeats) and where each segment posts it."""

    weight: np.float32
    positions: list[int | None]  # per segment; None where the segment lacks the term
    doc_freq: int


class LexicalSegment:
    """The postings of one segment's chunks; row i is the segment's chunk i."""

    def __init__(self, arrays: dict[str, np.ndarray], docs: int, avg_length: float) -> None:
        self._terms = arrays["terms"]
        self._indptr = arrays["indptr"]
        self._indices = arrays["indices"]
        self._tf_part = arrays["tf_part"]
        self._counts = arrays.get("counts")
        self.size = docs
        self.avg_length = avg_length

    @classmethod
    def build(cls, docs: list[TermCounts], k1: float, b: float) -> LexicalSegment:
        """Postings for chunks in row order, built with array operations (no per-term Python loop)."""
        lengths = np.fromiter((d.length for d in docs), dtype=np.float32, count=len(docs))
        avg_length = float(lengths.mean()) if len(docs) and lengths.mean() > 0 else 1.0
        if docs:
            all_terms = np.concatenate([d.terms for d in docs])
            counts = np.concatenate([d.counts for d in docs]).astype(np.float32)
            rows = np.repeat(np.arange(len(docs), dtype=np.int32), [len(d.terms) for d in docs])
        else:
            all_terms = np.zeros(0, np.uint64)
            counts, rows = np.zeros(0, np.float32), np.zeros(0, np.int32)
        terms, term_ids = np.unique(all_terms, return_inverse=True)
        del all_terms
        order = np.argsort(term_ids, kind="stable")  # grouped by term, rows ascending within a term
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(terms)), out=indptr[1:])
        rows, counts = rows[order], counts[order]
        del order, term_ids
        norm = k1 * (1 - b + b * lengths[rows] / avg_length)
        tf_part = (counts / (counts + norm)).astype(np.float32)
        counts = np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16)
        arrays = {"terms": terms, "indptr": indptr, "indices": rows, "tf_part": tf_part, "counts": counts}
        return cls(arrays, len(docs), avg_length)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            if getattr(self, f"_{name}") is not None:
                np.save(folder / f"{name}.npy", getattr(self, f"_{name}"), allow_pickle=False)
        params = {"format": FORMAT, "docs": self.size, "avg_length": self.avg_length}
        (folder / "params.json").write_text(json.dumps(params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalSegment:
        """Postings memory-mapped: a large segment is paged in as queries touch it, not read whole."""
        try:
            params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
            # The vocabulary and its offsets (~1 MB per 100k chunks) are read into memory: a
            # binary search over a cold memory map faulted a page in at every step.
            arrays = {
                name: load_array(folder / f"{name}.npy", mmap=name in _POSTINGS)
                for name in _ARRAYS
                if name not in _OPTIONAL or (folder / f"{name}.npy").is_file()
            }
            for name in ("indices", "tf_part"):
                prefetch(folder / f"{name}.npy")
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"{folder}: unreadable BM25 postings ({exc})") from exc
        if params.get("format") != FORMAT:
            raise IndexLoadError(f"{folder}: BM25 format {params.get('format')!r} is not {FORMAT!r}")
        postings = {len(arrays[name]) for name in _POSTINGS if name in arrays}
        if len(arrays["indptr"]) != len(arrays["terms"]) + 1 or len(postings) != 1:
            raise IndexDamaged(f"{folder}: BM25 arrays have inconsistent lengths")
        return cls(arrays, int(params["docs"]), float(params["avg_length"]))

    def term_counts(self) -> list[TermCounts] | None:
        """Every chunk's bag of words, rebuilt from the postings, so merging small segments
        needs no tokenizer; None for a segment written without raw counts."""
        if self._counts is None:
            return None
        order, rows, terms = self._by_row()
        counts = self._counts[order].astype(np.int32)
        bounds = np.searchsorted(rows, np.arange(self.size + 1))
        return [
            TermCounts(terms[start:end], counts[start:end], int(counts[start:end].sum()))
            for start, end in pairwise(bounds)
        ]

    def posted_terms(self) -> np.ndarray:
        """The sorted hashes of the terms with at least one posting (no reordering needed)."""
        return np.asarray(self._terms[np.diff(self._indptr) > 0])

    def row_postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, term hashes, tf parts) of every posting, ordered by row: each chunk's BM25
        document vector, for copying the index into another engine."""
        order, rows, terms = self._by_row()
        return np.asarray(rows), terms, np.asarray(self._tf_part[order])

    def _by_row(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The postings reordered by row (terms stay sorted within a row): the order, and each
        posting's row and term hash in it."""
        term_of = np.repeat(self._terms, np.diff(self._indptr))
        order = np.argsort(self._indices, kind="stable")
        return order, self._indices[order], term_of[order]

    def locate(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the query hashes in this vocabulary, and which of them are present."""
        positions = np.searchsorted(self._terms, hashes)
        positions = np.minimum(positions, max(len(self._terms) - 1, 0))
        found = self._terms[positions] == hashes if len(self._terms) else np.zeros(len(hashes), bool)
        return positions, found

    def doc_freq(self, positions: np.ndarray, found: np.ndarray) -> np.ndarray:
        if not len(self._terms):
            return np.zeros(len(positions), dtype=np.int64)
        return np.where(found, self._indptr[positions + 1] - self._indptr[positions], 0)

    def rows_with(self, position: int) -> np.ndarray:
        """Local rows whose postings hold the term at `position` of the vocabulary."""
        return np.asarray(self._indices[self._indptr[position] : self._indptr[position + 1]])

    def add_term(self, position: int, weight: np.float32, out: np.ndarray) -> None:
        """out[row] += weight × tf part, for every row posted under the term at `position`."""
        start, end = self._indptr[position], self._indptr[position + 1]
        out[self._indices[start:end]] += weight * self._tf_part[start:end]

    def tf_parts_at(self, position: int, rows: np.ndarray) -> np.ndarray:
        """The tf parts of the term at `position` in local `rows` (0 where a row lacks it)."""
        start, end = self._indptr[position], self._indptr[position + 1]
        posted = self._indices[start:end]
        rows = rows.astype(posted.dtype, copy=False)  # else numpy converts every posting to int64
        at = np.minimum(np.searchsorted(posted, rows), max(end - start - 1, 0))
        hit = posted[at] == rows if end > start else np.zeros(len(rows), dtype=bool)
        return np.where(hit, self._tf_part[start + at], np.float32(0))


class LexicalIndex:
    """BM25 scores over the chunks of all segments, rows numbered segment after segment."""

    def __init__(self, segments: list[LexicalSegment]) -> None:
        self.segments = segments
        self.offsets = np.cumsum([0] + [s.size for s in segments])

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float, b: float) -> LexicalIndex:
        """A one-segment index over token lists in memory (calibration, small corpora)."""
        return cls([LexicalSegment.build([TermCounts.of(t) for t in corpus_tokens], k1, b)])

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    def statistics(self, tokens: list[str]) -> tuple[np.ndarray, list, np.ndarray]:
        """Distinct query terms, their locations per segment, and their corpus-wide IDF."""
        distinct = list(dict.fromkeys(tokens))
        hashes = term_hashes(distinct)
        located = [segment.locate(hashes) for segment in self.segments]
        doc_freq = sum(
            (s.doc_freq(p, f) for s, (p, f) in zip(self.segments, located, strict=True)),
            np.zeros(len(distinct), dtype=np.int64),
        )
        return np.asarray(distinct, dtype=object), located, doc_freq

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each token; unseen tokens get the maximum."""
        if not tokens:
            return {}
        distinct, _, doc_freq = self.statistics(tokens)
        return {str(t): float(v) for t, v in zip(distinct, lucene_idf(doc_freq, self.size), strict=True)}

    def known(self, tokens: list[str]) -> set[str]:
        """The tokens that occur somewhere in the corpus."""
        if not tokens:
            return set()
        distinct, _, doc_freq = self.statistics(tokens)
        return {str(t) for t, df in zip(distinct, doc_freq, strict=True) if df > 0}

    def rows_with_all(self, tokens: list[str]) -> np.ndarray:
        """Rows (chunks) whose postings hold every one of `tokens`, ascending."""
        if not tokens:
            return np.zeros(0, dtype=np.int64)
        _, located, _ = self.statistics(tokens)
        found: list[np.ndarray] = []
        for segment, (positions, present), start in zip(self.segments, located, self.offsets, strict=False):
            if not present.all():
                continue
            rows = segment.rows_with(int(positions[0]))
            for position in positions[1:]:
                rows = np.intersect1d(rows, segment.rows_with(int(position)), assume_unique=True)
            found.append(rows.astype(np.int64) + int(start))
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk; a token repeated in the query counts each time."""
        scores = np.zeros(self.size, dtype=np.float32)
        self.add(self.query_terms(query_tokens), scores)
        return scores

    def query_terms(self, query_tokens: list[str]) -> list[QueryTerm]:
        """The distinct query terms the corpus holds, in query order, with their weights."""
        if not query_tokens:
            return []
        distinct, located, doc_freq = self.statistics(query_tokens)
        weights = self.term_weights(query_tokens, distinct, doc_freq)
        return [
            QueryTerm(weights[j], [int(p[j]) if f[j] else None for p, f in located], int(doc_freq[j]))
            for j in range(len(distinct))
            if weights[j] > 0
        ]

    def add(self, terms: list[QueryTerm], scores: np.ndarray) -> None:
        """scores[row] += weight × tf part of every posting of `terms` (one float per row)."""
        for term in terms:
            for s, (segment, position) in enumerate(zip(self.segments, term.positions, strict=True)):
                if position is not None:
                    segment.add_term(position, term.weight, scores[self.offsets[s] : self.offsets[s + 1]])

    def term_weights(self, query_tokens: list[str], distinct: np.ndarray, doc_freq: np.ndarray) -> np.ndarray:
        """Each distinct term's query weight: IDF times its repeats in the query (0 if unseen)."""
        repeats = Counter(query_tokens)
        weights = lucene_idf(doc_freq, self.size) * np.array([repeats[t] for t in distinct], dtype=np.float64)
        return np.where(doc_freq > 0, weights, 0.0).astype(np.float32)
