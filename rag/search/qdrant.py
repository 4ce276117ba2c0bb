"""The search backend on Qdrant: the same candidates and scores as the local segments, from a
Qdrant collection (a server with `url=`, or qdrant-client's local mode with `path=`).

BM25 maps onto Qdrant's sparse vectors with the IDF modifier: a chunk's sparse vector holds
the term-frequency part of Lucene's BM25 for each of its terms (what the local postings store),
Qdrant multiplies by IDF = ln(1 + (N − df + 0.5)/(df + 0.5)) at query time, and the query's
values are its term counts, so a sparse score is our BM25 score. Term ids are the low 32 bits
of our 64-bit term hashes (Qdrant's sparse indices are 32-bit; `rag migrate` reports how many
vocabulary terms share an id). Dense vectors use cosine, HNSW and int8 quantization on a server.
Fusion, date boosts, dedup and diversity stay in rag.search.retrieve.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from rag.config import Settings
from rag.errors import IndexLoadError
from rag.index import store
from rag.index.days import NO_DAY, day_date
from rag.index.embed import Embedder
from rag.index.lexical import lucene_idf, term_hashes
from rag.index.manifest import Manifest
from rag.index.qdrant_connect import reaching, shared_client, where
from rag.index.qdrant_generations import read_head
from rag.index.qdrant_layout import DENSE, SPARSE, read_state, term_ids, visible
from rag.index.records import ChunkRecord
from rag.index.sentence_store import SentenceVectors
from rag.index.tokens import ChineseTokenizer, text_hash
from rag.index.version import check_embedder, tokenizer_of
from rag.search.backend import ArticleRows, BackendStats, Candidates
from rag.search.query import NO_FILTERS, SearchFilters


class QdrantVersion:
    """An index version whose vectors, postings and records live in Qdrant; its folder keeps the
    manifest and its state (collections, vocabulary statistics, counts; rag.index.qdrant_layout)."""

    def __init__(self, folder: Path, embedder: Embedder, client: Any, place: str = "") -> None:
        self.folder = folder
        self.manifest: Manifest = store.read_manifest(folder)
        self.tokenizer: ChineseTokenizer = tokenizer_of(self.manifest)
        self.embedder = embedder
        check_embedder(self.manifest, embedder, folder)
        self.state, self.vocabulary, self.doc_freq = read_state(folder)
        self.client = client
        self.chunks_collection, self.articles_collection = self.state.chunks, self.state.articles
        self.visible = visible(self.state.generation)  # conditions every query adds
        with reaching(place):
            missing = [
                c
                for c in (self.chunks_collection, self.articles_collection)
                if not client.collection_exists(c)
            ]
        if missing:
            raise IndexLoadError(
                f"{folder}: Qdrant at {place} has no collection '{missing[0]}'; point RAG_QDRANT_* where "
                "`rag migrate` wrote, or migrate again"
            )

    @property
    def size(self) -> int:
        return int(self.manifest.chunks)


class QdrantBackend:
    """`SearchBackend` over a migrated collection (thread-safe: qdrant-client is)."""

    exact_terms = False  # sparse indices are the low 32 bits of a term's hash

    def __init__(self, version: QdrantVersion) -> None:
        self.version, self.client = version, version.client
        self.collection = version.chunks_collection

    def _filter(self, filters: SearchFilters, ids: list[int] | None = None) -> Any:
        from qdrant_client import models

        must: list[Any] = list(self.version.visible)
        low, high = filters.day_bounds
        if low is not None or high is not None:
            # Undated chunks (NO_DAY) pass no date filter, as in the local backend.
            must.append(
                models.FieldCondition(
                    key="day", range=models.Range(gte=max(low or NO_DAY + 1, NO_DAY + 1), lte=high)
                )
            )
        if filters.article_ids:
            must.append(
                models.FieldCondition(key="article_id", match=models.MatchAny(any=list(filters.article_ids)))
            )
        if filters.categories:
            must.append(
                models.FieldCondition(key="categories", match=models.MatchAny(any=list(filters.categories)))
            )
        if ids is not None:
            must.append(models.HasIdCondition(has_id=cast(list[Any], ids)))
        return models.Filter(must=must) if must else None

    def _sparse_query(self, tokens: list[str]) -> Any:
        from qdrant_client import models

        counts = Counter(int(i) for i in term_ids(term_hashes(tokens)))
        return models.SparseVector(indices=list(counts), values=[float(v) for v in counts.values()])

    def _scored(
        self, query: Any, using: str, limit: int, query_filter: Any, days: dict[int, int] | None = None
    ) -> dict[int, float]:
        """Point id -> score of one query; with `days`, each point's day goes into it (no second fetch)."""
        if limit <= 0:
            return {}
        found = self.client.query_points(
            self.collection,
            query=query,
            using=using,
            query_filter=query_filter,
            limit=limit,
            with_payload=["day"] if days is not None else False,
        )
        if days is not None:
            days.update((int(p.id), int((p.payload or {})["day"])) for p in found.points)
        return {int(p.id): float(p.score) for p in found.points}

    def candidates(
        self, tokens: list[str], vector: np.ndarray, pool: int, filters: SearchFilters
    ) -> Candidates:
        sparse = self._sparse_query(tokens)
        dense_query = np.asarray(vector, dtype=np.float32).tolist()
        where = self._filter(filters)
        days: dict[int, int] = {}
        dense = self._scored(dense_query, DENSE, pool, where, days)
        lexical = self._scored(sparse, SPARSE, pool, where, days) if sparse.indices else {}
        rows = sorted(set(dense) | set(lexical))
        # Both scores for every row: ask for the missing ones by id (no shared term scores 0);
        # their days came with the query that found them.
        missing_dense = [r for r in rows if r not in dense]
        missing_lexical = [r for r in rows if r not in lexical]
        dense |= self._scored(dense_query, DENSE, len(missing_dense), self._filter(filters, missing_dense))
        if sparse.indices:
            lexical |= self._scored(
                sparse, SPARSE, len(missing_lexical), self._filter(filters, missing_lexical)
            )
        return Candidates(
            np.asarray(rows, dtype=np.int64),
            np.asarray([lexical.get(r, 0.0) for r in rows], dtype=np.float32),
            np.asarray([dense[r] for r in rows], dtype=np.float32),
            np.asarray([days[r] for r in rows], dtype=np.int32),
        )

    def _payloads(self, rows: list[int], fields: list[str] | bool = True) -> dict[int, dict]:
        found = self.client.retrieve(self.collection, ids=rows, with_payload=fields, with_vectors=False)
        return {int(p.id): p.payload for p in found}

    def records(self, rows: np.ndarray) -> list[ChunkRecord]:
        wanted = [int(r) for r in rows]
        payloads = self._payloads(wanted)
        return [chunk_record(payloads[r]) for r in wanted]

    def texts(self, rows: np.ndarray) -> list[str]:
        wanted = [int(r) for r in rows]
        payloads = self._payloads(wanted, ["text"]) if wanted else {}
        return [payloads[r]["text"] for r in wanted]

    def diversity_keys(self, rows: np.ndarray) -> tuple[Sequence[Hashable], Sequence[Hashable]]:
        wanted = [int(r) for r in rows]
        payloads = self._payloads(wanted, ["text_hash", "article_id"])
        if any("text_hash" not in payloads[r] for r in wanted):  # migrated before hashes were stored
            texts = self._payloads(wanted, ["text", "article_id"])
            payloads = {r: {**p, "text_hash": text_hash(p["text"])} for r, p in texts.items()}
        return [payloads[r]["text_hash"] for r in wanted], [payloads[r]["article_id"] for r in wanted]

    def _doc_freq(self, tokens: list[str]) -> dict[str, int]:
        vocabulary, doc_freq = self.version.vocabulary, self.version.doc_freq
        ids = term_ids(term_hashes(tokens))
        positions = np.minimum(np.searchsorted(vocabulary, ids), max(len(vocabulary) - 1, 0))
        present = vocabulary[positions] == ids if len(vocabulary) else np.zeros(len(ids), bool)
        return {t: int(doc_freq[p]) if ok else 0 for t, p, ok in zip(tokens, positions, present, strict=True)}

    def idf(self, tokens: list[str]) -> dict[str, float]:
        docs = self.version.manifest.chunks
        found = self._doc_freq(tokens)
        values = lucene_idf(np.array(list(found.values()), dtype=np.float64), docs)
        return {t: float(v) for t, v in zip(found, values, strict=True)}

    def known(self, tokens: list[str]) -> set[str]:
        return {t for t, df in self._doc_freq(tokens).items() if df > 0}

    def rows_with_all(self, tokens: list[str]) -> np.ndarray:
        """The rarest token's chunks (all of them: the limit is its document frequency), then those
        whose stored sparse vector holds every other token too."""
        freq = self._doc_freq(list(dict.fromkeys(tokens)))
        if not freq or min(freq.values()) == 0:
            return np.zeros(0, dtype=np.int64)
        rarest = min(freq, key=lambda t: freq[t])
        everywhere = self._filter(NO_FILTERS)
        rows = sorted(self._scored(self._sparse_query([rarest]), SPARSE, freq[rarest], everywhere))
        wanted = set(int(i) for i in term_ids(term_hashes(list(freq))))
        found = self.client.retrieve(self.collection, ids=rows, with_payload=False, with_vectors=[SPARSE])
        holding = [int(p.id) for p in found if wanted <= set(p.vector[SPARSE].indices)]
        return np.asarray(sorted(holding), dtype=np.int64)

    def article_table(self) -> Sequence[str]:
        return self._article_ids

    @functools.cached_property
    def _article_ids(self) -> list[str]:  # the live articles, numbered once per opened version
        return list(self.version.state.chunk_counts)

    @functools.cached_property
    def _article_numbers(self) -> dict[str, int]:
        return {article_id: number for number, article_id in enumerate(self._article_ids)}

    def article_rows(self, rows: np.ndarray) -> ArticleRows:
        wanted = sorted(int(r) for r in rows)
        payloads = self._payloads(wanted, ["article_id"]) if wanted else {}
        numbers = self._article_numbers
        known = [row for row in wanted if payloads[row]["article_id"] in numbers]
        return ArticleRows.grouping(
            np.asarray([numbers[payloads[row]["article_id"]] for row in known], dtype=np.int64),
            np.asarray(known, dtype=np.int64),
        )

    def chunk_counts(self) -> dict[str, int]:
        return dict(self.version.state.chunk_counts)

    def sentence_vectors(self, chunks: list[tuple[str, str]]) -> list[SentenceVectors | None]:
        return [None] * len(chunks)  # not migrated to Qdrant: answers embed their sentences

    def stats(self) -> BackendStats:
        state, manifest = self.version.state, self.version.manifest
        first, last = (day_date(d) if d is not None else None for d in state.day_range)
        return BackendStats(manifest.articles, manifest.chunks, first, last, 1)


