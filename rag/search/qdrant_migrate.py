"""A local index copied into Qdrant without embedding again: vectors, BM25 document vectors and
records, in batches that a second run resumes (`rag migrate`), then a version in the target
folder that points at the collections (rag.search.qdrant opens it)."""

from __future__ import annotations

import io
import json
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexLoadError
from rag.index import store
from rag.index.records import IndexedArticle, RecordStore
from rag.index.version import IndexVersion
from rag.search.qdrant import DENSE, SPARSE, STATE_FILE, term_ids

BATCH = 256  # points per upsert; each is acknowledged (wait=True) before the next
PROGRESS_FILE = "qdrant-migration.json"  # in the target folder while a migration runs
HNSW_M, HNSW_EF_CONSTRUCT = 32, 80  # as the local HNSW segments (rag.index.dense)


@dataclass(frozen=True)
class MigrationReport:
    """What `migrate` copied, and how many vocabulary terms share a 32-bit sparse index."""

    chunks: int
    articles: int
    resumed_from: int  # chunks already copied by an earlier, interrupted run
    colliding_terms: int
    vocabulary: int
    version: str


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

    chunks, articles = spec.name, spec.articles
    layout = {"shard_number": spec.shards, "replication_factor": spec.replication}
    if not client.collection_exists(chunks):
        client.create_collection(
            chunks,
            **layout,
            vectors_config={DENSE: models.VectorParams(
                size=dim, distance=models.Distance.COSINE,
                hnsw_config=models.HnswConfigDiff(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT),
                quantization_config=models.ScalarQuantization(
                    scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, always_ram=True)),
            )},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )  # fmt: skip
        with warnings.catch_warnings():  # local mode says its payload indexes do nothing; a server uses them
            warnings.simplefilter("ignore", UserWarning)
            for field, kind in (("day", "INTEGER"), ("article_id", "KEYWORD"), ("categories", "KEYWORD")):
                client.create_payload_index(chunks, field, getattr(models.PayloadSchemaType, kind), wait=True)
    if not client.collection_exists(articles):
        client.create_collection(articles, vectors_config={}, **layout)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            client.create_payload_index(articles, "article_id", models.PayloadSchemaType.KEYWORD, wait=True)


