"""Pure: which sentences of the retrieved passages answer, and how much of each to quote.

Each candidate sentence carries its features (`SentenceFeatures`); the calibrated score
ranks them, thresholds decide between an answer and a refusal, and the chosen sentences
are trimmed to the clauses that hold the question's words.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.answers import Answer, Citation, cite, refusal
from rag.answer.places import place_kind
from rag.answer.qtype import NUMBER, OTHER, REQUIRED_TYPES, answers_measure, carries_type
from rag.calibration import AnswerCalibration
from rag.index.tokens import normalise_text
from rag.search.fusion import dedup_key
from rag.search.query import Hit

# Clause cuts for trimming long sentences; never after a colon, which introduces the answer.
_CLAUSE_MARKS = "，,；;"
_BLANK = " \t\n\u3000"


def coverage(text: str, weights: dict[str, float]) -> float:
    """IDF-weighted share of the query words found in `text` (already normalised)."""
    total = sum(weights.values())
    return sum(w for word, w in weights.items() if word in text) / total if total else 0.0


@dataclass(frozen=True)
class Asked:
    """A question as the answerer weighs it: its words' weights and the kind of answer it wants."""

    question: str
    weights: dict[str, float]
    kind: str  # rag.answer.qtype: number, date, person, place or other


@dataclass(frozen=True)
class SentenceFeatures:
    """Why a sentence might answer the question; `score` weighs these by calibration."""

    hit_index: int
    start: int  # within the hit's text
    end: int
    coverage: float  # IDF-weighted share of question words in the sentence
    similarity: float  # embedding cosine between question and sentence
    passage: float  # the passage's retrieval score relative to the best passage
    typed: bool  # holds the kind of thing asked for (number, date, person, place)
    passage_coverage: float  # share of question words in the passage and its title
    key_terms_found: bool = True  # every name and number of the question is in the passage

    def score(self, cal: AnswerCalibration) -> float:
        return (
            cal.coverage_weight * self.coverage
            + cal.similarity_weight * self.similarity
            + cal.passage_weight * self.passage
            + (cal.type_bonus if self.typed else 0.0)
        )


# "怎么/如何…" asks for what follows the question's words ("下一步愿与各方一道，坚持互学互建…").
_MANNER = re.compile(r"怎么|怎样|如何|打算|计划")


def _clause_window(
    sentence: str, weights: dict[str, float], typed: Callable[[str], bool], limit: int, reach: bool = False
) -> tuple[int, int]:
    """The run of clauses (at most `limit` chars) that best covers the query and holds the answer
    type (`typed`): the shortest such run, or with `reach` the longest (the answer follows the
    asked words)."""
    if len(sentence) <= limit:
        return 0, len(sentence)
    cuts = _clause_cuts(sentence)
    best, best_score = (0, limit), -1.0
    for i in range(len(cuts) - 1):
        for j in range(i + 1, len(cuts)):
            if cuts[j] - cuts[i] > limit and j > i + 1:
                break
            piece = sentence[cuts[i] : cuts[j]]
            score = (
                coverage(normalise_text(piece), weights)
                + (0.5 if typed(piece) else 0.0)
                + (0.001 if reach else -0.001) * len(piece)
            )
            if score > best_score:
                best, best_score = (cuts[i], min(cuts[j], cuts[i] + limit)), score
    return best


def _completed(sentence: str, window: tuple[int, int], limit: int) -> tuple[int, int]:
    """The window carried on to the furthest clause end that keeps it within `limit`: the clause
    holding the asked words often stops at a comma before what they lead to ("犹幸在大埔却有不少
    粉丝，皆因他都是土生土长的大埔人")."""
    start, end = window
    return start, max([end] + [cut for cut in _clause_cuts(sentence) if end < cut <= start + limit])


def _clause_cuts(sentence: str) -> list[int]:
    """Where the sentence may be cut, in order: its ends and after each clause mark."""
    return sorted({0, len(sentence)} | {i + 1 for i, ch in enumerate(sentence) if ch in _CLAUSE_MARKS})


_SENTENCE_GAP = 4  # characters between consecutive sentences of an article (spaces, a line break)


def carried_over(
    features: list[SentenceFeatures], hits: list[Hit], question: str, kind: str
) -> list[SentenceFeatures]:
    """Candidates where a sentence holding the asked-for number takes the question's words from
    the sentence before it in the article (in the same passage or the previous one) when that
    one lacks the number: news puts the event in one sentence and its figures in the next
    ("第六届数博会开幕。开幕式上，118个项目集中签约"). Only when the figure is of what is
    counted (项目, not 企业; money in 元)."""
    if kind != NUMBER:
        return features
    carried = list(features)
    placed = sorted(
        range(len(features)),
        key=lambda i: (
            hits[features[i].hit_index].article_id,
            hits[features[i].hit_index].start + features[i].start,
        ),
    )
    for previous, current in itertools.pairwise(placed):
        before, this = features[previous], features[current]
        before_hit, this_hit = hits[before.hit_index], hits[this.hit_index]
        adjacent = before_hit.article_id == this_hit.article_id and (
            this_hit.start + this.start - (before_hit.start + before.end) <= _SENTENCE_GAP
        )
        if (
            adjacent
            and this.typed
            and not before.typed
            and answers_measure(question, this_hit.text[this.start : this.end])
        ):
            carried[current] = dataclasses.replace(this, coverage=max(this.coverage, before.coverage))
    return carried