def chunk_record(payload: dict) -> ChunkRecord:
    return ChunkRecord(
        payload["chunk_id"], payload["article_id"], payload["title"], payload["date"],
        payload["paragraph"], payload["start"], payload["end"], payload["text"],
    )  # fmt: skip


def verify_collections(folder: Path, settings: Settings) -> tuple[int, int]:
    """Count the version's points on the Qdrant side against its manifest (exact counts).

    Raises:
        IndexLoadError: a collection is missing or holds another number of chunks or articles.
    """
    from qdrant_client import models

    state, _, _ = read_state(folder)
    manifest, client = store.read_manifest(folder), shared_client(settings)
    seen = models.Filter(must=visible(state.generation))
    with reaching(where(settings)):
        missing = [c for c in (state.chunks, state.articles) if not client.collection_exists(c)]
        if missing:
            raise IndexLoadError(f"{folder}: Qdrant at {where(settings)} has no collection '{missing[0]}'")
        chunks, articles = (
            int(client.count(c, count_filter=seen, exact=True).count) for c in (state.chunks, state.articles)
        )
        head = read_head(client, state)
    behind = head is not None and state.generation is not None and head.generation > state.generation
    if behind and folder == store.current_version(folder.parent.parent):  # an older version is fine
        raise IndexLoadError(
            f"{folder}: this folder is at generation {state.generation}, Qdrant collection "
            f"'{state.chunks}' at {head.generation if head else '?'} from another copy of this index "
            "folder; this copy is out of date (builds refuse it)"
        )
    if (chunks, articles) != (manifest.chunks, manifest.articles):
        raise IndexLoadError(
            f"{folder}: Qdrant holds {chunks} chunks and {articles} articles, the manifest says "
            f"{manifest.chunks} and {manifest.articles}; run `rag build --rebuild` (writes and counts "
            "every article again) or `rag migrate` again"
        )
    return chunks, articles