def _document_vectors(version: IndexVersion) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(global row, sparse indices, BM25 tf parts) of every live row; terms whose 32-bit ids
    collide within a chunk add up."""
    for segment, start in zip(version.segments, version.row_offsets, strict=False):
        rows, hashes, tf_part = segment.lexical.row_postings()
        bounds = np.searchsorted(rows, np.arange(segment.size + 1))
        for local in range(segment.size):
            row = int(start) + local
            if version.alive is not None and not version.alive[row]:
                continue
            ids = term_ids(hashes[bounds[local] : bounds[local + 1]])
            merged, where = np.unique(ids, return_inverse=True)
            values = np.bincount(
                where, weights=tf_part[bounds[local] : bounds[local + 1]], minlength=len(merged)
            )
            yield row, merged, values.astype(np.float32)


def _chunk_points(version: IndexVersion, records: RecordStore, skip: int) -> Iterator[list[Any]]:
    """Batches of chunk points after the first `skip` live rows."""
    from qdrant_client import models

    articles: dict[str, IndexedArticle] = {}
    vectors = version.all_vectors()
    batch: list[Any] = []
    for n, (row, indices, values) in enumerate(_document_vectors(version)):
        if n < skip:
            continue
        record = records.chunks([row])[0]
        if record.article_id not in articles:
            articles[record.article_id] = records.article(record.article_id)
        payload = {**record.__dict__, "day": int(version.chunk_day[row]),
                   "categories": list(articles[record.article_id].categories)}  # fmt: skip
        sparse = models.SparseVector(indices=indices.tolist(), values=values.tolist())
        batch.append(
            models.PointStruct(id=row, vector={DENSE: vectors[row].tolist(), SPARSE: sparse}, payload=payload)
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _vocabulary(version: IndexVersion) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The 32-bit term ids of the live rows with their document frequencies, the size of the
    64-bit vocabulary, and how many of its terms share an id with another."""
    frequency: Counter[int] = Counter()
    distinct_hashes: set[int] = set()
    for segment in version.segments:
        _, hashes, _ = segment.lexical.row_postings()
        distinct_hashes.update(int(h) for h in np.unique(hashes))
    for _, indices, _ in _document_vectors(version):
        frequency.update(indices.tolist())
    ids = term_ids(np.asarray(sorted(distinct_hashes), dtype=np.uint64))
    _, shared = np.unique(ids, return_counts=True)
    terms = np.asarray(sorted(frequency), dtype=np.uint32)
    doc_freq = np.asarray([frequency[int(t)] for t in terms], dtype=np.int64)
    return terms, doc_freq, len(distinct_hashes), int(shared[shared > 1].sum())


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def migrate(source: RecordStore, target: Path, client: Any, spec: CollectionSpec,
            progress: Callable[[int, int], object] | None = None) -> MigrationReport:  # fmt: skip
    """Copy the live version behind `source` into the collections of `spec` and
    publish a version in `target` that opens on Qdrant. Interrupted, it resumes where the
    acknowledged upserts stopped.

    Raises:
        IndexLoadError: the target folder already holds a local index.
    """
    version = source.version
    if (target / store.SEGMENTS).is_dir():
        raise IndexLoadError(f"{target}: holds a local index; migrate into an empty folder")
    target.mkdir(parents=True, exist_ok=True)
    create_collections(client, spec, int(version.manifest.embedder["dim"]))
    marker = target / PROGRESS_FILE
    done = json.loads(marker.read_text(encoding="utf-8")).get("chunks", 0) if marker.is_file() else 0
    resumed, total = done, version.manifest.chunks
    for batch in _chunk_points(version, source, done):
        client.upsert(spec.name, points=batch, wait=True)
        done += len(batch)
        marker.write_text(json.dumps({"source": str(version.folder), "chunks": done}), encoding="utf-8")
        if progress:
            progress(done, total)
    _copy_articles(source, client, spec.articles)
    return _publish(source, target, spec, resumed)


def _copy_articles(source: RecordStore, client: Any, collection: str) -> None:
    from qdrant_client import models

    points = []
    for listed in source.live_articles():
        article = source.article(listed.article_id)
        points.append(models.PointStruct(id=article.num, vector={}, payload=article.__dict__))
        if len(points) == BATCH:
            client.upsert(collection, points=points, wait=True)
            points = []
    if points:
        client.upsert(collection, points=points, wait=True)


def _publish(source: RecordStore, target: Path, spec: CollectionSpec, resumed: int) -> MigrationReport:
    version = source.version
    terms, doc_freq, vocabulary, colliding = _vocabulary(version)
    days = version.live_days()
    counts = Counter(source.article_ids()[a] for a in (version.chunk_article if version.alive is None
                                                      else version.chunk_article[version.alive]))  # fmt: skip
    state = {
        "chunks": spec.name, "articles": spec.articles, "source": str(version.folder),
        "categories": source.category_names(), "chunk_counts": dict(counts),
        "first_day": int(days.min()) if days.size else None,
        "last_day": int(days.max()) if days.size else None,
        "vocabulary": vocabulary, "colliding_terms": colliding,
    }  # fmt: skip
    extra = {STATE_FILE: json.dumps(state, ensure_ascii=False).encode(),
             "qdrant_terms.npy": _npy(terms), "qdrant_doc_freq.npy": _npy(doc_freq)}  # fmt: skip
    published = store.publish_version(target, version.manifest, extra)
    (target / PROGRESS_FILE).unlink(missing_ok=True)
    return MigrationReport(version.manifest.chunks, version.manifest.articles, resumed, colliding, vocabulary,
                           published.name)  # fmt: skip
