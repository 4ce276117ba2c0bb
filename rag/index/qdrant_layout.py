"""How an index lies in Qdrant, shared by its writers (`rag migrate`, builds) and its search:
vector names, point payloads, the state kept beside the manifest, and generations.

Generations make every published version a snapshot. Each point carries `added`, the
generation that wrote it, and `retired`, the generation that replaced or removed it (NEVER
while it is live); version G sees the points with added <= G < retired. A build writes and
retires points as generation G + 1 while readers of G see nothing change; publishing the
version folder is what makes them visible, the same atomic swap as local segments. A build
that dies leaves points of an unpublished generation, which the next build takes back first.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexLoadError
from rag.index import store
from rag.index.records import ChunkRecord, IndexedArticle, SourceFile
from rag.index.segment_files import load_array

DENSE, SPARSE = "dense", "sparse"
TERMS_FILE, DOC_FREQ_FILE = "qdrant_terms.npy", "qdrant_doc_freq.npy"  # beside the manifest
MIGRATION_FILE = "qdrant-migration.json"  # in the index folder while a migration runs
BUILD_FILE = "qdrant-build.json"  # in the index folder while a build writes points
ADDED, RETIRED = "added", "retired"
WRITER, RETIRER = "writer", "retirer"  # the build that added or retired a point (a random id)
NEVER = 2**62  # `retired` of a live point


@dataclass
class QdrantState:
    """The version's side of a Qdrant index (`qdrant.json`): its collections and the counts a
    search needs without asking the server (article chunk counts, dates, categories)."""

    chunks: str  # the chunks collection
    articles: str  # the articles collection
    source: str  # what the points were first copied from
    chunk_counts: dict[str, int]  # live chunks by article id
    day_counts: dict[int, int] = field(default_factory=dict)  # live dated chunks by day number
    category_counts: dict[str, int] = field(default_factory=dict)  # live articles by category
    vocabulary: int = 0  # distinct 64-bit terms when migrated
    colliding_terms: int = 0  # of those, how many share a 32-bit id with another
    generation: int | None = None  # None: migrated before builds could write into Qdrant
    next_point: int = 0  # the first unused chunk point id
    next_article: int = 0  # the first unused article point id

    @property
    def categories(self) -> list[str]:
        return sorted(c for c, n in self.category_counts.items() if n > 0)

    @property
    def day_range(self) -> tuple[int | None, int | None]:
        days = [d for d, n in self.day_counts.items() if n > 0]
        return (min(days), max(days)) if days else (None, None)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: dict) -> QdrantState:
        if "day_counts" not in data:  # written before generations: a date range and category names
            days = [d for d in (data.get("first_day"), data.get("last_day")) if d is not None]
            data = {**data, "day_counts": dict.fromkeys(days, 1),
                    "category_counts": dict.fromkeys(data.get("categories", []), 1)}  # fmt: skip
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.day_counts = {int(d): int(n) for d, n in state.day_counts.items()}
        return state


def read_state(folder: Path) -> tuple[QdrantState, np.ndarray, np.ndarray]:
    """The state beside a version's manifest, with its vocabulary ids and document frequencies.

    Raises:
        IndexLoadError: a file missing or damaged, with the fix.
    """
    try:
        data = json.loads((folder / store.REMOTE_STATE).read_text(encoding="utf-8"))
        terms = load_array(folder / TERMS_FILE, mmap=False)
        doc_freq = load_array(folder / DOC_FREQ_FILE, mmap=False)
        if not isinstance(data, dict) or len(terms) != len(doc_freq):
            raise ValueError("unexpected contents")
        state = QdrantState.from_json(data)
    except (OSError, ValueError, TypeError, IndexLoadError) as exc:
        raise IndexLoadError(
            f"{folder}: the migrated index's state is damaged ({exc}); run `rag migrate` again"
        ) from None
    return state, terms, doc_freq


def state_files(state: QdrantState, terms: np.ndarray, doc_freq: np.ndarray) -> dict[str, bytes]:
    """The files a published version keeps beside its manifest."""
    return {store.REMOTE_STATE: state.to_json(), TERMS_FILE: _npy(terms), DOC_FREQ_FILE: _npy(doc_freq)}


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def refuse_pending_migration(index_dir: Path) -> None:
    """Raises IndexLoadError when a migration into this folder was interrupted before publishing."""
    if store.current_version(index_dir) is None and (index_dir / MIGRATION_FILE).is_file():
        raise IndexLoadError(
            f"{index_dir}: a migration into Qdrant was interrupted; rerun `rag migrate` to finish it"
        )


def term_ids(hashes: np.ndarray) -> np.ndarray:
    """Qdrant sparse indices (uint32) of 64-bit term hashes: their low 32 bits."""
    return (np.asarray(hashes, dtype=np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def sparse_vector(hashes: np.ndarray, tf_part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One chunk's sparse indices and BM25 tf parts; terms whose 32-bit ids collide add up."""
    merged, where = np.unique(term_ids(hashes), return_inverse=True)
    values = np.bincount(where, weights=tf_part, minlength=len(merged))
    return merged, values.astype(np.float32)


def visible(generation: int | None) -> list[Any]:
    """Filter conditions for the points of version `generation` (none before generations)."""
    from qdrant_client import models

    if generation is None:
        return []
    return [
        models.FieldCondition(key=ADDED, range=models.Range(lte=generation)),
        models.FieldCondition(key=RETIRED, range=models.Range(gt=generation)),
    ]


def chunk_payload(record: ChunkRecord, day: int, digest: int, categories: list[str], generation: int) -> dict:
    """A chunk point's payload: its record, day number, text hash, article categories."""
    return {**asdict(record), "day": day, "text_hash": digest, "categories": categories,
            ADDED: generation, RETIRED: NEVER}  # fmt: skip


def article_payload(article: IndexedArticle, source: SourceFile, generation: int) -> dict:
    """An article point's payload: the whole article and what its file looked like."""
    return {**asdict(article), **asdict(source), ADDED: generation, RETIRED: NEVER}
