"""Pure: candidate sentences re-weighed for one side of a comparison ("临海" against "云岭")."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rag.answer.sentence_choice import SentenceFeatures
from rag.index.tokens import normalise_text
from rag.search.query import Hit

FOCUS_SHIFT = 0.25  # coverage added for naming the side asked about, taken for naming only the other


@dataclass(frozen=True)
class Side:
    """One side of a comparison as sentences are weighed for it: its own words ("临海"), the
    other side's ("云岭"), and the measure both ask for ("签约情况"; empty when unknown)."""

    focus: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    measure: tuple[str, ...] = ()

    @classmethod
    def of(cls, words: list[str], other_words: list[str], measure_words: list[str]) -> Side:
        """The side whose sub-question has these words, compared with the other's."""
        # A single Chinese character ("年" of "合作年", "市") names no side: most sentences hold
        # it; a single digit or letter ("2号线", "第5届") may be all that tells the sides apart.
        own = {normalise_text(w) for w in words if len(w) >= 2 or w.isascii()}
        others = {normalise_text(w) for w in other_words if len(w) >= 2 or w.isascii()}
        return cls(tuple(own - others), tuple(others - own), tuple(normalise_text(w) for w in measure_words))

    def sentence_weights(self, weights: dict[str, float], titles: str) -> dict[str, float]:
        """The question's words a sentence must hold. A side whose name is the subject of an
        article found (in its title: "第三届…数字经济博览会在临海开幕") must say what is
        measured ("第三届数博会签约金额": 签约, 金额), not repeat the subject; nor the scope both
        sides share ("白皮书里临海的数字经济": 白皮书 is the article, not its 临海 paragraph)."""

        def subject(word: str) -> bool:
            shared = bool(self.measure) and not any(word in m for m in self.measure)
            return word in titles and (word in self.focus or shared)

        return {w: v for w, v in weights.items() if not subject(w)} or weights


NO_SIDE = Side()


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
            text = normalise_text(hit.text[feature.start : feature.end])
            own, other = names(text)
            if own and other:
                own, other = _leading_side(text, focus, avoid)
        shift = 0.0 if own == other else FOCUS_SHIFT if own else -FOCUS_SHIFT
        return dataclasses.replace(feature, coverage=feature.coverage + shift)

    return [shifted(f) for f in features]


def _leading_side(text: str, focus: tuple[str, ...], avoid: tuple[str, ...]) -> tuple[bool, bool]:
    """(own, other) for a sentence naming both sides: "云岭市…680亿元，总量不到临海的六成" is
    about the side it starts with; "临海和云岭将…各有侧重" about both (the names stand together)."""

    def first(words: tuple[str, ...]) -> int:
        return min((i for i in (text.find(w) for w in words) if i >= 0), default=len(text))

    own_at, other_at = first(focus), first(avoid)
    if abs(own_at - other_at) <= _TOGETHER:
        return True, True
    return own_at < other_at, other_at < own_at


_TOGETHER = 5  # characters between two names said together ("临海市和云岭市", "临海、云岭两市")
