"""Prepared articles to published segments: streamed into segments of bounded size, and the
small segments of many incremental builds merged into one."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.calibration import BM25Parameters
from rag.index import store
from rag.index.live import SegmentEntry
from rag.index.segment import PreparedArticle, Segment, SegmentWriter
from rag.index.tokens import ChineseTokenizer

# Segments below this share of `segment_chunks` count as small; more than MAX_SMALL_SEGMENTS
# of them are merged into one, so searches never visit a long tail of tiny segments.
SMALL_SEGMENT_SHARE = 0.1
MAX_SMALL_SEGMENTS = 4


@dataclass(frozen=True)
class SegmentSpec:
    """How segments are written: vector size, BM25 parameters, exact-search limit, size."""

    dim: int
    bm25: BM25Parameters
    exact_limit: int  # up to this many chunks a segment keeps an exact (flat) vector index
    max_chunks: int


def write_segments(
    index_dir: Path, items: Iterable[PreparedArticle], spec: SegmentSpec
) -> list[tuple[str, dict]]:
    """Stream items into segments of at most `spec.max_chunks` chunks; returns (name, description).

    On any failure, what this call wrote is removed again."""
    written: list[tuple[str, dict]] = []
    writer: SegmentWriter | None = None
    try:
        for item in items:
            if writer is None:
                writer = SegmentWriter(
                    store.new_staging_dir(index_dir), spec.dim, spec.bm25, spec.exact_limit
                )
            writer.add(item)
            if writer.chunks >= spec.max_chunks:
                written.append(_publish(index_dir, writer))
                writer = None
        if writer is not None and writer.articles:
            written.append(_publish(index_dir, writer))
            writer = None
    except BaseException:
        if writer is not None:
            writer.abort()
            shutil.rmtree(writer.folder, ignore_errors=True)
        remove_segments(index_dir, written)
        raise
    return written


def remove_segments(index_dir: Path, written: list[tuple[str, dict]]) -> None:
    """Delete segments no published version lists (a failed build's)."""
    for name, _ in written:
        shutil.rmtree(store.segment_dir(index_dir, name), ignore_errors=True)


def _publish(index_dir: Path, writer: SegmentWriter) -> tuple[str, dict]:
    description = writer.finish()
    name = store.publish_segment(index_dir, writer.folder, description)
    return name, store.read_segment(store.segment_dir(index_dir, name))


def merge_small(
    index_dir: Path, segments: list[SegmentEntry], spec: SegmentSpec, tokenizer: ChineseTokenizer
) -> tuple[list[SegmentEntry], int]:
    """Rewrite the small segments as one when there are too many of them (live articles only);
    returns the new list and how many were merged."""
    limit = max(1, int(spec.max_chunks * SMALL_SEGMENT_SHARE))
    small = [e for e in segments if e.live_chunks < limit]
    if len(small) <= MAX_SMALL_SEGMENTS:
        return segments, 0

    def items() -> Iterator[PreparedArticle]:
        for entry in small:
            segment = Segment(store.segment_dir(index_dir, entry.name))
            live_nums = set(range(entry.description["articles"])) - entry.deleted
            yield from segment.prepared_articles(live_nums, tokenizer)

    merged = write_segments(index_dir, items(), spec)
    kept = [e for e in segments if e not in small]
    return kept + [SegmentEntry.of(index_dir, n, d, set()) for n, d in merged], len(small)