def could_support(feature: SentenceFeatures, cal: AnswerCalibration, kind: str) -> bool:
    """The support rules that do not depend on the score: the passage holds enough of the
    question's words and all its names, and a how-many question gets a number (any question
    of `REQUIRED_TYPES` its type)."""
    return (
        feature.passage_coverage >= cal.min_coverage
        and (feature.key_terms_found or not cal.require_key_terms)
        and (kind not in REQUIRED_TYPES or feature.typed)
    )


def answering(features: list[SentenceFeatures]) -> list[SentenceFeatures]:
    """The candidates worth weighing: a sentence sharing no word with the question answers it
    only by accident (all of them when none shares one)."""
    return [f for f in features if f.coverage > 0] or features


def ranked_supported(
    features: list[SentenceFeatures], cal: AnswerCalibration, kind: str
) -> list[SentenceFeatures]:
    """The sentences that are evidence enough to answer, best first; empty means refuse.

    The best-scoring sentence may lack support (a neighbouring article's sentence holding the
    question's words but not its name) while the next one answers: it is skipped, not refused.
    A how-many question ("几条建议") is not answered by a sentence without a number.
    """
    supported = [
        f for f in answering(features) if could_support(f, cal, kind) and f.score(cal) >= cal.refuse_below
    ]
    return sorted(supported, key=lambda f: -f.score(cal))


def joining_ratio(feature: SentenceFeatures, kind: str, cal: AnswerCalibration) -> float:
    """The share of the best score a further sentence needs to join the answer: for a who / when
    / where / how-many question, one without the asked-for kind of thing is context only."""
    return cal.second_ratio if kind == OTHER or feature.typed else cal.context_ratio


def compose_answer(
    asked: Asked, hits: list[Hit], features: list[SentenceFeatures], cal: AnswerCalibration
) -> Answer:
    """The best sentences (trimmed to their most relevant clauses) with [n] markers, or a refusal.

    A refusal still cites the closest passages, so the reader sees what was found.
    """
    question, weights, kind = asked.question, asked.weights, asked.kind
    features = answering(features)
    supported = ranked_supported(features, cal, kind)
    if not supported:
        return refusal(question, hits)
    kept = {id(f) for f in supported}
    ranked = supported + sorted((f for f in features if id(f) not in kept), key=lambda f: -f.score(cal))
    best_score = ranked[0].score(cal)
    chosen = [ranked[0]] + [
        f
        for f in ranked[1 : cal.max_sentences]
        if f.score(cal) >= joining_ratio(f, kind, cal) * best_score
        and (f.key_terms_found or not cal.require_key_terms)
    ]
    neighbour = _explaining_neighbour(question, kind, ranked[0], features, cal)
    if neighbour is not None and neighbour not in chosen:
        chosen = [ranked[0], neighbour, *chosen[1:]][: cal.max_sentences]
    # The best sentence's passage first, a passage's sentences as the article has them: two
    # sentences that answer together read as written ("…遣一万人来支援百济，但为时已晚。百济首都…").
    passage_order = {i: n for n, i in reversed(list(enumerate(f.hit_index for f in chosen)))}
    chosen.sort(key=lambda f: (passage_order[f.hit_index], f.start))
    citations: list[Citation] = []
    numbers: dict[int, int] = {}
    parts = []
    said: set[str] = set()
    # "哪个城市": the clause naming a city, not the country.
    typed = functools.partial(carries_type, kind=kind, places=place_kind(question))
    for feature in chosen:
        hit = hits[feature.hit_index]
        sentence = hit.text[feature.start : feature.end]
        window = _clause_window(sentence, weights, typed, cal.max_sentence_chars,
                                reach=kind == OTHER and bool(_MANNER.search(question)))  # fmt: skip
        if kind == OTHER and feature is ranked[0]:  # the answer itself reads to its end
            window = _completed(sentence, window, cal.max_sentence_chars)
        a, b = window
        start, end = _strip_span(hit.text, feature.start + a, feature.start + b)
        key = dedup_key(hit.text[start:end])
        if start >= end or key in said:
            continue  # a reprinted sentence is said once
        said.add(key)
        if feature.hit_index not in numbers:
            numbers[feature.hit_index] = len(citations) + 1
            citations.append(cite(numbers[feature.hit_index], hit, start, end))
        parts.append(f"{hit.text[start:end]}[{numbers[feature.hit_index]}]")
    return Answer(question, "".join(parts), True, citations, hits)


_WHY = re.compile(r"为什么|为何|原因|怎么会|何以")


def _explaining_neighbour(
    question: str, kind: str, best: SentenceFeatures, features: list[SentenceFeatures], cal: AnswerCalibration
) -> SentenceFeatures | None:
    """The sentence next to one that merely restates the question.

    For "为什么…" / "…有什么特点" questions the sentence sharing the question's words is often
    a restatement ("此战奠定了…霸权。"), and the reason or description stands beside it:
    before it for a why-question, after it otherwise.
    """
    if kind != OTHER or best.coverage < cal.restatement_coverage:
        return None
    same_passage = [f for f in features if f.hit_index == best.hit_index]
    position = same_passage.index(best)
    step = -1 if _WHY.search(question) else 1
    if 0 <= position + step < len(same_passage):
        return same_passage[position + step]
    return None


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with blanks or newlines."""
    while start < end and text[start] in _BLANK:
        start += 1
    while end > start and text[end - 1] in _BLANK:
        end -= 1
    return start, end
