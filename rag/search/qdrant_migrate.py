"""A local index copied into Qdrant without embedding again: vectors, BM25 document vectors and
records, in batches that a second run resumes (`rag migrate`), then a version in the target
folder that points at the collections (rag.search.qdrant opens it)."""

from __future__ import annotations

import itertools
import json
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexLoadError
from rag.index import lock, store
from rag.index.dense import HNSW_EF_CONSTRUCTION, HNSW_M
from rag.index.qdrant_generations import collections_in_use
from rag.index.qdrant_layout import (
    ADDED,
    DENSE,
    MIGRATION_FILE,
    RETIRED,
    SPARSE,
    QdrantState,
    article_payload,
    chunk_payload,
    sparse_vector,
    state_files,
    term_ids,
)
from rag.index.records import RecordStore
from rag.index.store import is_remote
from rag.index.version import IndexVersion

BATCH = 256  # points per upsert; each is acknowledged (wait=True) before the next


@dataclass(frozen=True)
class MigrationReport:
    """What `migrate` copied, and how many vocabulary terms share a 32-bit sparse index."""

    chunks: int
    articles: int
    resumed_from: int  # chunks already copied by an earlier, interrupted run
    colliding_terms: int
    vocabulary: int
    version: str
    collection: str  # the chunks collection written (articles: `<collection>_articles`)


@dataclass(frozen=True)
class CollectionSpec:
    """Where an index goes in Qdrant: the chunks collection's name (articles go to
    `<name>_articles`), its shards and how many copies of each a cluster keeps."""

    name: str
    shards: int = 1
    replication: int = 1

    @property
    def articles(self) -> str:
        return f"{self.name}_articles"


def create_collections(client: Any, spec: CollectionSpec, dim: int) -> None:
    """The chunks collection (dense cosine + sparse BM25 with IDF, payload indexes) and the
    articles collection (payload only), unless they exist."""
    from qdrant_client import models

    chunks, articles, schema = spec.name, spec.articles, models.PayloadSchemaType
    layout = {"shard_number": spec.shards, "replication_factor": spec.replication}
    if not client.collection_exists(chunks):
        client.create_collection(
            chunks,
            **layout,
            vectors_config={DENSE: models.VectorParams(
                size=dim, distance=models.Distance.COSINE,
                hnsw_config=models.HnswConfigDiff(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCTION),
                quantization_config=models.ScalarQuantization(
                    scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, always_ram=True)),
            )},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )  # fmt: skip
        with warnings.catch_warnings():  # local mode says its payload indexes do nothing; a server uses them
            warnings.simplefilter("ignore", UserWarning)
            for field, kind in (("day", "INTEGER"), ("article_id", "KEYWORD"), ("categories", "KEYWORD"),
                                (ADDED, "INTEGER"), (RETIRED, "INTEGER")):  # fmt: skip
                client.create_payload_index(chunks, field, getattr(schema, kind), wait=True)
    if not client.collection_exists(articles):
        client.create_collection(articles, vectors_config={}, **layout)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for field, kind in (("article_id", "KEYWORD"), ("content_hash", "KEYWORD"),
                                (ADDED, "INTEGER"), (RETIRED, "INTEGER")):  # fmt: skip
                client.create_payload_index(articles, field, getattr(schema, kind), wait=True)


