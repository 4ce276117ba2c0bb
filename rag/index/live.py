"""The live version as a build sees it: its segments, deletions and articles; the next version's list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import IndexLoadError
from rag.index import segment_files, store
from rag.index.manifest import ManifestSegment
from rag.index.schema import check_deleted


@dataclass(frozen=True)
class LiveArticle:
    """An article of the live version: where it is stored and what file it came from."""

    segment: int  # position in the version's segment list
    num: int  # article number inside that segment
    content_hash: str
    source_size: int | None
    source_mtime_ns: int | None


@dataclass
class LiveSegment:
    """A segment of the live version: its name, its description, and the article numbers
    deleted from it (the next version adds the ones this build replaces or removes)."""

    name: str
    description: dict  # the segment's segment.json (rag.index.schema)
    deleted: set[int] = field(default_factory=set)


@dataclass
class LiveVersion:
    """The live version's segments and its articles, as a build starts from them."""

    segments: list[LiveSegment] = field(default_factory=list)
    articles: dict[str, LiveArticle] = field(default_factory=dict)

    def delete(self, article: LiveArticle) -> None:
        """Tombstone an article's old copy in the next version."""
        self.segments[article.segment].deleted.add(article.num)

    def article_count(self) -> int:
        """Live articles over every segment."""
        return sum(s.description["articles"] - len(s.deleted) for s in self.segments)

    def chunk_count(self, index_dir: Path) -> int:
        """Live chunks over every segment (reads the deleted articles' chunk lists)."""
        return sum(
            s.description["chunks"] - deleted_chunks(index_dir, s.name, s.deleted) for s in self.segments
        )


@dataclass(frozen=True)
class SegmentEntry:
    """One segment as the next version lists it: its description, the article numbers deleted
    from it, and what stays live."""

    name: str
    description: dict  # the segment's segment.json (rag.index.schema)
    deleted: frozenset[int]
    live_articles: int
    live_chunks: int

    @classmethod
    def of(
        cls, index_dir: Path, name: str, description: dict, deleted: set[int] | frozenset[int]
    ) -> SegmentEntry:
        return cls(
            name, description, frozenset(deleted), description["articles"] - len(deleted),
            description["chunks"] - deleted_chunks(index_dir, name, set(deleted)),
        )  # fmt: skip

    @property
    def dense(self) -> dict:
        return self.description["dense"]

    def manifest_entry(self) -> ManifestSegment:
        """The entry of the version manifest."""
        return ManifestSegment(self.name, tuple(sorted(self.deleted)), self.dense)


def read_live_version(
    index_dir: Path, identity: dict, pipeline: dict, only: tuple[list[str], list[str]] | None = None
) -> LiveVersion:
    """What the live version holds, when it was built the same way; else empty (full rebuild).

    Args:
        only: (article ids, content hashes): read just the articles with one of these,
            by index lookups, instead of every article (adding a few files to a large index).
    """
    folder = store.current_version(index_dir)
    if folder is None:
        return LiveVersion()
    live = LiveVersion()
    try:
        manifest = store.read_manifest(folder)
        if manifest.embedder != identity or manifest.pipeline != pipeline:
            return LiveVersion()
        for position, entry in enumerate(manifest.segments):
            segment = store.segment_dir(index_dir, entry.name)
            description = store.read_segment(segment)
            check_deleted(entry, description, folder / "manifest.json")
            # Sizes, and content where the mtime changed: the build reuses these segments without
            # reading them, and opening the new version checks them again.
            segment_files.verify_files(segment, description["files"], hash_below=0)
            deleted = set(entry.deleted)
            live.segments.append(LiveSegment(entry.name, description, deleted))
            db = segment_files.open_metadata_db(segment_files.SegmentFiles(segment).metadata)
            try:
                rows = db.execute(
                    "SELECT num, article_id, content_hash, source_size, source_mtime_ns FROM articles"
                    + _matching(only),
                    [*only[0], *only[1]] if only else [],
                )
                for num, article_id, digest, size, mtime in rows:
                    if num not in deleted:
                        live.articles[article_id] = LiveArticle(position, num, digest, size, mtime)
            finally:
                db.close()
    except (IndexLoadError, KeyError):
        return LiveVersion()  # damaged: rebuild everything rather than reuse bad rows
    return live


def _matching(only: tuple[list[str], list[str]] | None) -> str:
    if only is None:
        return ""
    ids, hashes = (",".join("?" * len(values)) for values in only)
    return f" WHERE article_id IN ({ids}) OR content_hash IN ({hashes})"


def deleted_chunks(index_dir: Path, name: str, deleted: set[int]) -> int:
    if not deleted:
        return 0
    chunk_article = segment_files.load_array(
        segment_files.SegmentFiles(store.segment_dir(index_dir, name)).chunk_article
    )
    return int(np.isin(chunk_article, sorted(deleted)).sum())


def segment_list(index_dir: Path, live: LiveVersion, written: list[tuple[str, dict]]) -> list[SegmentEntry]:
    """The new version's segments: live ones still holding articles, then the new ones."""
    entries = [SegmentEntry.of(index_dir, s.name, s.description, s.deleted) for s in live.segments]
    entries += [SegmentEntry.of(index_dir, name, d, set()) for name, d in written]
    return [e for e in entries if e.live_articles]


def dense_summary(segments: list[SegmentEntry]) -> dict:
    """The vector index kinds in use and the lowest recall@10 of any approximate segment."""
    kinds = sorted({e.dense["kind"] for e in segments})
    return {
        "kind": "hnsw" if "hnsw" in kinds else "flat",
        "kinds": kinds,
        "recall_at_10": min(e.dense["recall_at_10"] for e in segments),
        **{k: v for e in segments if e.dense["kind"] == "hnsw" for k, v in e.dense.items()
           if k not in ("kind", "recall_at_10")},
    }  # fmt: skip
