"""The FAISS vector index: build, save, load, search. The only module that imports faiss."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.config import Settings

# On 2 cores FAISS's OpenMP threads fight numpy's BLAS threads: one thread is several times
# faster for single queries (docs/BENCHMARKS.md, "Measurements behind constants").
faiss.omp_set_num_threads(1)

# Exact search grows linearly and alone breaks the search budget at large sizes; past this size
# an HNSW graph answers in about a millisecond at recall@10 above 0.95 (measured on every
# build and stored in the manifest).
EXACT_LIMIT = Settings.dense_exact_limit
HNSW_M = 32  # neighbours per node: the usual balance of recall, memory (+256 B/vector) and speed
HNSW_EF_CONSTRUCTION = 80
# The graph's vectors are stored as 8-bit scalar-quantised codes, not float32: a third of the
# bytes to read and hold, as fast, and the same recall. The float vectors stay in vectors.npy
# for everything else.
# Candidate list at query time. The graph feeds 40 candidates to fusion beside BM25's, so
# what counts is the fused ranking: at 100k chunks 128 gives the same hybrid top 10 as 1024
# for 99.8% of passages (384: 99.9%) at a third of the graph's time (docs/BENCHMARKS.md, #19),
# though the graph alone then finds 94-96% of its exact top 40.
HNSW_EF_SEARCH = 128


class DenseIndex:
    """Inner-product search over unit vectors (inner product = cosine similarity).

    Exact (flat) up to `exact_limit` vectors, an HNSW graph beyond it.
    """

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        if self.kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]

    @classmethod
    def build(cls, vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> DenseIndex:
        """Index (n, dim) float32 unit vectors; row i gets id i."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) <= exact_limit:
            index: faiss.Index = faiss.IndexFlatIP(vectors.shape[1])
            index.add(vectors)
            return cls(index)
        quantizer: Any = faiss.ScalarQuantizer.QT_8bit  # the SWIG stubs know another constructor only
        index = faiss.IndexHNSWSQ(vectors.shape[1], quantizer, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building is batch work: use every core
        try:
            index.train(vectors)  # the quantiser's per-dimension ranges
            index.add(vectors)
        finally:
            faiss.omp_set_num_threads(1)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        """Read an index written by `save` (faiss's own format, no pickle) into RAM.

        Not memory-mapped: a graph search touches thousands of scattered vectors, and on
        this machine file pages that are not in use leave the page cache within seconds,
        so a mapped index answered cold questions from disk. faiss releases the GIL while
        reading, so other start-up work runs meanwhile.
        """
        return cls(faiss.read_index(str(path)))

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(faiss.downcast_index(self._index), faiss.IndexHNSW) else "flat"

    def describe(self) -> dict:
        """What the manifest records about the vector index."""
        if self.kind == "flat":
            return {"kind": "flat"}
        storage = "sq8" if isinstance(faiss.downcast_index(self._index), faiss.IndexHNSWSQ) else "float32"
        return {
            "kind": "hnsw",
            "storage": storage,
            "M": HNSW_M,
            "ef_construction": HNSW_EF_CONSTRUCTION,
            "ef_search": HNSW_EF_SEARCH,
        }

    def recall_at_10(self, vectors: np.ndarray, queries: int = 200, seed: int = 0) -> float:
        """Recall@10 against exact search, with stored vectors (slightly perturbed) as queries."""
        if self.kind == "flat" or len(vectors) == 0:
            return 1.0
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(vectors), size=min(queries, len(vectors)), replace=False)
        probes = np.asarray(vectors[np.sort(picks)], dtype=np.float32)
        probes = probes + rng.normal(0, 0.02, probes.shape).astype(np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(np.ascontiguousarray(vectors, dtype=np.float32))
        _, truth = exact.search(probes, 10)
        _, found = self._index.search(probes, 10)
        return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))

    def save(self, path: Path) -> None:
        """Written by Python, not by FAISS: a full disk is then an OSError (ENOSPC) like any
        other write, where `faiss.write_index` raised a bare RuntimeError."""
        path.write_bytes(faiss.serialize_index(self._index).tobytes())

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Inner products of the query with the stored vectors of these ids, from the index in
        memory (for HNSW the 8-bit codes its search ranks by, within ~0.002 of float32).

        Scoring a question's candidates this way reads nothing from disk: gathering them from
        the memory-mapped float vectors cost 10-20 ms a question when their pages had left
        the page cache."""
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64)) @ query.astype(np.float32)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) for one query vector.

        Args:
            query: (dim,) unit vector.
            k: how many hits at most.
            allowed: optional boolean mask over rows; only those rows are searched
                (the filter is applied inside the search, not after top-k).
        """
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if allowed is not None:
            if not allowed.any():
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            bitmap = np.packbits(allowed.astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))  # type: ignore[attr-defined]
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]
