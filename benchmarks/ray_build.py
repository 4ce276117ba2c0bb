"""Build throughput with the articles prepared on Ray (1 and 2 local workers) against the
build's own worker processes on the same synthetic corpus.

    python benchmarks/ray_build.py [--chunks 3000] [--write]

The corpus is written as by benchmarks/scale.py (seed sentences recombined into Hexo articles).
Each build starts from an empty index; Ray's start-up (~3 s) and each worker's model load count.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ray
from report import publish
from scale import sentence_pool, write_corpus

from rag.config import Settings
from rag.index.build import build_index


def timed_build(corpus: Path, index: Path, workers: int, on_ray: bool) -> tuple[float, int]:
    """Seconds of one build from an empty index, and the chunks it wrote."""
    settings = Settings(corpus=corpus, index=index, build_workers=workers)
    started = time.perf_counter()
    if on_ray:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        report = build_index(settings, log=lambda _: None, ray="auto" if on_ray else "")
    finally:
        if on_ray:
            ray.shutdown()
    return time.perf_counter() - started, report.chunks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=3000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-ray-") as folder:
        corpus = Path(folder) / "corpus"
        write_corpus(corpus, args.chunks, sentence_pool(None))
        for name, workers, on_ray in [("worker processes", 1, False), ("worker processes", 2, False),
                                      ("Ray tasks", 1, True), ("Ray tasks", 2, True)]:  # fmt: skip
            seconds, chunks = timed_build(corpus, Path(folder) / f"index-{name}-{workers}", workers, on_ray)
            rows.append((name, workers, seconds))
    best_local = min(s for name, _, s in rows if name == "worker processes")
    lines = [
        f"## Builds on Ray (local instance, {chunks} synthetic chunks, from an empty index)",
        "",
        "| prepared by | workers | build s | chunks/s | vs the faster local build |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {workers} | {s:.1f} | {chunks / s:.0f} | x{best_local / s:.2f} |"
        for name, workers, s in rows
    ]
    lines += [
        "",
        "Ray's start-up and each task process's model load are inside the times. One machine's cores "
        "are the same either way; Ray is for adding machines.",
    ]
    publish("ray_build", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
