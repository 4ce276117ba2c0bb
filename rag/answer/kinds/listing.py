"""The points of an enumeration, whole and in order: "一是…二是…", "第一…第二", "（一）", "1.",
"首先/其次/最后", paragraphs after "提出以下几点", or a "、"-separated series.

The enumeration chosen is the one whose introduction and items best cover the question;
when the text announces a number ("六点倡议") or the question does ("哪三点"), that many
items are returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.compose import Evidence, Line
from rag.answer.intent import announced_count
from rag.answer.kinds.context import Context
from rag.answer.sentence_choice import coverage
from rag.answer.sentences import Sentence, is_filler
from rag.index.tokens import normalise_text

_ORDINALS = "一二三四五六七八九十"
_CN, _NTH, _PAREN = rf"[{_ORDINALS}]是", rf"第[{_ORDINALS}][，,、：:是]", rf"[（(][{_ORDINALS}][)）]"
_MARKER = re.compile(
    rf"(?P<cn>{_CN})|(?P<nth>{_NTH})|(?P<paren>{_PAREN})|"
    r"(?P<num>(?<![\d.])\d{1,2}[.、．](?!\d))|(?P<seq>首先|其次|再次|最后)"
)
ORDINAL_ITEM = re.compile(f"{_CN}|{_NTH}|{_PAREN}")  # "一是…", "第二，…", "（三）…": an item's marker
_INTRO = re.compile(rf"([{_ORDINALS}两]|\d{{1,2}})(?:点|个方面|项|条|大|方面|件事|个)|以下|如下|主要有|包括")
SEARCH_DEPTH = 8
ARTICLES_TRIED = 3
MIN_SCORE = 0.35  # below it no enumeration answers the question (the fact answer is given)


@dataclass
class Enumeration:
    """Items of one enumeration in one article, the sentence that introduces it, and its score."""

    article_id: str
    items: list[tuple[int, int]]  # spans in the article text
    intro: str
    announced: int | None
    score: float = 0.0
    series: bool = False  # one sentence naming things ("A、B和C"), not marked items
    around: str = ""  # the paragraph of a series (it tells whose words they are)
    lead: tuple[int, int] | None = None  # the sentence's words before the first marker
    intro_start: int = 0  # where the sentence introducing the enumeration starts


def enumerations(text: str, sentences: list[Sentence]) -> list[Enumeration]:
    """Every enumeration of an article (markers of one style, counted from the first)."""
    found: list[Enumeration] = []
    for style in ("cn", "nth", "paren", "num", "seq"):
        marks = [m for m in _MARKER.finditer(text) if m.group(style)]
        run: list[re.Match] = []
        for mark in marks:
            following = style == "seq" and mark.group(style) != "首先"
            if run and (following or _ordinal(mark.group(style)) == _ordinal(run[-1].group(style)) + 1):
                run.append(mark)
                continue
            if len(run) >= 2:
                found.append(_from_marks(text, run, sentences))
            starts = mark.group(style) == "首先" if style == "seq" else _ordinal(mark.group(style)) == 1
            run = [mark] if starts else []
        if len(run) >= 2:
            found.append(_from_marks(text, run, sentences))
    found += _series(sentences)
    return found


def _ordinal(marker: str) -> int:
    digits = re.search(r"\d+", marker)
    if digits:
        return int(digits.group(0))
    letter = re.search(rf"[{_ORDINALS}]", marker)
    return _ORDINALS.index(letter.group(0)) + 1 if letter else 0


def _from_marks(text: str, marks: list[re.Match], sentences: list[Sentence]) -> Enumeration:
    items = []
    for number, mark in enumerate(marks):
        end = marks[number + 1].start() if number + 1 < len(marks) else _item_end(text, mark.start())
        items.append(_trimmed(text, mark.start(), end))
    intro = _intro_before(sentences, marks[0].start())
    holder = next((s for s in sentences if s.start <= marks[0].start() < s.end), None)
    lead = (holder.start, marks[0].start()) if holder and 0 < marks[0].start() - holder.start <= 40 else None
    before = [s for s in sentences if s.start < marks[0].start()]
    intro_start = before[-1].start if before else marks[0].start()
    count = announced_count(intro) if _INTRO.search(intro) else None
    return Enumeration("", items, intro, count, lead=lead, intro_start=intro_start)


def _item_end(text: str, start: int) -> int:
    """The last item runs to the end of its paragraph when it starts one (items as paragraphs),
    else to the end of its sentence."""
    paragraph_end = text.find("\n", start)
    paragraph_end = len(text) if paragraph_end < 0 else paragraph_end
    if start == 0 or text[start - 1] == "\n":
        return paragraph_end
    sentence_end = re.search(r"[。！？；;]", text[start:paragraph_end])
    return start + sentence_end.end() if sentence_end else paragraph_end


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in " \n\u3000，,；;":
        end -= 1
    return start, end


def _intro_before(sentences: list[Sentence], position: int) -> str:
    """The sentence holding `position`, and the one before it (the enumeration's introduction)."""
    before = [s for s in sentences if s.start <= position]
    return "".join(s.text for s in before[-2:])


def _series(sentences: list[Sentence]) -> list[Enumeration]:
    """A sentence naming three or more things ("A、B和C", "A、B、C等") is an enumeration of them."""
    found = []
    for sentence in sentences:
        joined = len(re.findall(r"[^、，,]{2,12}(?:和|及|以及)[^、，,]{2,12}", sentence.text))
        if sentence.text.count("、") + joined >= 2 and not is_filler(sentence.text):
            paragraph = "".join(s.text for s in sentences if s.paragraph == sentence.paragraph)
            span = [(sentence.start, sentence.end)]
            found.append(Enumeration("", span, sentence.text, None, series=True, around=paragraph))
    return found


def _scored(
    enumeration: Enumeration, text: str, weights: dict[str, float], announced: int | None, rank: int
) -> float:
    """How well an enumeration answers: its introduction's coverage of the question first; one
    that has as many items as its text announces ("三点要求：一是…二是…三是…") is surely a list."""
    items = "".join(text[s:e] for s, e in enumeration.items)
    body = normalise_text(enumeration.intro + items + enumeration.around)
    return (
        coverage(normalise_text(enumeration.intro), weights)
        + 0.5 * coverage(body, weights)
        + (0.3 if len(enumeration.items) > 1 else 0.0)
        + (0.3 if announced and announced in (len(enumeration.items), enumeration.announced) else 0.0)
        + (0.3 if enumeration.announced == len(enumeration.items) > 1 else 0.0)
        - 0.1 * rank
    )


def list_lines(context: Context, question: str, announced: int | None) -> list[Line]:
    """Lines for "哪几点 / 几个方面 / 哪三项": the best enumeration of the best few articles."""
    hits = context.index.search(question, k=SEARCH_DEPTH)
    articles = list(dict.fromkeys(h.article_id for h in hits))[:ARTICLES_TRIED]
    # One-character words ("要", "会") and question words do not tell enumerations apart.
    weights = {
        w: v for w, v in context.answerer.query_weights(question).items() if len(w) > 1 and w[0] != "哪"
    }
    best: Enumeration | None = None
    for rank, article_id in enumerate(articles):
        text = context.text(article_id)
        for enumeration in enumerations(text, context.sentences(article_id)):
            enumeration.article_id = article_id
            enumeration.score = _scored(enumeration, text, weights, announced, rank)
            if best is None or enumeration.score > best.score:
                best = enumeration
    if best is None or best.score < MIN_SCORE:
        return []
    return _lines(context, best, question, announced)


def enumeration_at(context: Context, article_id: str, position: int, question: str) -> list[Line]:
    """The marked enumeration ("一是…") holding `position` of an article, as lines; [] if none.

    A plain "哪些" question is answered by the fact answerer; when its answer sentence is
    part of an enumeration, the reader wants the whole enumeration.
    """
    text = context.text(article_id)
    sentences = context.sentences(article_id)
    answering = next((s.text for s in sentences if s.start <= position < s.end), "")
    if _names_asked_series(answering, question):
        return []  # "通过G20、金砖等多边机制…" answers "哪些多边机制" itself, before any 一是…
    for enumeration in enumerations(text, sentences):
        if enumeration.series or len(enumeration.items) < 2:
            continue
        if enumeration.intro_start <= position < enumeration.items[-1][1]:
            enumeration.article_id = article_id
            return _lines(context, enumeration, question, None)
    return []


# "A、B等多边机制": a series that names what it is a series of.
_NAMED_SERIES = re.compile(r"、[^，,。；;、]{1,20}等([\u4e00-\u9fff]{2})")


def _names_asked_series(sentence: str, question: str) -> bool:
    """Whether the sentence lists the very things a "哪些X" question asks for ("…等X")."""
    return any(f"哪些{m.group(1)}" in question for m in _NAMED_SERIES.finditer(sentence))


def _lines(context: Context, best: Enumeration, question: str, announced: int | None) -> list[Line]:
    text = context.text(best.article_id)
    wanted = announced or best.announced
    items = best.items[:wanted] if wanted and len(best.items) > wanted else best.items
    record = context.record(best.article_id)
    lines = [Line(text[s:e], [Evidence(record, s, e)]) for s, e in items]
    if best.lead:  # "其职能有四个方面：" before "一是…" in the same sentence
        lines.insert(0, Line(text[best.lead[0] : best.lead[1]], [Evidence(record, *best.lead)]))
    if (asks_count := _ASKS_COUNT.search(question)) and not best.series:
        lines.insert(0, Line(f"共{_chinese_number(len(items))}{asks_count.group(1)}："))
    return lines


_ASKS_COUNT = re.compile(r"几([点个项条类种大件])")


def _chinese_number(value: int) -> str:
    return _ORDINALS[value - 1] if 1 <= value <= 10 else str(value)
