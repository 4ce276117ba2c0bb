"""The HNSW candidate list (efSearch) against what a search returns (#19): the graph's time, the
whole hybrid search's time, and how much of the fused top 10 a smaller list changes, on an index
built by `benchmarks/scale.py` (HNSW segments only exist past 50k chunks).

    python benchmarks/hnsw_ef.py --index /tmp/scale19/index-100000 \
        [--squad ../shared/data/cmrc2018_trial.json] [--ef 128 --ef 384] [--write]

Questions: 300 slices of 25 characters of random chunks (the scale benchmark's kind) and, with
--squad, the first 300 CMRC questions (phrased unlike any chunk, so the dense side counts more).
The reference is efSearch 1024.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

import rag.index.dense as dense_module
from rag.eval.question_sets import load_squad
from rag.search.retrieve import SearchIndex, open_index

QUESTIONS = 300
REFERENCE_EF = 1024


def slice_questions(index: SearchIndex, count: int) -> list[str]:
    """25-character slices of random chunks, as `benchmarks/scale.py` asks."""
    rng = random.Random(5)
    rows = np.sort(rng.sample(range(index.size), min(count, index.size)))
    texts = [record.text for record in index.chunk_records(rows)]
    return [text[rng.randrange(max(1, len(text) - 30)) :][:25] for text in texts]


def set_ef(index: SearchIndex, ef: int) -> None:
    """Every HNSW segment searches with candidate list `ef` (filtered searches read the constant)."""
    dense_module.HNSW_EF_SEARCH = ef
    for segment in index.version.segments:
        graph = faiss.downcast_index(segment.dense._index)
        if isinstance(graph, faiss.IndexHNSW):
            graph.hnsw.efSearch = ef


def timed(work: Callable[[str], object], questions: list[str]) -> tuple[list[float], list[object]]:
    """Milliseconds of each call after a warm-up pass, and each call's result."""
    for question in questions[:50]:
        work(question)
    times, results = [], []
    for question in questions:
        started = time.perf_counter()
        results.append(work(question))
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def measure(index: SearchIndex, questions: list[str], ef: int) -> dict:
    """Graph and search times at `ef`, with each question's fused top 10 and graph top 40."""
    set_ef(index, ef)
    vectors = {q: index.query_vector(q) for q in questions}
    graph = max(index.version.segments, key=lambda s: s.size).dense
    graph_ms, graph_top = timed(lambda q: set(graph.search(vectors[q], 40)[0].tolist()), questions)
    search_ms, hits = timed(lambda q: [h.chunk_id for h in index.search(q, 10)], questions)
    return {"graph_ms": graph_ms, "search_ms": search_ms, "top10": hits, "graph40": graph_top}


def row(name: str, ef: int, found: dict, reference: dict) -> str:
    """One table row: times at `ef`, and how much of the reference's results it returns."""

    def p(values: list[float]) -> str:
        return f"{np.percentile(values, 50):.2f} / {np.percentile(values, 95):.2f}"

    def shared(key: str, first: int | None = None) -> float:
        pairs = zip(found[key], reference[key], strict=True)
        kept = [len(set(a[:first]) & set(b[:first])) / max(1, len(b[:first])) for a, b in pairs]
        return float(np.mean(kept))

    graph_pairs = zip(found["graph40"], reference["graph40"], strict=True)
    graph = float(np.mean([len(a & b) / 40 for a, b in graph_pairs]))
    return (
        f"| {name} | {ef} | {p(found['graph_ms'])} | {p(found['search_ms'])} "
        f"| {shared('top10'):.3f} | {shared('top10', 1):.3f} | {graph:.3f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--ef", type=int, action="append", help="efSearch to try (repeatable)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    index = open_index(args.index)
    sets = {"chunk slices": slice_questions(index, QUESTIONS)}
    if args.squad:
        sets["CMRC questions"] = [q.question for q in load_squad(args.squad)[1]][:QUESTIONS]
    lines = [
        f"## HNSW candidate list (efSearch) against the fused ranking ({index.size:,} chunks, #19)",
        "",
        "| questions | efSearch | graph p50 / p95 ms | search p50 / p95 ms "
        f"| fused top 10 as with {REFERENCE_EF} | top 1 as with {REFERENCE_EF} "
        f"| graph top 40 as with {REFERENCE_EF} |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, questions in sets.items():
        reference = measure(index, questions, REFERENCE_EF)
        for ef in args.ef or [64, 128, 192, 256, 384]:
            lines.append(row(name, ef, measure(index, questions, ef), reference))
    publish(f"hnsw-ef-{index.size // 1000}k", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
