"""What every answerer returns: the answer text with [n] markers and its numbered citations,
and the one search-then-answer step that every answerer shares."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Protocol

from rag.config import Settings
from rag.search.query import NO_FILTERS, Hit, SearchFilters, SearchTuning, clean_query
from rag.search.retrieve import SearchIndex

NOT_FOUND = "资料中没有找到相关信息。"


@dataclass(frozen=True)
class Citation:
    """One numbered source: the passage and, inside it, the span that supports the answer.

    `start`/`end` index into `text` (the cited passage), so a UI can highlight
    `text[start:end]`; `article_start` is where the passage starts in the article.
    """

    n: int
    article_id: str
    title: str
    date: str
    chunk_id: str
    text: str
    start: int
    end: int
    article_start: int
    spans: tuple[tuple[int, int], ...] = ()  # every supporting span in `text`; () means (start, end)

    @property
    def highlights(self) -> tuple[tuple[int, int], ...]:
        return self.spans or ((self.start, self.end),)


@dataclass
class Answer:
    """What `ask` returns: answer text with [n] markers, its citations, and timings."""

    question: str
    answer: str
    answerable: bool
    citations: list[Citation]
    passages: list[Hit] = field(default_factory=list)
    timings_ms: dict = field(default_factory=dict)
    notice: str = ""
    standalone_question: str = ""
    kind: str = "fact"  # the question kind that chose the strategy (see rag.answer.intent)

    def to_dict(self) -> dict:
        data = {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "kind": self.kind,
            "answer": self.answer,
            "answerable": self.answerable,
            "citations": [{**asdict(c), "spans": [list(s) for s in c.highlights]} for c in self.citations],
            "timings_ms": self.timings_ms,
        }
        if self.notice:
            data["notice"] = self.notice
        return data

    def render_text(self) -> str:
        """Readable form for the terminal: the answer, then the numbered sources."""
        lines = [self.answer, ""]
        if not self.answerable and self.citations:
            lines.append("最接近的段落：")
        for c in self.citations:
            lines.append(f"[{c.n}] {c.title}（{c.date or '日期不详'}）  {c.article_id}")
            lines += [f"    {c.text[s:e]}" for s, e in c.highlights]
        if self.notice:
            lines += ["", self.notice]
        return "\n".join(lines)


def cite(n: int, hit: Hit, start: int, end: int) -> Citation:
    """Citation number `n` for a passage, supporting span `hit.text[start:end]`."""
    return Citation(n, hit.article_id, hit.title, hit.date, hit.chunk_id, hit.text, start, end, hit.start)


def refusal(question: str, hits: list[Hit]) -> Answer:
    """The honest "not found" answer, still citing the closest passages for the reader."""
    closest = [cite(n, hit, 0, len(hit.text)) for n, hit in enumerate(hits[:3], 1)]
    return Answer(question, NOT_FOUND, False, closest, hits)


class PassageAnswerer(Protocol):
    """An answerer (extractive or a chat model): a question and its passages to an answer."""

    @property
    def index(self) -> SearchIndex: ...

    @property
    def settings(self) -> Settings: ...

    def answer_from_hits(self, question: str, hits: list[Hit]) -> Answer: ...


@dataclass(frozen=True)
class AnswererView:
    """Base of answerers that answer like another one, with its index and settings."""

    answerer: PassageAnswerer

    @property
    def index(self) -> SearchIndex:
        return self.answerer.index

    @property
    def settings(self) -> Settings:
        return self.answerer.settings


def search_and_answer(
    answerer: PassageAnswerer,
    question: str,
    k: int | None = None,
    filters: SearchFilters = NO_FILTERS,
    period_slack_days: int = 0,
) -> Answer:
    """Retrieve the passages for a question and answer from them, timing both halves.

    Raises:
        QueryError: empty or over-long question, bad filter values.
    """
    settings = answerer.settings
    started = time.perf_counter()
    question = clean_query(question, settings.max_query_chars)
    tuning = SearchTuning(period_slack_days=period_slack_days, max_query_chars=settings.max_query_chars)
    hits = answerer.index.search(question, k or settings.top_k, filters, tuning)
    searched = time.perf_counter()
    answer = answerer.answer_from_hits(question, hits)
    answer.timings_ms = {
        "search": round((searched - started) * 1000, 2),
        "answer": round((time.perf_counter() - searched) * 1000, 2),
        "total": round((time.perf_counter() - started) * 1000, 2),
    }
    return answer
