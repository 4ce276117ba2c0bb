"""`rag eval` on the seed and news question sets (tuned and held out) and on a SQuAD file,
with accuracy and answer latency per question kind, written into docs/BENCHMARKS.md.

    python benchmarks/evaluation.py --squad ../shared/data/cmrc2018_trial.json [--write]

Equivalent to these commands, run on fresh indexes:

    rag build --corpus seeds --index /tmp/seed-index
    rag eval --index /tmp/seed-index --questions seeds/questions.jsonl      # and seeds/holdout.jsonl
    rag build --corpus tests/fixtures/news --index /tmp/news-index
    rag eval --index /tmp/news-index --questions tests/fixtures/news/questions.jsonl  # and holdout.jsonl
    rag eval --squad ../shared/data/cmrc2018_trial.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.answer.intent import KINDS
from rag.config import Settings
from rag.eval.evaluate import run_eval
from rag.index.build import build_index

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


def kind_rows(name: str, metrics: dict) -> list[str]:
    """Accuracy, question count and answer p95 (ms) per kind of one question set."""
    cells = []
    for kind in KINDS:
        if f"n_{kind}" in metrics:
            accuracy, count = metrics[f"accuracy_{kind}"], metrics[f"n_{kind}"]
            cells.append(f"{accuracy:.2f} ({count}, {metrics[f'answer_ms_p95_{kind}']:.0f} ms)")
        else:
            cells.append("—")
    return [f"| {name} | {metrics['accuracy']:.3f} | " + " | ".join(cells) + " |"]


SETS = {
    "seeds/questions.jsonl": ("seeds", "seeds/questions.jsonl"),
    "seeds/reader_questions.jsonl": ("seeds", "seeds/reader_questions.jsonl"),
    "seeds/fresh_questions.jsonl": ("seeds", "seeds/fresh_questions.jsonl"),
    "seeds/fresh2_questions.jsonl (tuned on since written)": ("seeds", "seeds/fresh2_questions.jsonl"),
    "seeds/fresh3_questions.jsonl (tuned on since written)": ("seeds", "seeds/fresh3_questions.jsonl"),
    "seeds/fresh4_questions.jsonl (not tuned on yet)": ("seeds", "seeds/fresh4_questions.jsonl"),
    "seeds/holdout.jsonl (not tuned on)": ("seeds", "seeds/holdout.jsonl"),
    "news/questions.jsonl": ("tests/fixtures/news", "tests/fixtures/news/questions.jsonl"),
    "news/reader_questions.jsonl": ("tests/fixtures/news", "tests/fixtures/news/reader_questions.jsonl"),
    "news/fresh_questions.jsonl": ("tests/fixtures/news", "tests/fixtures/news/fresh_questions.jsonl"),
    "news/fresh2_questions.jsonl (tuned on since written)": (
        "tests/fixtures/news",
        "tests/fixtures/news/fresh2_questions.jsonl",
    ),
    "news/fresh3_questions.jsonl (tuned on since written)": (
        "tests/fixtures/news",
        "tests/fixtures/news/fresh3_questions.jsonl",
    ),
    "news/fresh4_questions.jsonl (not tuned on yet)": (
        "tests/fixtures/news",
        "tests/fixtures/news/fresh4_questions.jsonl",
    ),
    "news/holdout.jsonl (not tuned on)": ("tests/fixtures/news", "tests/fixtures/news/holdout.jsonl"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as folder:
        for corpus in dict.fromkeys(c for c, _ in SETS.values()):
            settings = Settings(corpus=ROOT / corpus, index=Path(folder) / corpus.replace("/", "_"))
            build_index(settings, log=lambda _: None)
            for name, (of, questions) in SETS.items():
                if of == corpus:
                    results[name] = run_eval(settings, questions=ROOT / questions).metrics
    squad = run_eval(Settings(), squad=args.squad).metrics
    body = "\n".join([
        "## `rag eval`: seed and news question sets, CMRC 2018 trial",
        "",
        "Fact questions (retrieval and answer metrics below are over the `fact` kind only, as before "
        "the other kinds existed):",
        "",
        "| set | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
        *(row(name, metrics) for name, metrics in results.items()),
        row(args.squad.name, squad),
        "",
        "Every kind: accuracy (questions, answer p95 in ms). Non-fact kinds are scored by key phrases "
        "(`groups`, `min`, `ordered`, `articles_all`, `absent`); an unanswerable question counts when it "
        "is refused.",
        "",
        "| set | all | " + " | ".join(KINDS) + " |",
        "|---" * (len(KINDS) + 2) + "|",
        *(line for name, metrics in results.items() for line in kind_rows(name, metrics)),
        *kind_rows(args.squad.name, squad),
        "",
        "Retrieval metrics are by article; `chunk_hit@1` is the share of answerable questions whose top "
        "chunk contains an accepted answer. Latencies in ms, warm, query embedding included. "
        "CMRC has no unanswerable questions, so its refusal accuracy is empty and every refusal is false.",
    ])  # fmt: skip
    publish("evaluation", body, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
