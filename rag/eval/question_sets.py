"""Question sets read and checked: JSONL sets of every kind, and SQuAD files as articles plus
questions. A malformed set is one ConfigError naming the file, line and field, never a wrong score."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.answer.intent import FACT, KINDS
from rag.errors import ConfigError
from rag.eval.metrics import unique_in_order
from rag.ingest.articles import Article


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
