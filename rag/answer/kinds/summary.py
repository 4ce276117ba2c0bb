"""An extractive summary of one article: the news lead first, then the sentences that say most
of what the article says (closest to the article's own centroid), in article order, no repeats,
within SUMMARY_CHARS."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np

from rag.answer.compose import Evidence, Line
from rag.answer.cosines import article_sentence_vectors
from rag.answer.intent import EARLIEST, LATEST, ONLY, Intent
from rag.answer.kinds.context import Context
from rag.answer.periods import CONTENT_SLACK_DAYS, Period
from rag.answer.sentences import is_filler
from rag.index.tokens import normalise_text
from rag.search.fusion import dedup_key
from rag.search.query import NO_FILTERS, SearchFilters, SearchTuning

SUMMARY_CHARS = 300
RESTATED_SHARE = 0.5
LEAD_SENTENCES = 1
ASPECT_BONUS = 0.3
_FIGURE = re.compile(r"\d|[一二三四五六七八九十百千万亿]+[个家项条场次届年月日]")
_ENDED = re.compile(r"[。！？!?；;…”’」』）)]\s*$")
_ITEM_START = re.compile(
    r"^(?:[一二三四五六七八九十]是|第[一二三四五六七八九十]|[（(][一二三四五六七八九十][)）])"
)


def summary_lines(context: Context, article_id: str, heading: bool = True, question: str = "") -> list[Line]:
    """Lines summarising one article, headed by its title and date; what the question asks
    about beyond the article's subject ("…的建设和用户情况": 用户) is said first."""
    record = context.record(article_id)
    title = normalise_text(record.title)
    aspects = [
        w for w in context.words(_SUMMARY_WORDS.sub(" ", question))
        if len(w) > 1 and w not in title and w not in _NO_ASPECT
    ]  # fmt: skip
    sentences = [s for s in context.sentences(article_id) if not is_filler(s.text) and s.text != record.title]
    if not sentences:
        return []
    vectors = article_sentence_vectors(context.index, article_id, sentences)
    centroid = vectors.mean(axis=0)
    centrality = vectors @ (centroid / (np.linalg.norm(centroid) or 1.0))
    # News puts the facts first and in figures: earlier sentences and those with numbers,
    # dates and counts say more than a general remark; items of a list need their heading.
    count = len(sentences)
    score = [
        float(centrality[i])
        + 0.25 * bool(_FIGURE.search(s.text))
        + 0.2 * (1 - i / count)
        - 0.3 * bool(_ITEM_START.match(s.text))
        - 0.002 * max(0, len(s.text) - 90)
        + ASPECT_BONUS * any(w in normalise_text(s.text) for w in aspects)
        for i, s in enumerate(sentences)
    ]
    chosen = set(range(min(LEAD_SENTENCES, count)))
    total = sum(len(sentences[i].text) for i in chosen)
    for i in (int(i) for i in np.argsort(-np.asarray(score), kind="stable")):
        if i in chosen or total + len(sentences[i].text) > SUMMARY_CHARS:
            continue
        if any(_restates(sentences[i].text, sentences[j].text) for j in chosen):
            continue  # a reprint ("八月二十三日…开幕" and "8月23日…开幕") is said once
        chosen.add(i)
        total += len(sentences[i].text)
    picked = [sentences[i] for i in sorted(chosen)]
    # A subheading ("习近平向…致贺信") has no full stop: a space keeps it off the next sentence.
    text = "".join(s.text + ("" if _ENDED.search(s.text) else " ") for s in picked).rstrip()
    lines = [Line(text, [Evidence(record, s.start, s.end) for s in picked])]
    if heading:
        lines.insert(0, Line(f"《{record.title}》（{record.date or '日期不详'}）："))
    return lines


_SUMMARY_WORDS = re.compile(
    r"帮我|请|给我|总结|概括|概述|归纳|一下|主要内容|大意|要点|讲了什么|讲的是什么|说了什么|写了什么|讲了些什么|"
    r"介绍一下|简单|说说|讲讲|聊聊|情况怎么样|怎么样了|怎么样|如何|好不好|什么情况|的情况|是怎么回事|那篇|这篇|报道|新闻|文章|"
    r"[？?。，,]"
)
_NO_ASPECT = frozenset({"情况", "内容", "方面", "问题", "事情"})  # asked of every article


def _names_a_topic(question: str, period: Period) -> bool:
    """Whether a question names something besides its period and the summary it asks for
    ("2021年重庆智博会开幕那篇新闻主要讲了什么", not "2020年那篇报道讲的是什么")."""
    rest = _SUMMARY_WORDS.sub("", question.replace(period.label, ""))
    return len(re.sub(r"[的是主要了那这该一篇份年月里中]", "", rest)) >= 2


def _restates(first: str, second: str) -> bool:
    """Whether two sentences say the same (over half of their character bigrams shared)."""
    a, b = (set(pairwise(t)) for t in (dedup_key(first), dedup_key(second)))
    return bool(a and b) and len(a & b) / min(len(a), len(b)) > RESTATED_SHARE


def article_for(context: Context, question: str, filters: SearchFilters = NO_FILTERS) -> str | None:
    """The article a summary question is about: the best match for what it names."""
    topic = _SUMMARY_WORDS.sub(" ", question).strip() or question
    tuning = SearchTuning(period_slack_days=CONTENT_SLACK_DAYS)  # "2022年的经营情况" in January 2023
    hits = context.index.search(topic, 5, filters, tuning=tuning)
    return hits[0].article_id if hits else None


def asked_summary(context: Context, intent: Intent) -> list[Line]:
    """The summary a question asks for: of the newest, oldest or only article (of its period), of
    the article it refers to, or of the article its words find."""
    if intent.corpus_ask in (LATEST, EARLIEST, ONLY):
        period = intent.period
        articles = (
            context.catalog.published(period.start, period.end) if period else context.catalog.articles()
        )
        dated = [a for a in articles if a.date]
        if (
            intent.corpus_ask == ONLY
            and len(dated) > 1
            and period
            and _names_a_topic(intent.question, period)
        ):
            # "2021年重庆智博会开幕那篇新闻": the period's article about what it names
            article_id = article_for(context, intent.question, SearchFilters(period.start, period.end))
            return summary_lines(context, article_id, question=intent.question) if article_id else []
        if not dated or (intent.corpus_ask == ONLY and len(dated) > 1):
            return []  # ONLY: the period's list, or that it has none, answers instead
        return summary_lines(context, (dated[0] if intent.corpus_ask == EARLIEST else dated[-1]).article_id)
    filters = intent.period.search_filters() if intent.period else NO_FILTERS  # a 2021 meeting is no 2022 one
    article_id = intent.article_id or article_for(context, intent.question, filters)
    return summary_lines(context, article_id, question=intent.question) if article_id else []
