"""The same search on both backends: the local segments and Qdrant (qdrant-client's local mode).

    python benchmarks/backends.py --squad ../shared/data/cmrc2018_trial.json [--write]

Builds the CMRC trial passages into a local index, copies it into Qdrant with `migrate`, and
asks every question of both: article hit@1 and MRR@10 (which must agree within 0.005), how
often the top-10 is identical, latency, bytes on disk and the 32-bit term-id collisions. Local
mode is brute force in Python: its latency says nothing about a Qdrant server's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qdrant_client import QdrantClient
from report import publish

from rag.config import Settings
from rag.eval.metrics import first_relevant_rank, hit_at, percentile, reciprocal_rank, unique_in_order
from rag.eval.question_sets import load_squad
from rag.index.build import build_index
from rag.search.qdrant_migrate import CollectionSpec, migrate
from rag.search.retrieve import SearchIndex, open_index


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(index: SearchIndex, questions: list) -> dict:
    """hit@1, MRR@10, latency and the top-10 chunk ids of every question."""
    hit1, reciprocal, times, tops = [], [], [], []
    for q in questions:
        started = time.perf_counter()
        hits = index.search(q.question, k=10)
        times.append((time.perf_counter() - started) * 1000)
        rank = first_relevant_rank(unique_in_order([h.article_id for h in hits]), q.articles)
        hit1.append(hit_at(rank, 1))
        reciprocal.append(reciprocal_rank(rank, 10))
        tops.append([h.chunk_id for h in hits])
    return {
        "hit@1": statistics.mean(hit1),
        "mrr@10": statistics.mean(reciprocal),
        "times": times,
        "tops": tops,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    articles, questions = load_squad(args.squad)
    questions = questions[: args.limit or None]
    with tempfile.TemporaryDirectory(prefix="rag-backends-") as folder:
        local_dir, target, data = (
            Path(folder) / "local",
            Path(folder) / "qdrant-index",
            Path(folder) / "qdrant",
        )
        build_index(Settings(index=local_dir), articles=articles, log=lambda _: None)
        local = open_index(local_dir)
        client = QdrantClient(path=str(data))
        started = time.perf_counter()
        report = migrate(local.records, target, client, CollectionSpec("cmrc"))
        migrate_s = time.perf_counter() - started
        client.close()
        remote = open_index(target, local.embedder, settings=Settings(qdrant_path=str(data)))
        rows = {
            "local segments": measure(local, questions),
            "Qdrant (local mode)": measure(remote, questions),
        }
        sizes = {
            "local segments": folder_bytes(local_dir / "segments"),
            "Qdrant (local mode)": folder_bytes(data),
        }
    same = statistics.mean(a == b for a, b in zip(*(r["tops"] for r in rows.values()), strict=True))
    base = rows["local segments"]
    lines = [
        f"## Backends: local segments and Qdrant local mode ({len(questions)} CMRC 2018 trial questions, "
        f"{report.chunks} chunks)",
        "",
        "| backend | hit@1 | MRR@10 | p50 ms | p95 ms | bytes on disk |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['hit@1']:.3f} | {row['mrr@10']:.3f} | {statistics.median(row['times']):.1f} "
            f"| {percentile(row['times'], 95):.1f} | {sizes[name] / 1e6:.1f} MB |"
        )
    remote_row = rows["Qdrant (local mode)"]
    lines += [
        "",
        f"Identical top-10 for {same:.1%} of the questions; hit@1 differs by "
        f"{abs(remote_row['hit@1'] - base['hit@1']):.3f}, "
        f"MRR@10 by {abs(remote_row['mrr@10'] - base['mrr@10']):.3f}. "
        f"`migrate` copied {report.chunks} chunks in {migrate_s:.1f} s; {report.colliding_terms} of "
        f"{report.vocabulary} vocabulary terms share a 32-bit sparse id. Local mode scores every point in "
        "Python (exact search, no HNSW, no payload indexes), so its latency is "
        f"x{statistics.median(remote_row['times']) / statistics.median(base['times']):.0f} the local "
        "segments' and says nothing about a server.",
    ]
    publish("backends", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
