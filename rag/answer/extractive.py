"""Retrieved passages to a short cited answer: extractive by default, honest when nothing supports it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.answers import Answer, AnswererView, search_and_answer
from rag.answer.cosines import SentenceCosines
from rag.answer.lazy_features import UNKNOWN_SIMILARITY, completed
from rag.answer.places import located_places, place_kind
from rag.answer.qtype import (
    NAMED_PLACE,
    PERSON,
    PLACE,
    carries_type,
    question_type,
    shape_check,
)
from rag.answer.safety import quotable_run
from rag.answer.sentence_choice import (
    Asked,
    SentenceFeatures,
    carried_over,
    compose_answer,
    coverage,
)
from rag.answer.sentence_words import (
    attribute_weighted,
    defined,
    local_weights,
    with_headline_figure,
    with_subject,
)
from rag.answer.sentences import after_dateline, is_filler
from rag.answer.side_focus import NO_SIDE, Side, focused
from rag.answer.support import contrast_pattern, support_terms
from rag.calibration import AnswerCalibration, load_calibration
from rag.config import Settings
from rag.index.aliases import respelling
from rag.index.chunk import split_sentences
from rag.index.tokens import normalise_text
from rag.search.query import NO_FILTERS, Hit, SearchFilters
from rag.search.retrieve import SearchIndex

TAGGED_KINDS = (PERSON, PLACE, NAMED_PLACE)  # answer types the part-of-speech tagger can recognise
# Headline, byline and caption lines answer only questions about them.
_ASKS_TITLE = re.compile(r"标题|题目|原题|记者|作者|来源|署名|图片|照片")


_ASKING = re.compile(r"哪一?[天年月]|什么时候|什么|哪里|哪儿|哪些|哪个|哪位|为什么|怎么|如何|谁")


def _without(text: str, words: frozenset[str]) -> str:
    """`text` (normalised when there are any) with these words blanked out."""
    text = normalise_text(text) if words else text
    for word in words:
        text = text.replace(word, "，")
    return text


# Words that frame the question, not its topic: "…满月时…", "是从哪个部门获悉的", "给星驰定了…",
# "签约情况" (what the text says is 签约, never 情况).
_FRAME_WORDS = frozenset({"时", "是从", "当时", "给", "情况"})
# jieba glues a year's 年 onto the next word ("2021年产量" -> 年产量, "2023年数博会" -> 年数/博):
# the year ends there, unless 年底, 年初, 年内… are one word.
_YEAR_GLUE = re.compile(r"(?<=\d{4}年)(?=[^\s，,。？?底末初中内间以前后来度])")
_ASKED_COUNT = re.compile(r"^(?:几|多少)(?:[个件项条点家位名次种场批]?[\u4e00-\u9fff])?$")  # 几家, 几件事


# Speaking as the question's predicate ("在哪个论坛上发表了讲话"): the text says 表示 / 指出; not
# "讲话里提到" (the speech's content is asked there), nor 发言 / 致辞, which the text says too.
_SPOKE = re.compile(r"发表了?(?:讲话|演讲)|讲话(?=的?[？?。]?$)")


def _asked_words(question: str) -> str:
    """The question as its content words are cut from it: question words, a year's 年 and a
    predicate of saying set apart."""
    return _SPOKE.sub("，", _YEAR_GLUE.sub("，", _ASKING.sub("，", question)))


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

    def focused_on(self, side: Side) -> FocusedAnswerer:
        """This answerer for one side of a comparison: sentences should hold the side's words
        and not the other side's, and say the measure both sides ask for."""
        return FocusedAnswerer(self, side)

    def query_weights(self, question: str) -> dict[str, float]:
        """Content words of the question weighted by corpus IDF: rare words must be supported.

        A word the corpus never contains is either a paraphrase or a sign the corpus does
        not cover the question; `unseen_weight` (calibrated) sets how much it counts. An unseen
        compound whose parts the corpus knows ("出口量" -> 出口) is asked by its parts.
        """
        # "几家", "多少钱" ask for the number itself: no text holds them. A question word cut off
        # first is not glued onto its neighbour ("哪天办的" is not "天办").
        words = [
            w
            for w in self.index.tokenizer.words(_asked_words(question), search_mode=False)
            if not _ASKED_COUNT.match(w) and w not in _FRAME_WORDS
        ]
        words = list(dict.fromkeys(words))
        known = self.index.backend.known(words)
        # An unseen "签了" is 签 with an aspect particle (the text says 签约, 签署); 通过 is a word.
        stems = {w: w[:-1] for w in words if w not in known and len(w) == 2 and w[-1] in "了过着"}
        if stems:
            words = list(dict.fromkeys(stems.get(w, w) for w in words))
            known |= self.index.backend.known(list(stems.values()))
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
        """Features of every quotable sentence of the retrieved passages, all of them complete
        (calibration weighs them all; answers complete only those that can matter)."""
        features = self.candidate_features(question, hits, weights, kind)
        complete = self.completion(question, hits, kind, features, embed=True)
        return complete(list(range(len(features))))

    def completion(
        self, question: str, hits: list[Hit], kind: str, features: list[SentenceFeatures], embed: bool = False
    ) -> Callable[[list[int]], list[SentenceFeatures]]:
        """The features at given positions with their costly parts: the cosine to the question
        (when similarity weighs anything, or `embed`: calibration tries every weight) and, for
        who/where questions, the tagger's names."""
        cosines = SentenceCosines(self.index, question, hits)
        given, places = self._given(question, kind), place_kind(question)
        shape = shape_check(question)

        def typed(feature: SentenceFeatures, text: str) -> bool:
            if feature.typed or kind not in TAGGED_KINDS:
                return feature.typed
            tagged = self.index.tokenizer.tagged(text)
            if places.located:
                located = [(w, "ns") for w in located_places(tagged)]
                tagged = [(w, f) for w, f in tagged if f != "ns"] + located
            flags = {flag for word, flag in tagged if normalise_text(word) not in given}
            return carries_type(_without(text, given), kind, flags, places) and (shape is None or shape(text))

        def complete(positions: list[int]) -> list[SentenceFeatures]:
            chosen = [features[p] for p in positions]
            texts = [hits[f.hit_index].text[f.start : f.end] for f in chosen]
            weighed = embed or self.calibration.similarity_weight
            similarities = cosines(chosen) if weighed else [UNKNOWN_SIMILARITY] * len(chosen)
            return [
                dataclasses.replace(f, similarity=similarity, typed=typed(f, text))
                for f, text, similarity in zip(chosen, texts, similarities, strict=True)
            ]

        return complete

    def _given(self, question: str, kind: str) -> frozenset[str]:
        """The question's own words, when it asks for a name: "意大利哪个城市" is not answered
        by a sentence naming 意大利 only, nor "谁宣读了习近平的贺信" by 习近平."""
        if kind not in TAGGED_KINDS:
            return frozenset()
        return frozenset(w for w in self.index.tokenizer.words(question, search_mode=False) if len(w) > 1)

    def candidate_features(
        self,
        question: str,
        hits: list[Hit],
        weights: dict[str, float],
        kind: str,
        sentence_weights: dict[str, float] | None = None,
    ) -> list[SentenceFeatures]:
        """Features of every quotable sentence of the retrieved passages (in passage order),
        without the costly parts (`completion`): similarity `UNKNOWN_SIMILARITY`, and `typed`
        from cue words only (the tagger may still find a name).

        Sentences addressed to an assistant, or holding credential-like strings, are never
        candidates: an article cannot choose the answer by instructing the system.
        """
        unseen = [w for w in weights if w not in self.index.backend.known(list(weights))]
        spans = _quotable_spans(hits, bool(_ASKS_TITLE.search(question)), contrast_pattern(question, unseen))
        if not spans:
            return []
        texts = [hits[i].text[s:e] for i, s, e in spans]
        terms, given = support_terms(question, self.index.tokenizer), self._given(question, kind)
        as_asked = respelling(
            [*weights, *terms.in_passage, *terms.in_article]
        )  # "营收" found in "…营业收入…"
        folded = with_subject(question, hits, spans, [as_asked(normalise_text(t)) for t in texts])
        folded = with_headline_figure(hits, spans, folded)
        asked_weights = weights if sentence_weights is None else sentence_weights
        local = local_weights(attribute_weighted(question, asked_weights), folded)
        best_passage = max(h.score for h in hits) or 1.0
        passages = [as_asked(normalise_text(h.title + h.text)) for h in hits]
        # The question's words may be anywhere in the article ("疫情期间" in its lead, the answer
        # three paragraphs on): support is judged on the article the passage belongs to.
        titles = {h.article_id: h.title for h in hits}
        articles = {a: as_asked(normalise_text(t + self.index.article_text(a))) for a, t in titles.items()}
        passage_coverage = [coverage(articles[h.article_id], weights) for h in hits]
        key_terms_found = [
            terms.held_by(p, articles[h.article_id], h.date) for p, h in zip(passages, hits, strict=True)
        ]
        shape = shape_check(question)  # "多久": a span of time, not any number; "什么方式": a manner
        places = place_kind(question)  # "哪个城市": a city, not a country
        features = [
            SentenceFeatures(
                hit_index=i,
                start=s,
                end=e,
                coverage=coverage(fold, local),
                similarity=UNKNOWN_SIMILARITY,
                passage=hits[i].score / best_passage,
                typed=carries_type(_without(text, given), kind, places=places)
                and (shape is None or shape(text)),
                passage_coverage=passage_coverage[i],
                key_terms_found=key_terms_found[i],
            )
            for (i, s, e), text, fold in zip(spans, texts, folded, strict=True)
        ]
        return carried_over(defined(question, features, texts), hits, question, kind)

    def answer_from_hits(self, question: str, hits: list[Hit], side: Side = NO_SIDE) -> Answer:
        """Compose the answer text and citations from already retrieved passages."""
        weights, kind = self.query_weights(question), question_type(question)
        measured = side.sentence_weights(weights, normalise_text(" ".join(h.title for h in hits)))
        features = self.candidate_features(question, hits, weights, kind, measured)
        if side.focus:
            features = focused(features, hits, side.focus, side.avoid)
        type_pending = [kind in TAGGED_KINDS and not f.typed for f in features]
        features = completed(
            features, self.calibration, kind, type_pending, self.completion(question, hits, kind, features)
        )
        return compose_answer(Asked(question, weights, kind), hits, features, self.calibration)


