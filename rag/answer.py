"""Retrieved passages to a short cited answer: extractive by default, honest when nothing supports it."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from rag.calibration import AnswerCalibration, load_calibration
from rag.chunk import split_sentences
from rag.config import Settings
from rag.qtype import PERSON, PLACE, carries_type, question_type
from rag.retrieve import Hit, SearchIndex, clean_query
from rag.tokens import normalise_text

NOT_FOUND = "资料中没有找到相关信息。"
_CLAUSE_MARKS = "，,；;：:"
_BLANK = " \t\n\u3000"


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

    def to_dict(self) -> dict:
        data = {
            "question": self.question,
            "answer": self.answer,
            "answerable": self.answerable,
            "citations": [asdict(c) for c in self.citations],
            "timings_ms": self.timings_ms,
        }
        if self.notice:
            data["notice"] = self.notice
        if self.standalone_question and self.standalone_question != self.question:
            data["standalone_question"] = self.standalone_question
        return data

    def render_text(self) -> str:
        """Readable form for the terminal: the answer, then the numbered sources."""
        lines = [self.answer, ""]
        if not self.answerable and self.citations:
            lines.append("最接近的段落：")
        for c in self.citations:
            lines.append(f"[{c.n}] {c.title}（{c.date or '日期不详'}）  {c.chunk_id}")
            lines.append(f"    {c.text[c.start : c.end]}")
        if self.notice:
            lines += ["", self.notice]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Candidate:
    hit_index: int
    start: int  # within the hit's text
    end: int
    score: float
    passage_coverage: float
    typed: bool


def _clause_window(sentence: str, weights: dict[str, float], kind: str, limit: int) -> tuple[int, int]:
    """The run of clauses (at most `limit` chars) that best covers the query and the answer type."""
    if len(sentence) <= limit:
        return 0, len(sentence)
    cuts = sorted({0, len(sentence)} | {i + 1 for i, ch in enumerate(sentence) if ch in _CLAUSE_MARKS})
    best, best_score = (0, limit), -1.0
    for i in range(len(cuts) - 1):
        for j in range(i + 1, len(cuts)):
            if cuts[j] - cuts[i] > limit and j > i + 1:
                break
            piece = sentence[cuts[i] : cuts[j]]
            score = (
                coverage(normalise_text(piece), weights)
                + (0.5 if carries_type(piece, kind) else 0.0)
                - 0.001 * len(piece)
            )
            if score > best_score:
                best, best_score = (cuts[i], min(cuts[j], cuts[i] + limit)), score
    return best


def coverage(text: str, weights: dict[str, float]) -> float:
    """IDF-weighted share of the query words found in `text` (already normalised)."""
    total = sum(weights.values())
    return sum(w for word, w in weights.items() if word in text) / total if total else 0.0


class Answerer:
    """Extractive answers: the few best sentences of the retrieved passages, each cited."""

    def __init__(
        self,
        index: SearchIndex,
        settings: Settings | None = None,
        calibration: AnswerCalibration | None = None,
    ) -> None:
        self.index = index
        self.settings = settings or Settings()
        self.calibration = calibration or load_calibration().answer
        index.tokenizer.pos_flags("预热")  # load jieba's POS model now, not on the first question

    def ask(self, question: str, k: int | None = None, **filters) -> Answer:
        """Answer a question from the index.

        Args:
            question: the user's question.
            k: passages to retrieve (default from settings).
            **filters: since, until, article_ids, categories (as for `SearchIndex.search`).

        Raises:
            QueryError: empty or over-long question, bad filter values.
        """
        started = time.perf_counter()
        question = clean_query(question, self.settings.max_query_chars)
        hits = self.index.search(
            question, k=k or self.settings.top_k, max_query_chars=self.settings.max_query_chars, **filters
        )
        searched = time.perf_counter()
        answer = self.answer_from_hits(question, hits)
        answer.timings_ms = {
            "search": round((searched - started) * 1000, 2),
            "answer": round((time.perf_counter() - searched) * 1000, 2),
            "total": round((time.perf_counter() - started) * 1000, 2),
        }
        return answer

    def query_weights(self, question: str) -> dict[str, float]:
        """Content words of the question weighted by corpus IDF: rare words must be supported."""
        words = list(dict.fromkeys(self.index.tokenizer.words(question)))
        return self.index.lexical.idf(words)

    def score_sentences(self, question: str, hits: list[Hit]) -> list[_Candidate]:
        """Score every sentence of the passages against the question, best first."""
        cal = self.calibration
        weights = self.query_weights(question)
        kind = question_type(question)
        spans = [
            (i, s, e)
            for i, hit in enumerate(hits)
            for s, e in split_sentences(hit.text)
            if hit.text[s:e].strip()
        ]
        if not spans:
            return []
        texts = [hits[i].text[s:e] for i, s, e in spans]
        vectors = self.index.embedder.encode([normalise_text(question)] + [normalise_text(t) for t in texts])
        similarity = vectors[1:] @ vectors[0]
        best_passage = max(h.score for h in hits) or 1.0
        passage_coverage = [coverage(normalise_text(h.title + h.text), weights) for h in hits]
        candidates = []
        for (i, s, e), text, sim in zip(spans, texts, similarity, strict=True):
            needs_tags = kind in (PERSON, PLACE)
            typed = carries_type(
                text, kind, self.index.tokenizer.pos_flags(text) if needs_tags else frozenset()
            )
            score = (
                cal.coverage_weight * coverage(normalise_text(text), weights)
                + cal.similarity_weight * float(sim)
                + cal.passage_weight * hits[i].score / best_passage
                + (cal.type_bonus if typed else 0.0)
            )
            candidates.append(_Candidate(i, s, e, score, passage_coverage[i], typed))
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def answer_from_hits(self, question: str, hits: list[Hit]) -> Answer:
        """Compose the answer text and citations from already retrieved passages."""
        if not hits:
            return Answer(question, NOT_FOUND, False, [], hits)
        cal = self.calibration
        candidates = self.score_sentences(question, hits)
        if not candidates or not self.supported(candidates[0]):
            closest = [self._citation(n, hit, 0, len(hit.text)) for n, hit in enumerate(hits[:3], 1)]
            return Answer(question, NOT_FOUND, False, closest, hits)

        weights = self.query_weights(question)
        kind = question_type(question)
        chosen = [candidates[0]]
        for candidate in candidates[1 : cal.max_sentences]:
            if candidate.score >= cal.second_ratio * candidates[0].score:
                chosen.append(candidate)
        citations: list[Citation] = []
        numbers: dict[int, int] = {}
        parts = []
        for candidate in chosen:
            hit = hits[candidate.hit_index]
            sentence = hit.text[candidate.start : candidate.end]
            a, b = _clause_window(sentence, weights, kind, cal.max_sentence_chars)
            start, end = _strip_span(hit.text, candidate.start + a, candidate.start + b)
            if start >= end:
                continue
            if candidate.hit_index not in numbers:
                numbers[candidate.hit_index] = len(citations) + 1
                citations.append(self._citation(numbers[candidate.hit_index], hit, start, end))
            parts.append(f"{hit.text[start:end]}[{numbers[candidate.hit_index]}]")
        return Answer(question, "".join(parts), True, citations, hits)

    def supported(self, best: _Candidate) -> bool:
        """Whether the best sentence is evidence enough to answer (calibrated thresholds)."""
        cal = self.calibration
        return best.score >= cal.refuse_below and best.passage_coverage >= cal.min_coverage

    @staticmethod
    def _citation(n: int, hit: Hit, start: int, end: int) -> Citation:
        return Citation(n, hit.article_id, hit.title, hit.date, hit.chunk_id, hit.text, start, end, hit.start)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with blanks or newlines."""
    while start < end and text[start] in _BLANK:
        start += 1
    while end > start and text[end - 1] in _BLANK:
        end -= 1
    return start, end
