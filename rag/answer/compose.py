"""Evidence spans to answer text and citations: one citation card per article, every span in it.

Strategies hand over lines, each a piece of text and the article spans that support it; the
answer reads "text[1]" per line (lines joined by line breaks), and article n's card holds the
paragraphs that contain its spans, with the spans to highlight.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.answer.answers import Answer, Citation
from rag.search.catalog import ArticleRecord


@dataclass(frozen=True)
class Evidence:
    """A span of an article's cleaned text that supports a line of the answer."""

    article: ArticleRecord
    start: int
    end: int


@dataclass
class Line:
    """One line of an answer: its text, and the spans that support it (none for a heading)."""

    text: str
    evidence: list[Evidence] = field(default_factory=list)


def compose(question: str, lines: list[Line], texts: dict[str, str], answerable: bool = True) -> Answer:
    """The answer for `lines`; `texts` holds the cleaned text of every cited article."""
    numbers: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    records: dict[str, ArticleRecord] = {}
    rendered = []
    for line in lines:
        markers = []
        for item in line.evidence:
            article_id = item.article.article_id
            if article_id not in numbers:
                numbers[article_id] = len(numbers) + 1
                records[article_id] = item.article
            spans.setdefault(article_id, []).append((item.start, item.end))
            marker = f"[{numbers[article_id]}]"
            if marker not in markers:
                markers.append(marker)
        rendered.append(line.text.strip() + "".join(markers))
    citations = [_card(numbers[a], records[a], texts[a], spans[a]) for a in numbers]
    return Answer(question, "\n".join(rendered), answerable, citations)


def _card(n: int, article: ArticleRecord, text: str, spans: list[tuple[int, int]]) -> Citation:
    """The paragraphs from the first span's to the last span's, with the spans inside them."""
    spans = sorted(set(spans))
    start = text.rfind("\n", 0, spans[0][0]) + 1
    end_break = text.find("\n", spans[-1][1])
    end = len(text) if end_break < 0 else end_break
    local = tuple((s - start, e - start) for s, e in spans)
    return Citation(
        n, article.article_id, article.title, article.date, f"{article.article_id}#{start}",
        text[start:end], local[0][0], local[0][1], start, spans=local,
    )  # fmt: skip


_MARKER = re.compile(r"\[(\d+)\]")


def per_article(answer: Answer, record: Callable[[str], ArticleRecord], text: Callable[[str], str]) -> Answer:
    """The same answer with one citation card per article (all of its spans in one card), the
    markers renumbered to match, and a space after each marker that runs into the next sentence.

    Args:
        record, text: an article's record and cleaned text, by id.
    """
    numbers: dict[str, int] = {}
    renumbered: dict[int, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for citation in answer.citations:
        article_id = citation.article_id
        numbers.setdefault(article_id, len(numbers) + 1)
        renumbered[citation.n] = numbers[article_id]
        spans.setdefault(article_id, []).extend(
            (citation.article_start + s, citation.article_start + e) for s, e in citation.highlights
        )
    body = _MARKER.sub(lambda m: f"[{renumbered.get(int(m.group(1)), int(m.group(1)))}]", answer.answer)
    body = re.sub(r"(\[\d+\])(?:\1)+", r"\1", body)
    body = re.sub(r"(\[\d+\])(?=[^\s\[\]])", r"\1 ", body)
    answer.answer = body
    answer.citations = [_card(numbers[a], record(a), text(a), spans[a]) for a in numbers]
    return answer


def answer_lines(answer: Answer, record: Callable[[str], ArticleRecord], prefix: str = "") -> list[Line]:
    """An answer's lines with their evidence in article coordinates, to merge answers into one
    (`prefix` goes before the first line); `record` gives an article's record by id."""
    by_number = {c.n: c for c in answer.citations}
    lines = []
    for number, text in enumerate(answer.answer.split("\n")):
        evidence = []
        for marker in _MARKER.findall(text):
            citation = by_number.get(int(marker))
            if citation is None:
                continue
            article = record(citation.article_id)
            evidence += [Evidence(article, citation.article_start + s, citation.article_start + e)
                         for s, e in citation.highlights]  # fmt: skip
        lines.append(Line((prefix if number == 0 else "") + _MARKER.sub("", text), evidence))
    return lines
