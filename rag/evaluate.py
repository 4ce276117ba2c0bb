"""Question sets (JSONL or SQuAD) against an index: retrieval, answer, citation, refusal, latency."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.answer import Answer
from rag.build import build_index
from rag.config import Settings
from rag.conversation import Conversation
from rag.errors import ConfigError
from rag.ingest import Article
from rag.intent import FACT, KINDS
from rag.metrics import (
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
from rag.retrieve import SearchIndex, open_index
from rag.router import Router

DEFAULT_QUESTIONS = Path("seeds/questions.jsonl")
RETRIEVAL_DEPTH = 10


@dataclass(frozen=True)
class Question:
    """One evaluation question.

    Fact questions are scored by `answers` (accepted strings, any one suffices); the other
    kinds by key phrases: `groups` (each a list of acceptable alternatives), of which `min`
    must appear (in order when `ordered`), every article of `articles_all` cited, and none
    of `absent` said. `history` holds the earlier user turns of a follow-up, oldest first.
    """

    id: str
    question: str
    answers: list[str]
    articles: list[str]
    answerable: bool = True
    type: str = ""
    kind: str = FACT
    groups: list[list[str]] = field(default_factory=list)
    min_groups: int = 0
    ordered: bool = False
    articles_all: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)

    @property
    def scored_by_groups(self) -> bool:
        return bool(self.groups)


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set.

    Raises:
        ConfigError: missing file, bad JSON or a missing field, naming the line.
    """
    questions = []
    seen: set[str] = set()
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{where}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: a question must be a JSON object")
        groups = data.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise ConfigError(f"{where}: field 'groups' must be a list of lists of strings")
        question = Question(
            id=_text_field(data, "id", where),
            question=_text_field(data, "question", where),
            answers=_text_list(data, "answers", where),
            articles=_text_list(data, "articles", where),
            answerable=_flag(data, "answerable", where),
            type=_text_field(data, "type", where, default=""),
            kind=_text_field(data, "kind", where, default=FACT),
            groups=[_text_list({"group": g}, "group", where) for g in groups],
            min_groups=_count(data, "min", where, default=len(groups)),
            ordered=_flag(data, "ordered", where, default=False),
            articles_all=_text_list(data, "articles_all", where),
            absent=_text_list(data, "absent", where),
            history=_text_list(data, "history", where),
        )
        if question.id in seen:
            raise ConfigError(f"{where}: question id '{question.id}' is used twice")
        seen.add(question.id)
        if question.kind not in KINDS:
            raise ConfigError(f"{where}: unknown kind '{question.kind}'. Valid: {', '.join(KINDS)}")
        if question.answerable and not (question.answers or question.groups):
            raise ConfigError(f"{where}: answerable question needs 'answers' or 'groups'")
        if question.answerable and question.answers and not question.articles:
            raise ConfigError(f"{where}: answerable fact question needs 'articles'")
        questions.append(question)
    if not questions:
        raise ConfigError(f"{path}: no questions in the file")
    return questions


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"question set not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (bad byte at {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc


def _text_field(data: dict, name: str, where: str, default: str | None = None) -> str:
    """A required (or defaulted) field that must be text; numbers are taken as their digits."""
    value = data.get(name, default)
    if value is None:
        raise ConfigError(f"{where}: field '{name}' is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{where}: field '{name}' must be text, got {type(value).__name__}")
    return str(value)


def _text_list(data: dict, name: str, where: str) -> list[str]:
    """A list of non-empty strings: a bare string would be scored character by character."""
    values = data.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{where}: field '{name}' must be a list of non-empty strings, got {values!r}")
    return values


def _flag(data: dict, name: str, where: str, default: bool = True) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: field '{name}' must be true or false, got {value!r}")
    return value


def _count(data: dict, name: str, where: str, default: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: field '{name}' must be a whole number, got {value!r}")
    return value


def load_squad(path: Path) -> tuple[list[Article], list[Question]]:
    """A SQuAD-format file as articles (one per context) and questions about them.

    Raises:
        ConfigError: not SQuAD-shaped JSON, naming the file and what is missing.
    """
    try:
        data = json.loads(_read_text(path))
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    documents = data.get("data") if isinstance(data, dict) else None
    if not isinstance(documents, list):
        raise ConfigError(f"{path}: not a SQuAD-format file: 'data' must be a list of documents")
    articles, questions = [], []
    article_ids: set[str] = set()
    for doc_number, document in enumerate(documents):
        where = f"{path}: data[{doc_number}]"
        paragraphs = _squad_list(document, "paragraphs", where)
        for par_number, paragraph in enumerate(paragraphs):
            here = f"{where}.paragraphs[{par_number}]"
            if not isinstance(paragraph, dict):
                raise ConfigError(f"{here}: a paragraph must be an object with 'context' and 'qas'")
            article_id = str(paragraph.get("id") or f"doc{doc_number}_p{par_number}")
            article_id = _unique(article_id, article_ids)  # CMRC-like files reuse paragraph ids
            title = str(document.get("title") or article_id)
            context = paragraph.get("context", "")
            if not isinstance(context, str):
                raise ConfigError(f"{here}: 'context' must be text")
            if not context.strip():
                continue
            articles.append(Article(article_id=article_id, title=title, paragraphs=[context.strip()]))
            for qa_number, qa in enumerate(_squad_list(paragraph, "qas", here)):
                question = _squad_question(qa, article_id, f"{here}.qas[{qa_number}]")
                if question is not None:
                    questions.append(question)
    if not articles:
        raise ConfigError(f"{path}: no contexts found")
    if not questions:
        raise ConfigError(f"{path}: no questions found")
    return articles, questions


def _squad_list(parent: object, name: str, where: str) -> list:
    if not isinstance(parent, dict):
        raise ConfigError(f"{where}: must be an object with '{name}'")
    value = parent.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: '{name}' must be a list")
    return value


def _unique(article_id: str, taken: set[str]) -> str:
    candidate, number = article_id, 1
    while candidate in taken:
        number += 1
        candidate = f"{article_id}#{number}"
    taken.add(candidate)
    return candidate


def _squad_question(qa: object, article_id: str, where: str) -> Question | None:
    """One SQuAD question, or None for an empty one (CMRC's trial set has one)."""
    if not isinstance(qa, dict):
        raise ConfigError(f"{where}: a question must be an object")
    text = qa.get("question", "")
    if not isinstance(text, str):
        raise ConfigError(f"{where}: 'question' must be text")
    if not text.strip():
        return None
    if qa.get("id") in (None, ""):
        raise ConfigError(f"{where}: question has no 'id'")
    answers = []
    for answer in _squad_list(qa, "answers", where):
        if not isinstance(answer, dict) or not isinstance(answer.get("text", ""), str):
            raise ConfigError(f"{where}: each answer must be an object with 'text'")
        if answer.get("text"):
            answers.append(answer["text"])
    answers = unique_in_order(answers)
    return Question(
        id=str(qa["id"]),
        question=text,
        answers=answers,
        articles=[article_id],
        answerable=bool(answers) and not qa.get("is_impossible", False),
    )


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
    for q in questions:
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
            ok = row["answer_ok"] if q.answerable else not answer.answerable
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
    index = open_index(settings.index, settings.embedder)
    return evaluate(index, Router(index, settings), question_list, str(path))
