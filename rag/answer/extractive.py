"""Retrieved passages to a short cited answer: extractive by default, honest when nothing supports it."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from rag.answer.answers import Answer, AnswererView, Citation, cite, refusal, search_and_answer
from rag.answer.qtype import OTHER, PERSON, PLACE, carries_type, ordinal_events, question_type
from rag.answer.safety import quotable_run
from rag.answer.sentences import after_dateline, is_filler
from rag.calibration import AnswerCalibration, load_calibration
from rag.config import Settings
from rag.index.chunk import split_sentences
from rag.index.tokens import normalise_text
from rag.search.fusion import dedup_key
from rag.search.query import NO_FILTERS, Hit, SearchFilters
from rag.search.retrieve import SearchIndex

FOCUS_SHIFT = 0.25  # coverage added for naming the side asked about, taken for naming only the other
# Headline, byline and caption lines answer only questions about them.
_ASKS_TITLE = re.compile(r"标题|题目|原题|记者|作者|来源|署名|图片|照片")
# Clause cuts for trimming long sentences; never after a colon, which introduces the answer.
_CLAUSE_MARKS = "，,；;"
_BLANK = " \t\n\u3000"


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


def term_in_text(term: str, text: str) -> bool:
    """Whether a name or number of the question occurs in the text.

    jieba sometimes glues a neighbouring character onto a name ("后康忠", "锦地罗不"), so a
    term of three or more characters also counts when it occurs without its first or last one.
    """
    if term in text:
        return True
    return len(term) >= 3 and not term.isdigit() and (term[1:] in text or term[:-1] in text)


def local_weights(weights: dict[str, float], sentences: list[str]) -> dict[str, float]:
    """Reweight query words by how few of the candidate sentences hold them.

    The subject of a question ("纽西兰鸡毛松") is in every sentence of its article and
    says nothing about which sentence answers; the asked-about word ("多高") does.
    """
    count = len(sentences)
    return {
        word: weight * math.log(1 + count / (1 + sum(word in s for s in sentences)))
        for word, weight in weights.items()
    }


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

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: SearchFilters = NO_FILTERS,
        period_slack_days: int = 0,
    ) -> Answer:
        """Answer a question from the index: `k` passages (default from settings) that pass
        `filters`; see `SearchTuning` for `period_slack_days`.

        Raises:
            QueryError: empty or over-long question, bad filter values.
        """
        return search_and_answer(self, question, k, filters, period_slack_days)

    def focused_on(self, focus: tuple[str, ...], avoid: tuple[str, ...]) -> FocusedAnswerer:
        """This answerer for one side of a comparison: sentences should hold `focus` words
        ("临海") and not the other side's `avoid` words ("云岭")."""
        return FocusedAnswerer(self, focus, avoid)

    def query_weights(self, question: str) -> dict[str, float]:
        """Content words of the question weighted by corpus IDF: rare words must be supported.

        A word the corpus never contains is either a paraphrase or a sign the corpus does
        not cover the question; `unseen_weight` (calibrated) sets how much it counts. An unseen
        compound whose parts the corpus knows ("出口量" -> 出口) is asked by its parts.
        """
        words = list(dict.fromkeys(self.index.tokenizer.words(question, search_mode=False)))
        known = self.index.backend.known(words)
        for word in [w for w in words if w not in known and len(w) >= 3]:
            parts = [p for p in self.index.tokenizer.words(word) if p != word and len(p) >= 2]
            found = self.index.backend.known(parts)
            if found:
                words = [p for w in words for p in ([*found] if w == word else [w])]
                known |= found
        return {
            word: idf * (1.0 if word in known else self.calibration.unseen_weight)
            for word, idf in self.index.backend.idf(words).items()
        }

    def sentence_features(
        self, question: str, hits: list[Hit], weights: dict[str, float], kind: str
    ) -> list[SentenceFeatures]:
        """Features of every quotable sentence of the retrieved passages (in passage order).

        Sentences addressed to an assistant, or holding credential-like strings, are never
        candidates: an article cannot choose the answer by instructing the system.
        """
        asks_title = bool(_ASKS_TITLE.search(question))
        spans = []
        for i, hit in enumerate(hits):
            pieces = [(s + after_dateline(hit.text[s:e]), e) for s, e in split_sentences(hit.text)]
            pieces = [(s, e) for s, e in pieces if hit.text[s:e].strip()]
            allowed = quotable_run([hit.text[s:e] for s, e in pieces])
            spans += [
                (i, s, e)
                for (s, e), ok in zip(pieces, allowed, strict=True)
                if ok and (asks_title or not is_filler(hit.text[s:e]))
            ]
        if not spans:
            return []
        texts = [hits[i].text[s:e] for i, s, e in spans]
        folded = [normalise_text(t) for t in texts]
        vectors = self.index.embedder.encode([normalise_text(question), *folded])
        similarity = vectors[1:] @ vectors[0]
        local = local_weights(weights, folded)
        best_passage = max(h.score for h in hits) or 1.0
        passages = [normalise_text(h.title + h.text) for h in hits]
        # The question's words may be anywhere in the article ("疫情期间" in its lead, the answer
        # three paragraphs on): support is judged on the article the passage belongs to.
        titles = {h.article_id: h.title for h in hits}
        articles = {a: normalise_text(t + self.index.article_text(a)) for a, t in titles.items()}
        passage_coverage = [coverage(articles[h.article_id], weights) for h in hits]
        key_terms = self.index.tokenizer.key_terms(question) + ordinal_events(question)
        key_terms_found = [all(term_in_text(term, p) for term in key_terms) for p in passages]
        tagger = self.index.tokenizer.pos_flags if kind in (PERSON, PLACE) else (lambda _: frozenset())
        return [
            SentenceFeatures(
                hit_index=i,
                start=s,
                end=e,
                coverage=coverage(fold, local),
                similarity=float(sim),
                passage=hits[i].score / best_passage,
                typed=carries_type(text, kind, tagger(text)),
                passage_coverage=passage_coverage[i],
                key_terms_found=key_terms_found[i],
            )
            for (i, s, e), text, fold, sim in zip(spans, texts, folded, similarity, strict=True)
        ]

    def answer_from_hits(
        self, question: str, hits: list[Hit], focus: tuple[str, ...] = (), avoid: tuple[str, ...] = ()
    ) -> Answer:
        """Compose the answer text and citations from already retrieved passages."""
        weights, kind = self.query_weights(question), question_type(question)
        features = self.sentence_features(question, hits, weights, kind)
        if focus:
            features = focused(features, hits, focus, avoid)
        return compose_answer(question, hits, features, self.calibration, weights, kind)