def _quotable_spans(
    hits: list[Hit], asks_title: bool, contrast: re.Pattern[str] | None
) -> list[tuple[int, int, int]]:
    """(hit, start, end) of every sentence an answer may quote: not filler unless the question
    asks for a title, not addressed to an assistant, and not naming the counterpart of what is
    asked ("一等座票价多少钱" is not answered by "二等座全程票价98元")."""
    spans = []
    for i, hit in enumerate(hits):
        pieces = [(s + after_dateline(hit.text[s:e]), e) for s, e in split_sentences(hit.text)]
        pieces = [(s, e) for s, e in pieces if hit.text[s:e].strip()]
        allowed = quotable_run([hit.text[s:e] for s, e in pieces])
        spans += [
            (i, s, e)
            for (s, e), ok in zip(pieces, allowed, strict=True)
            if ok
            and (asks_title or not is_filler(hit.text[s:e]))
            and not (contrast and contrast.search(normalise_text(hit.text[s:e])))
        ]
    return spans


@dataclass(frozen=True)
class FocusedAnswerer(AnswererView):
    """An `Answerer` that answers for one side of a comparison (see `Answerer.focused_on`)."""

    answerer: Answerer
    side: Side = NO_SIDE

    def answer_from_hits(self, question: str, hits: list[Hit]) -> Answer:
        return self.answerer.answer_from_hits(question, hits, self.side)