def _document_vectors(version: IndexVersion) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(global row, dense vector, sparse indices, BM25 tf parts) of every live row, segment by
    segment (vectors read from the segment's memory map); terms whose 32-bit ids collide within a
    chunk add up."""
    for segment, start in zip(version.segments, version.row_offsets, strict=False):
        rows, hashes, tf_part = segment.lexical.row_postings()
        bounds = np.searchsorted(rows, np.arange(segment.size + 1))
        for local in range(segment.size):
            row = int(start) + local
            if version.alive is not None and not version.alive[row]:
                continue
            span = slice(bounds[local], bounds[local + 1])
            yield row, segment.vectors[local], *sparse_vector(hashes[span], tf_part[span])


def _chunk_points(version: IndexVersion, source_records: RecordStore, skip: int) -> Iterator[list[Any]]:
    """Batches of chunk points after the first `skip` live rows."""
    from qdrant_client import models

    categories = source_records.article_categories()  # by article id: small, unlike the articles
    rows = itertools.islice(_document_vectors(version), skip, None)
    while batch := list(itertools.islice(rows, BATCH)):  # streamed: one batch in memory at a time
        records = source_records.chunks([row for row, *_ in batch])  # one query per segment and batch
        points = []
        for (row, vector, indices, values), record in zip(batch, records, strict=True):
            payload = chunk_payload(record, int(version.chunk_day[row]), int(version.chunk_text_hash[row]),
                                    categories[record.article_id], 0)  # fmt: skip
            sparse = models.SparseVector(indices=indices.tolist(), values=values.tolist())
            points.append(
                models.PointStruct(id=row, vector={DENSE: vector.tolist(), SPARSE: sparse}, payload=payload)
            )
        yield points


def _vocabulary(version: IndexVersion) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The 32-bit term ids of the live rows with their document frequencies, the size of the
    64-bit vocabulary, and how many of its terms share an id with another."""
    frequency: Counter[int] = Counter()
    distinct_hashes: set[int] = set()
    for segment in version.segments:
        distinct_hashes.update(int(h) for h in segment.lexical.posted_terms())
    for _, _, indices, _ in _document_vectors(version):
        frequency.update(indices.tolist())
    ids = term_ids(np.asarray(sorted(distinct_hashes), dtype=np.uint64))
    _, shared = np.unique(ids, return_counts=True)
    terms = np.asarray(sorted(frequency), dtype=np.uint32)
    doc_freq = np.asarray([frequency[int(t)] for t in terms], dtype=np.int64)
    return terms, doc_freq, len(distinct_hashes), int(shared[shared > 1].sum())


def migrate(source: RecordStore, target: Path, client: Any, spec: CollectionSpec,
            progress: Callable[[int, int], object] | None = None) -> MigrationReport:  # fmt: skip
    """Copy the live version behind `source` into collections of its own (`<name>-<version>`)
    and publish a version in `target` that opens on them; the collections of versions the target
    no longer keeps are dropped. Interrupted, it resumes from the points Qdrant acknowledged.

    Raises:
        IndexLoadError: the target is another kind of folder, another migration is pending in it,
            or the collections hold other data.
    """
    _check_target(target)  # before the lock makes the folder
    with lock.build_lock(target):  # no build publishes into it meanwhile
        named = replace(spec, name=f"{spec.name}-{source.version.folder.name}")
        return _migrate(source, target, client, named, progress)


def _migrate(source: RecordStore, target: Path, client: Any, spec: CollectionSpec,
             progress: Callable[[int, int], object] | None) -> MigrationReport:  # fmt: skip
    version = source.version
    _start(target, client, spec, str(version.folder.resolve()))
    create_collections(client, spec, int(version.manifest.embedder["dim"]))
    done = resumed = _count(client, spec.name)  # points go in row order, each batch acknowledged
    for batch in _chunk_points(version, source, done):
        client.upsert(spec.name, points=batch, wait=True)
        done += len(batch)
        if progress:
            progress(done, version.manifest.chunks)
    _copy_articles(source, client, spec.articles)
    counted = (_count(client, spec.name), _count(client, spec.articles))
    if counted != (version.manifest.chunks, version.manifest.articles):
        raise IndexLoadError(
            f"Qdrant holds {counted[0]} chunks and {counted[1]} articles in '{spec.name}', the source "
            f"{version.manifest.chunks} and {version.manifest.articles}; another writer? rerun `rag migrate`"
        )
    before = collections_in_use(target)
    report = _publish(source, target, spec, resumed)
    for name in before - collections_in_use(target):  # versions this target no longer keeps
        if client.collection_exists(name):
            client.delete_collection(name)
    return report


def _count(client: Any, collection: str) -> int:
    return int(client.count(collection, exact=True).count)


def _start(target: Path, client: Any, spec: CollectionSpec, source: str) -> None:
    """Check that this migration may write here, and record that it started (for resuming)."""
    _check_target(target)
    marker = target / MIGRATION_FILE
    started = {"source": source, "collection": spec.name}
    if marker.is_file():
        pending = json.loads(marker.read_text(encoding="utf-8"))
        if pending != started:
            raise IndexLoadError(
                f"{marker}: a migration of {pending.get('source')} is pending here; "
                "rerun `rag migrate` with that --from, or delete the file"
            )
    elif client.collection_exists(spec.name):
        raise IndexLoadError(
            f"Qdrant collection '{spec.name}' exists already; set RAG_QDRANT_COLLECTION to another name"
        )
    target.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(started), encoding="utf-8")


def _check_target(target: Path) -> None:
    """An empty folder, or one `rag migrate` made (its versions point at Qdrant)."""
    if target.exists() and not target.is_dir():
        raise IndexLoadError(f"{target}: not a folder; --index names the folder for the migrated index")
    if not target.is_dir() or (target / MIGRATION_FILE).is_file():
        return
    live = store.current_version(target)
    if is_remote(live):
        return
    if any(path.name != lock.LOCK_FILE for path in target.iterdir()):
        raise IndexLoadError(f"{target}: not empty and no migrated index; migrate into an empty folder")


def _copy_articles(source: RecordStore, client: Any, collection: str) -> None:
    from qdrant_client import models

    points, files = [], source.source_files()
    for listed in source.live_articles():
        article = source.article(listed.article_id)
        payload = article_payload(article, files[article.article_id], 0)
        points.append(models.PointStruct(id=article.num, vector={}, payload=payload))
        if len(points) == BATCH:
            client.upsert(collection, points=points, wait=True)
            points = []
    if points:
        client.upsert(collection, points=points, wait=True)


def _publish(source: RecordStore, target: Path, spec: CollectionSpec, resumed: int) -> MigrationReport:
    version = source.version
    terms, doc_freq, vocabulary, colliding = _vocabulary(version)
    days, day_chunks = np.unique(version.live_days(), return_counts=True)
    state = QdrantState(
        spec.name, spec.articles, str(version.folder), source.chunk_counts(),
        day_counts={int(d): int(n) for d, n in zip(days, day_chunks, strict=True)},
        category_counts=dict(Counter(c for cs in source.article_categories().values() for c in cs)),
        vocabulary=vocabulary, colliding_terms=colliding, generation=0,
        next_point=version.size, next_article=version.article_slots,
    )  # fmt: skip
    published = store.publish_version(target, version.manifest, state_files(state, terms, doc_freq))
    (target / MIGRATION_FILE).unlink(missing_ok=True)
    return MigrationReport(version.manifest.chunks, version.manifest.articles, resumed, colliding, vocabulary,
                           published.name, spec.name)  # fmt: skip