@dataclass(frozen=True)
class FocusedAnswerer(AnswererView):
    """An `Answerer` that answers for one side of a comparison (see `Answerer.focused_on`)."""

    answerer: Answerer
    focus: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()

    def answer_from_hits(self, question: str, hits: list[Hit]) -> Answer:
        return self.answerer.answer_from_hits(question, hits, self.focus, self.avoid)


def focused(
    features: list[SentenceFeatures], hits: list[Hit], focus: tuple[str, ...], avoid: tuple[str, ...]
) -> list[SentenceFeatures]:
    """Candidates re-weighed for one side of a comparison: a sentence naming only the side counts
    more, one naming only the other side less, one naming both ("…不到临海的六成") as it was.
    An article whose title names only one side is about that side in every sentence: the 签约
    sentence of "第五届数博会开幕" answers for 第五届 though only its lead says so."""

    def names(text: str) -> tuple[bool, bool]:
        return any(w in text for w in focus), any(w in text for w in avoid)

    def shifted(feature: SentenceFeatures) -> SentenceFeatures:
        hit = hits[feature.hit_index]
        own, other = names(normalise_text(hit.title))
        if own == other:
            own, other = names(normalise_text(hit.text[feature.start : feature.end]))
        shift = 0.0 if own == other else FOCUS_SHIFT if own else -FOCUS_SHIFT
        return dataclasses.replace(feature, coverage=feature.coverage + shift)

    return [shifted(f) for f in features]


def is_supported(best: SentenceFeatures, cal: AnswerCalibration) -> bool:
    """Whether the best sentence is evidence enough to answer (calibrated thresholds)."""
    return (
        best.score(cal) >= cal.refuse_below
        and best.passage_coverage >= cal.min_coverage
        and (best.key_terms_found or not cal.require_key_terms)
    )


def compose_answer(
    question: str,
    hits: list[Hit],
    features: list[SentenceFeatures],
    cal: AnswerCalibration,
    weights: dict[str, float],
    kind: str,
) -> Answer:
    """The best sentences (trimmed to their most relevant clauses) with [n] markers, or a refusal.

    A refusal still cites the closest passages, so the reader sees what was found.
    """
    # A sentence that shares no word with the question answers it only by accident.
    features = [f for f in features if f.coverage > 0] or features
    ranked = sorted(features, key=lambda f: -f.score(cal))
    if not ranked or not is_supported(ranked[0], cal):
        return refusal(question, hits)
    best_score = ranked[0].score(cal)
    chosen = [ranked[0]] + [
        f
        for f in ranked[1 : cal.max_sentences]
        if f.score(cal) >= cal.second_ratio * best_score and (f.key_terms_found or not cal.require_key_terms)
    ]
    neighbour = _explaining_neighbour(question, kind, ranked[0], features, cal)
    if neighbour is not None and neighbour not in chosen:
        chosen = [ranked[0], neighbour, *chosen[1:]][: cal.max_sentences]
        chosen.sort(key=lambda f: (f.hit_index, f.start))
    citations: list[Citation] = []
    numbers: dict[int, int] = {}
    parts = []
    said: set[str] = set()
    for feature in chosen:
        hit = hits[feature.hit_index]
        a, b = _clause_window(hit.text[feature.start : feature.end], weights, kind, cal.max_sentence_chars)
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
