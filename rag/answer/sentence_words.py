"""Pure: the question's words as each candidate sentence is credited with them.

A word every candidate holds tells nothing about which one answers; the subject of an article
is said in every sentence of it, also in those that only say "本鱼" or "它"; "什么是X" is
answered by the sentence that defines X, though others hold X as well.
"""

from __future__ import annotations

import dataclasses
import math
import re

from rag.answer.sentence_choice import SentenceFeatures
from rag.index.tokens import normalise_text
from rag.search.query import Hit

DEFINITION_BONUS = 0.3  # coverage added to a sentence defining what "什么是X" asks (+3 CMRC, none lost)
_DEFINITION_ASKED = re.compile(r"^(?:什么是|何谓)(.+?)[？?]?$|^(.+?)(?:是什么|指的是什么|是指什么)[？?]?$")
_QUOTES = '“”"「」《》'


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


def with_subject(
    question: str, hits: list[Hit], spans: list[tuple[int, int, int]], folded: list[str]
) -> list[str]:
    """Each sentence's folded text, led by its article's title when the question names that
    title whole: an article on the question's subject ("斯氏腔吻鳕的外形是怎样的？" in the
    article 斯氏腔吻鳕) is about it in every sentence, those that say "本鱼" or "它" too."""
    asked = normalise_text(question)
    titles = [normalise_text(hit.title).strip() for hit in hits]
    return [
        f"{titles[i]}\n{fold}" if titles[i] and titles[i] in asked else fold
        for (i, _, _), fold in zip(spans, folded, strict=True)
    ]


def defined(question: str, features: list[SentenceFeatures], texts: list[str]) -> list[SentenceFeatures]:
    """`features` with the sentences that define what the question asks ("什么是棱柱？": "棱柱是…",
    "标准杆，是…", "X（…）是…") weighed up, when the question asks only that."""
    asked = _DEFINITION_ASKED.match(question.strip())
    if not asked:
        return features
    term = re.escape(normalise_text(asked.group(1) or asked.group(2)).strip(_QUOTES))
    defines = re.compile(
        rf"^[{_QUOTES}]?{term}[{_QUOTES}]?(?:[（(][^）)]*[）)])?(?:[，,]\s*)?(?:是|为|指|即|又称|也称)"
    )
    return [
        dataclasses.replace(f, coverage=f.coverage + DEFINITION_BONUS)
        if defines.search(normalise_text(t))
        else f
        for f, t in zip(features, texts, strict=True)
    ]
