"""Question sets against an index: retrieval, answers of every kind, citations, refusals, latency."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.answer.answers import Answer
from rag.answer.conversation import Conversation
from rag.answer.intent import FACT, KINDS
from rag.answer.router import Router
from rag.config import Settings
from rag.errors import ConfigError
from rag.eval.metrics import (
    answer_matches,
    first_relevant_rank,
    groups_found,
    hit_at,
    mean,
    percentile,
    reciprocal_rank,
    strip_markers,
    unique_in_order,
)
from rag.eval.question_sets import Question, load_questions, load_squad
from rag.index.build import build_index
from rag.search.retrieve import SearchIndex, open_index

DEFAULT_QUESTIONS = Path("seeds/questions.jsonl")
RETRIEVAL_DEPTH = 10


@dataclass
class EvalResult:
    """Overall metrics plus one row per question."""

    metrics: dict
    rows: list[dict] = field(default_factory=list)
    source: str = ""

    def to_dict(self) -> dict:
        return {**self.metrics, "questions": self.rows}

    def summary_table(self) -> str:
        lines = [f"evaluation of {self.source}", "", "| metric | value |", "|---|---|"]
        for name, value in self.metrics.items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            lines.append(f"| {name} | {shown} |")
        return "\n".join(lines)

    def markdown(self) -> str:
        """A report a person can read: the metrics, then every failed question with what came back."""
        failed = [r for r in self.rows if not r["ok"]]
        lines = [
            f"# Evaluation: {self.source}",
            "",
            self.summary_table(),
            "",
            f"## Failed questions ({len(failed)})",
        ]
        for row in failed:
            lines += [
                "",
                f"### {row['id']}: {row['question']}",
                f"- expected: {' / '.join(row['answers']) or '(refusal)'}"
                f" in {', '.join(row['articles']) or '-'}",
                f"- retrieved articles: {', '.join(row['retrieved'][:5])} (gold rank: {row['rank']})",
                f"- answer: {row['answer']}",
            ]
        return "\n".join(lines) + "\n"


def evaluate(
    index: SearchIndex, router: Router | None, questions: list[Question], source: str = ""
) -> EvalResult:
    """Ask every question (replaying its history in a conversation); score retrieval by
    article, fact answers by accepted strings, the other kinds by key phrases."""
    rows = []
    search_ms, answer_ms = [], []
    # A bar on a terminal's stderr only: piped output (`--json | jq`) and CI logs stay clean.
    for q in tqdm(questions, desc="evaluating", unit="question", file=sys.stderr, disable=None, leave=False):
        started = time.perf_counter()
        hits = index.search(q.question, k=RETRIEVAL_DEPTH)
        search_ms.append((time.perf_counter() - started) * 1000)
        ranking = unique_in_order([h.article_id for h in hits])
        rank = first_relevant_rank(ranking, q.articles)
        row = {
            "id": q.id,
            "question": q.question,
            "type": q.type,
            "kind": q.kind,
            "history": q.history,
            "answerable": q.answerable,
            "answers": q.answers or [" / ".join(g) for g in q.groups],
            "articles": q.articles,
            "retrieved": ranking,
            "rank": rank,
            "chunk_has_answer": bool(hits) and answer_matches(hits[0].text, q.answers),
        }
        ok = rank == 1 if q.answerable else True
        if router is not None:
            conversation = Conversation(router)
            for earlier in q.history:
                conversation.ask(earlier)
            started = time.perf_counter()
            answer = conversation.ask(q.question)
            answer_ms.append((time.perf_counter() - started) * 1000)
            row |= _scored(q, answer) | {"answer_ms": answer_ms[-1]}
            ok = bool(row["answer_ok"]) if q.answerable else not answer.answerable
        row["ok"] = bool(ok)
        rows.append(row)
    return EvalResult(_metrics(rows, search_ms, answer_ms), rows, source)


def _scored(q: Question, answer: Answer) -> dict:
    """What the answer got right: its text, its citations, what it must not say."""
    cited = [c.article_id for c in answer.citations]
    said_absent = any(answer_matches(answer.answer, [phrase]) for phrase in q.absent)
    if q.scored_by_groups:
        found = groups_found(answer.answer, q.groups, q.ordered)
        text_ok = found >= q.min_groups and set(q.articles_all) <= set(cited)
    else:
        found = None
        text_ok = answer_matches(answer.answer, q.answers)
    return {
        "answer": answer.answer,
        "answer_kind": answer.kind,
        "standalone": answer.standalone_question,
        "answered": answer.answerable,
        "groups_found": found,
        "answer_ok": answer.answerable and text_ok and not said_absent,
        "citation_ok": answer.answerable
        and bool(cited)
        and (not q.articles or bool(set(cited) & set(q.articles))),
    }


def _metrics(rows: list[dict], search_ms: list[float], answer_ms: list[float]) -> dict:
    """Retrieval and answer metrics over the fact questions (comparable with earlier sets),
    then accuracy and answer latency per kind, and over all questions."""
    facts = [r for r in rows if r["kind"] == FACT]
    answerable = [r for r in facts if r["answerable"]]
    unanswerable = [r for r in facts if not r["answerable"]]
    metrics: dict = {
        "n": len(rows),
        "n_fact": len(facts),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "hit@1": mean([hit_at(r["rank"], 1) for r in answerable]),
        "hit@5": mean([hit_at(r["rank"], 5) for r in answerable]),
        "hit@10": mean([hit_at(r["rank"], 10) for r in answerable]),
        "mrr@10": mean([reciprocal_rank(r["rank"], 10) for r in answerable]),
        "chunk_hit@1": mean([float(r["chunk_has_answer"]) for r in answerable]),
        "search_ms_p50": percentile(search_ms, 50),
        "search_ms_p95": percentile(search_ms, 95),
    }
    if answer_ms:
        answered = [r for r in rows if r["answered"]]
        metrics |= {
            "answer_accuracy": mean([float(r["answer_ok"]) for r in answerable]),
            "citation_accuracy": mean([float(r["citation_ok"]) for r in answerable]),
            "refusal_accuracy": mean([float(not r["answered"]) for r in unanswerable]),
            "correct_refusals": sum(not r["answered"] for r in unanswerable),
            "false_refusals": sum(not r["answered"] for r in answerable),
            "answer_ms_p50": percentile(answer_ms, 50),
            "answer_ms_p95": percentile(answer_ms, 95),
            "answer_chars_mean": mean([len(strip_markers(r["answer"])) for r in answered if r in facts])
            or 0.0,
            "accuracy": mean([float(r["ok"]) for r in rows]),
        }
        for kind in KINDS:
            of_kind = [r for r in rows if r["kind"] == kind]
            if of_kind:
                metrics[f"accuracy_{kind}"] = mean([float(r["ok"]) for r in of_kind])
                metrics[f"n_{kind}"] = len(of_kind)
                metrics[f"answer_ms_p95_{kind}"] = percentile([r["answer_ms"] for r in of_kind], 95)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}


def run_eval(
    settings: Settings, questions: Path | None = None, squad: Path | None = None, limit: int | None = None
) -> EvalResult:
    """`rag eval`: a JSONL set against the configured index, or a SQuAD file in a temporary index.

    Raises:
        ConfigError: a malformed or empty question set, or a `limit` below 1.
    """
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be 1 or more, got {limit}")
    if squad is not None:
        articles, question_list = load_squad(squad)
        with tempfile.TemporaryDirectory(prefix="rag-squad-") as folder:
            temp = settings.replace(index=Path(folder))
            build_index(temp, articles=articles, log=lambda _: None)
            index = open_index(temp.index, settings.embedder)
            return evaluate(index, Router(index, settings), question_list[:limit], str(squad))
    path = questions or DEFAULT_QUESTIONS
    question_list = load_questions(path)[:limit]
    index = open_index(settings.index, settings.embedder, settings=settings)
    return evaluate(index, Router(index, settings), question_list, str(path))
