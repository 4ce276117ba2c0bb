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
ATTRIBUTE_FACTOR = 1.5  # weight of the attribute a "X的Y是什么" asks for (2.0 lost 2 CMRC answers)
# "…会议定的主题是什么", "…园区的绿电占比有多高": Y, the few characters after the last 的.
_ATTRIBUTE_ASKED = re.compile(
    r"的([^的，,。？?\s]{1,6}?)(?:是什么|是啥|是多少|有多少|有多高|有多大|有多长|多高|多大|多长|是哪|是谁|为多少)"
)

# "刘鹤在智博会开幕式上说，数字经济发展需要什么样的环境": what is asked follows the speech verb;
# before it stand who spoke and where, which every sentence of the report holds.
_REPORTED_ASK = re.compile(r"(?:说|表示|指出|强调|认为|提到|介绍)[，,:：](.{4,})$")


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


def attribute_weighted(question: str, weights: dict[str, float]) -> dict[str, float]:
    """`weights` with the asked attribute's words weighed up (ATTRIBUTE_FACTOR): in "X的主题是什么" every
    sentence of X's article holds X, the answer is the one that says 主题."""
    question = normalise_text(question)
    asked = _ATTRIBUTE_ASKED.findall(question)
    reported = _REPORTED_ASK.search(question)
    # the attribute when one is named, else what follows the speech verb
    part = asked[-1] if asked else (reported.group(1) if reported else "")
    if not part:
        return weights
    return {word: w * (ATTRIBUTE_FACTOR if word in part else 1.0) for word, w in weights.items()}


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


# A figure as a headline states it: "16.5万辆", "846亿元", "85%".
_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:万亿|亿|万|千)?\s*(?:[个家辆台座项元%]|GWh|公里)")


def with_headline_figure(hits: list[Hit], spans: list[tuple[int, int, int]], folded: list[str]) -> list[str]:
    """Each sentence's folded text, led by its article's headline when it states the headline's
    figure: "2021年，星驰汽车生产新能源汽车16.5万辆" is what "星驰汽车2021年产量16.5万辆" says,
    so it answers "2021年产量是多少" though it says 生产."""
    figures = [{normalise_text(f) for f in _FIGURE.findall(hit.title)} for hit in hits]
    return [
        f"{normalise_text(hits[i].title)}\n{fold}" if any(f in fold for f in figures[i]) else fold
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
