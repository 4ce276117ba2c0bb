"""Sentence vectors stored by the build (#19): how close they are to each sentence embedded on
its own (what answers did before), what they add to the build's embedding, and their size.

    python benchmarks/sentence_vectors.py --corpus tests/fixtures/news [--write]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.config import Settings
from rag.index import store
from rag.index.build import build_index
from rag.index.embed import UsemEmbedder
from rag.search.retrieve import open_index


def best_of(runs: int, work) -> float:
    """The fastest of `runs` timings of `work()`, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    embedder = UsemEmbedder()
    with tempfile.TemporaryDirectory() as folder:
        build_index(Settings(corpus=args.corpus, index=Path(folder)), embedder=embedder, log=lambda _: None)
        index = open_index(Path(folder), embedder)
        texts = [chunk.text for chunk in index.chunk_records(list(range(index.size)))]
        sizes = {
            name: sum(p.stat().st_size for p in Path(folder, store.SEGMENTS).glob(f"*/{name}"))
            for name in ("vectors.npy", "sentence_vectors.npy", "sentence_bounds.npy", "chunk_sentences.npy")
        }
    plain = best_of(3, lambda: embedder.encode(texts))
    both = best_of(3, lambda: embedder.encode_with_sentences(texts))
    _, found = embedder.encode_with_sentences(texts)
    spans = [(text, s, e) for text, f in zip(texts, found, strict=True) for s, e in f.by_span()]
    stored = np.array([v for f in found for v in f.by_span().values()])
    alone = best_of(1, lambda: embedder.encode([t[s:e] for t, s, e in spans]))
    cosines = (stored * embedder.encode([t[s:e] for t, s, e in spans])).sum(axis=1)
    sentence_bytes = sum(v for k, v in sizes.items() if k != "vectors.npy")
    body = "\n".join(
        [
            "## Sentence vectors stored by the build (#19)",
            "",
            "| chunks | sentences | cosine to the sentence embedded alone: mean / p5 / min "
            "| embedding the chunks s: vectors only / with sentence vectors | ms a sentence embedded alone "
            "| bytes a chunk: chunk vector / sentence vectors |",
            "|---|---|---|---|---|---|",
            f"| {len(texts)} | {len(spans)} | {cosines.mean():.3f} / {np.percentile(cosines, 5):.3f} "
            f"/ {cosines.min():.3f} | {plain:.2f} / {both:.2f} (× {both / plain:.2f}) "
            f"| {1000 * alone / len(spans):.2f} "
            f"| {sizes['vectors.npy'] / len(texts):.0f} / {sentence_bytes / len(texts):.0f} |",
        ]
    )
    publish("sentence-vectors", body, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
