"""Build and query synthetic corpora of a given size; print a table or one JSON object.

    python benchmarks/scale.py --chunks 10000 --chunks 100000 [--write] [--plot docs/scale.png]
    python benchmarks/scale.py --chunks 10000 --json

The corpus is generated reproducibly (fixed seed) in the seed file format, Hexo markdown with
YAML front matter and an HTML body, by recombining sentences of the seed articles and, when
`--squad` is given, of the CMRC 2018 contexts. Each paragraph fits in one chunk, so the number
of paragraphs is the number of chunks.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.answer import Answerer
from rag.chunk import split_sentences
from rag.embed import UsemEmbedder
from rag.evaluate import load_squad
from rag.ingest import iter_articles
from rag.metrics import percentile
from rag.retrieve import open_index

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPHS_PER_ARTICLE = 10
QUERIES = 200


def sentence_pool(squad: Path | None) -> list[str]:
    """Sentences of the seed articles (and CMRC contexts) to recombine."""
    texts = [a.text for a in iter_articles(ROOT / "seeds")]
    if squad is not None:
        texts += [a.paragraphs[0] for a in load_squad(squad)[0]]
    pool = []
    for text in texts:
        for start, end in split_sentences(text):
            sentence = text[start:end].strip()
            if 15 <= len(sentence) <= 140:
                pool.append(sentence)
    return pool


def write_corpus(folder: Path, chunks: int, pool: list[str], seed: int = 13) -> int:
    """Write about `chunks` paragraphs as Hexo articles; returns the article count."""
    rng = random.Random(seed)
    articles = max(1, chunks // PARAGRAPHS_PER_ARTICLE)
    start = date(2015, 1, 1)
    for n in range(articles):
        day = start + timedelta(days=rng.randrange(3650))
        paragraphs = []
        for _ in range(PARAGRAPHS_PER_ARTICLE):
            paragraph = ""
            while len(paragraph) < 120:
                paragraph += rng.choice(pool)
            paragraphs.append(paragraph[:290])
        title = rng.choice(pool)[:30].replace("'", "")
        body = "\n".join(f"<p>　　{p}</p>" for p in paragraphs)
        front = (
            f"---\ntitle: '{title}（{n}）'\ncategories:\n - 合成\nauthor: 基准\n"
            f"date: {day.isoformat()}T08:00:00+08:00\n---\n"
        )
        sub = folder / f"{n // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{n:07d}.md").write_text("\n" + front + f"<div>\n{body}\n</div>\n", encoding="utf-8")
    return articles


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_size(chunks: int, pool: list[str], work: Path) -> dict:
    corpus, index_dir = work / f"corpus-{chunks}", work / f"index-{chunks}"
    write_corpus(corpus, chunks, pool)

    # Build in a child process, so its peak memory is measured on its own.
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rag.cli", "build", "--corpus", str(corpus), "--index", str(index_dir)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    build_s = time.perf_counter() - started
    build_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    opened = time.perf_counter()
    index = open_index(index_dir)
    answerer = Answerer(index)
    texts = index.chunk_column("text")
    n = len(texts)
    rng = random.Random(5)
    sample = [texts[rng.randrange(n)] for _ in range(QUERIES)]
    questions = [s[rng.randrange(max(1, len(s) - 30)) :][:25] for s in sample]
    first_answer = answerer.ask(questions[0])
    open_and_first_s = time.perf_counter() - opened

    embedder = UsemEmbedder()
    raw_sample = texts[: min(n, 2000)]
    embedder.encode(raw_sample[:50])
    started = time.perf_counter()
    embedder.encode(raw_sample)
    embedder_chunks_per_s = len(raw_sample) / (time.perf_counter() - started)

    search_ms, answer_ms = [], []
    for question in questions:
        started = time.perf_counter()
        index.search(question, k=5)
        search_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answerer.ask(question)
        answer_ms.append((time.perf_counter() - started) * 1000)

    recall = ann_recall(index, questions[:100])
    return {
        "chunks": n,
        "build_s": round(build_s, 1),
        "chunks_per_s": round(n / build_s, 1),
        "embedder_chunks_per_s": round(embedder_chunks_per_s, 1),
        "index_bytes": folder_bytes(index.folder),
        "peak_rss_mb": round(max(build_rss_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), 1),
        "search_ms_p50": round(percentile(search_ms, 50), 2),
        "search_ms_p95": round(percentile(search_ms, 95), 2),
        "answer_ms_p50": round(percentile(answer_ms, 50), 2),
        "answer_ms_p95": round(percentile(answer_ms, 95), 2),
        "ann_recall_at_10": recall,
        "open_and_first_answer_s": round(open_and_first_s, 2),
        "dense_index": index.manifest.get("dense", {}).get("kind", "flat"),
        "first_answer_ok": bool(first_answer.answer),
    }


def ann_recall(index, questions: list[str]) -> float:
    """Recall@10 of the dense index against exact numpy search (1.0 for an exact index)."""
    vectors = np.asarray(index.vectors)
    found = []
    for question in questions:
        query = index.embedder.encode([question])[0]
        exact = set(np.argsort(-(vectors @ query))[:10].tolist())
        approximate, _ = index.dense.search(query, 10)
        found.append(len(exact & set(approximate.tolist())) / 10)
    return round(float(np.mean(found)), 4)


COLUMNS = [
    ("chunks", "chunks"), ("build_s", "build s"), ("chunks_per_s", "build chunks/s"),
    ("embedder_chunks_per_s", "raw embedder chunks/s"), ("index_bytes", "index MB"),
    ("peak_rss_mb", "peak RSS MB"), ("search_ms_p50", "search p50 ms"), ("search_ms_p95", "search p95 ms"),
    ("answer_ms_p50", "answer p50 ms"), ("answer_ms_p95", "answer p95 ms"),
    ("ann_recall_at_10", "ANN recall@10"), ("open_and_first_answer_s", "open + first answer s"),
    ("dense_index", "dense index"),
]  # fmt: skip


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(label for _, label in COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
    for r in results:
        cells = [f"{r[k] / 1e6:.1f}" if k == "index_bytes" else str(r[k]) for k, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    ratio = [f"{r['chunks']}: {r['chunks_per_s'] / r['embedder_chunks_per_s']:.2f}" for r in results]
    lines += [
        "",
        "Build throughput as a share of the raw embedder's on the same texts: " + ", ".join(ratio) + ".",
    ]
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in results]
    figure, axis = plt.subplots(figsize=(6, 4))
    for key, label in (("search_ms_p95", "search p95"), ("answer_ms_p95", "answer p95"),
                       ("search_ms_p50", "search p50")):  # fmt: skip
        axis.plot(sizes, [r[key] for r in results], marker="o", label=label)
    axis.set_xscale("log")
    axis.set_xlabel("chunks in the index")
    axis.set_ylabel("latency (ms, warm, 2 cores)")
    axis.set_title("Latency against corpus size")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, action="append", required=True, help="corpus size (repeatable)")
    parser.add_argument("--squad", type=Path, help="also recombine sentences of this SQuAD file")
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    parser.add_argument("--write", action="store_true", help="write the table into docs/BENCHMARKS.md")
    parser.add_argument("--plot", type=Path, help="save a latency-vs-size PNG here")
    args = parser.parse_args()
    pool = sentence_pool(args.squad)
    results = []
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as work:
        for chunks in sorted(args.chunks):
            result = run_size(chunks, pool, Path(work))
            results.append(result)
            if args.json:
                print(json.dumps(result))
    if args.plot:
        plot(results, args.plot)
    if not args.json or args.write:
        publish("scale", "## Scale: synthetic corpora\n\n" + table(results), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
