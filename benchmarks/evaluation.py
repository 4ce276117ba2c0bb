"""`rag eval` on the seed question set and on a SQuAD file, written into docs/BENCHMARKS.md.

    python benchmarks/evaluation.py --squad ../shared/data/cmrc2018_trial.json [--write]

Equivalent to these commands, run on a fresh seed index:

    rag build --corpus seeds --index /tmp/seed-index
    rag eval --index /tmp/seed-index --questions seeds/questions.jsonl
    rag eval --squad ../shared/data/cmrc2018_trial.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.build import build_index
from rag.config import Settings
from rag.evaluate import run_eval

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    "n", "hit@1", "hit@5", "mrr@10", "chunk_hit@1", "answer_accuracy", "citation_accuracy",
    "refusal_accuracy", "correct_refusals", "false_refusals", "answer_chars_mean",
    "search_ms_p50", "search_ms_p95", "answer_ms_p50", "answer_ms_p95",
]  # fmt: skip


def row(name: str, metrics: dict) -> str:
    cells = []
    for column in COLUMNS:
        value = metrics.get(column)
        cells.append("—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-seed-") as folder:
        settings = Settings(corpus=ROOT / "seeds", index=Path(folder))
        build_index(settings, log=lambda _: None)
        seeds = run_eval(settings, questions=ROOT / "seeds" / "questions.jsonl")
    squad = run_eval(Settings(), squad=args.squad)
    body = "\n".join([
        "## `rag eval`: seed question set and CMRC 2018 trial",
        "",
        "| set | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
        row("seeds/questions.jsonl", seeds.metrics),
        row(args.squad.name, squad.metrics),
        "",
        "Retrieval metrics are by article; `chunk_hit@1` is the share of answerable questions whose top "
        "chunk contains an accepted answer. Latencies in ms, warm, query embedding included. "
        "CMRC has no unanswerable questions, so its refusal accuracy is empty and every refusal is false.",
    ])  # fmt: skip
    publish("evaluation", body, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
