"""Sentence vectors of chunks: the record, and a segment's three arrays on disk.

Row r's sentences are rows first[r]:first[r + 1] of `sentence_bounds` (start, end in the
chunk's text) and `sentence_vectors` (int8 directions, rag.index.sentence_vectors). Segments
written before builds stored them have none; answers then embed the sentences they weigh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.errors import IndexDamaged
from rag.index import segment_files


@dataclass(frozen=True)
class SentenceVectors:
    """One chunk's sentences: character spans in its text and int8 vector directions."""

    bounds: np.ndarray  # (n, 2) int32: start, end
    vectors: np.ndarray  # (n, dim) int8: compare by cosine, the scale is dropped

    @classmethod
    def empty(cls, dim: int) -> SentenceVectors:
        return cls(np.zeros((0, 2), dtype=np.int32), np.zeros((0, dim), dtype=np.int8))

    def to_bytes(self) -> bytes:
        """Spans then vectors, raw (no pickle)."""
        return self.bounds.astype(np.int32).tobytes() + self.vectors.astype(np.int8).tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes, dim: int) -> SentenceVectors | None:
        """What `to_bytes` wrote; None when the length does not fit `dim`."""
        count, rest = divmod(len(blob), 8 + dim)
        if rest:
            return None
        bounds = np.frombuffer(blob, dtype=np.int32, count=2 * count).reshape(count, 2)
        return cls(bounds, np.frombuffer(blob, dtype=np.int8, offset=8 * count).reshape(count, dim))

    def by_span(self) -> dict[tuple[int, int], np.ndarray]:
        """(start, end) -> unit float32 vector."""
        vectors = self.vectors.astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return {(int(s), int(e)): v for (s, e), v in zip(self.bounds, vectors, strict=True)}


def save_sentences(files: segment_files.SegmentFiles, per_chunk: list[SentenceVectors], dim: int) -> None:
    """Write the sentence arrays of a segment's chunks, in row order."""
    first = np.zeros(len(per_chunk) + 1, dtype=np.int64)
    np.cumsum([len(s.bounds) for s in per_chunk], out=first[1:])
    parts = per_chunk or [SentenceVectors.empty(dim)]
    segment_files.save_array(files.chunk_sentences, first)
    segment_files.save_array(files.sentence_bounds, np.concatenate([s.bounds for s in parts]))
    segment_files.save_array(files.sentence_vectors, np.concatenate([s.vectors for s in parts]))


@dataclass(frozen=True)
class StoredSentences:
    """A loaded segment's sentence arrays (memory-mapped)."""

    first: np.ndarray
    bounds: np.ndarray
    vectors: np.ndarray

    @classmethod
    def load(cls, files: segment_files.SegmentFiles, listed: dict, chunks: int) -> StoredSentences | None:
        """The arrays when the segment's description lists them (None for older segments)."""
        if files.chunk_sentences.name not in listed:
            return None
        paths = (files.chunk_sentences, files.sentence_bounds, files.sentence_vectors)
        first, bounds, vectors = (segment_files.load_array(path) for path in paths)
        if len(first) != chunks + 1 or not (len(bounds) == len(vectors) == first[-1]):
            raise IndexDamaged(
                f"{files.folder}: sentence arrays do not match the chunk count (rebuild: rag build --rebuild)"
            )
        return cls(first, bounds, vectors)

    def of(self, row: int) -> SentenceVectors:
        """The sentences of one of the segment's rows."""
        low, high = int(self.first[row]), int(self.first[row + 1])
        return SentenceVectors(np.asarray(self.bounds[low:high]), np.asarray(self.vectors[low:high]))
