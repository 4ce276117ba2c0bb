"""A segment's sentence vectors on disk: three arrays, and the rows of one chunk among them.

Row r's sentences are rows first[r]:first[r + 1] of `sentence_bounds` (start, end in the
chunk's text) and `sentence_vectors` (int8 directions, rag.index.sentence_vectors). Segments
written before builds stored them have none; answers then embed the sentences they weigh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.errors import IndexDamaged
from rag.index import segment_files
from rag.index.sentence_vectors import SentenceVectors


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
            raise IndexDamaged(f"{files.folder}: sentence arrays do not match the chunk count")
        return cls(first, bounds, vectors)

    def of(self, row: int) -> SentenceVectors:
        low, high = int(self.first[row]), int(self.first[row + 1])
        return SentenceVectors(np.asarray(self.bounds[low:high]), np.asarray(self.vectors[low:high]))
