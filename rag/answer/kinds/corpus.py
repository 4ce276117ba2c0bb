"""Questions about the collection, answered from the article table and the phrase postings:
how many articles, which ones (by period), when each was published, which mention X, the
newest and the oldest. Lists give title and date per article, oldest first, cut after
LIST_LIMIT with "等N篇"."""

from __future__ import annotations

import numpy as np

from rag.answer.answers import Answer
from rag.answer.compose import Evidence, Line, compose
from rag.answer.intent import COUNT, COUNT_MENTIONS, DATES, EARLIEST, LATEST, MENTIONS, Intent
from rag.answer.kinds.context import Context
from rag.answer.periods import Period
from rag.search.catalog import ArticleRecord
from rag.search.mentions import Mentions, held_by

LIST_LIMIT = 20


def _title_line(article: ArticleRecord, text: str) -> Line:
    """ "《title》（date）" citing the article's first paragraph."""
    end = text.find("\n")
    return Line(
        f"《{article.title}》（{article.date or '日期不详'}）",
        [Evidence(article, 0, len(text) if end < 0 else end)],
    )


def _listing(context: Context, question: str, articles: list[ArticleRecord], opening: str) -> Answer:
    shown = articles[:LIST_LIMIT]
    lines = [Line(opening)] + [_title_line(a, context.text(a.article_id)) for a in shown]
    if len(articles) > len(shown):
        lines.append(Line(f"等{len(articles)}篇。"))
    return compose(question, lines, context.texts([a.article_id for a in shown]))


def _in_period(period: Period | None) -> str:
    return f"{period.label}" if period and period.label else ("这段时间" if period else "")


def corpus_answer(context: Context, intent: Intent) -> Answer:
    """The answer to a question about the collection (see the module docstring)."""
    period = intent.period
    limited = period is not None and (period.published or intent.corpus_ask != MENTIONS)
    articles = (
        context.catalog.published(period.start, period.end)
        if period is not None and limited
        else context.catalog.articles()
    )
    if intent.articles:  # "these articles": the ones the conversation cited before
        articles = [a for a in articles if a.article_id in set(intent.articles)]
    # The articles a phrase lookup keeps (None: all of them, without a mask to make).
    looked_up = intent.corpus_ask in (MENTIONS, COUNT_MENTIONS) or (
        bool(intent.phrase) and intent.corpus_ask in (EARLIEST, LATEST)
    )
    allowed = context.catalog.mask(articles) if looked_up and (limited or intent.articles) else None
    where = _in_period(period)
    if looked_up and intent.corpus_ask in (EARLIEST, LATEST):
        found = _mentioning(context, intent.phrase, allowed)
        if not len(found):
            return Answer(intent.question, f"语料中{where}没有文章提到“{intent.phrase}”。", False, [])
        chosen = found[0].article if intent.corpus_ask == EARLIEST else found[-1].article
        which = "最早" if intent.corpus_ask == EARLIEST else "最近"
        return _listing(context, intent.question, [chosen], f"{which}提到“{intent.phrase}”的一篇是：")
    if intent.corpus_ask in (MENTIONS, COUNT_MENTIONS):
        return _mentions(context, intent, allowed, where)
    if not articles:
        scope = f"{where}发布的文章" if where else "文章"
        return Answer(intent.question, f"语料中没有{scope}。", False, [])
    if intent.corpus_ask in (LATEST, EARLIEST):
        dated = [a for a in articles if a.date] or articles
        chosen = dated[-1] if intent.corpus_ask == LATEST else dated[0]
        which = "最新" if intent.corpus_ask == LATEST else "最早"
        return _listing(context, intent.question, [chosen], f"{where}{which}的一篇是：")
    if intent.corpus_ask == COUNT:
        return _listing(context, intent.question, articles, f"{where}语料中共有{len(articles)}篇文章：")
    if intent.corpus_ask == DATES:
        return _listing(context, intent.question, articles, f"{where}共{len(articles)}篇，发布日期如下：")
    return _listing(context, intent.question, articles, f"{where}共有{len(articles)}篇文章：")


def _mentioning(context: Context, phrase: str, allowed: np.ndarray | None, topic: bool = False) -> Mentions:
    """Articles holding the phrase; for a topic ("讲星驰汽车年度产销") those holding most of its
    words (all of them when it has two), oldest first. When the question asks what articles
    are about (`topic`: "专门写云岭储能的新闻"), both, kept when their title or lead names it:
    a passing mention in the ninth paragraph is not what an article is about."""
    found = context.catalog.mentions(phrase).within(allowed)
    words = [w for w in dict.fromkeys(context.words(phrase)) if len(w) >= 2]
    if (len(found) and not topic) or len(words) < 2:
        candidates, words, needed = found, [], 1
    else:
        needed = len(words) if len(words) == 2 else max(2, -(-2 * len(words) // 3))
        holders = [context.catalog.mentions(word).within(allowed) for word in words]
        union = Mentions.union([found, *holders])
        chosen = np.isin(union.ranks, held_by(holders, needed)) | np.isin(union.ranks, found.ranks)
        candidates = union.take(np.flatnonzero(chosen))
    if not topic:
        return candidates
    leading = [g for g, m in enumerate(candidates) if context.leads_with(m.article, phrase, words, needed)]
    return candidates.take(np.asarray(leading, dtype=np.int64))


def _mentions(context: Context, intent: Intent, allowed: np.ndarray | None, where: str) -> Answer:
    found = _mentioning(context, intent.phrase, allowed, intent.topic)
    if not len(found):
        return Answer(intent.question, f"语料中{where}没有文章提到“{intent.phrase}”。", False, [])
    said = "是关于" if intent.topic else "提到"
    lines = [Line(f"{where}共有{len(found)}篇文章{said}“{intent.phrase}”{'的' if intent.topic else ''}：")]
    texts = {}
    shown = found.first(LIST_LIMIT)
    for mention, chunk in zip(shown, context.catalog.holding_chunks(shown), strict=True):
        article_id = mention.article.article_id
        texts[article_id] = context.text(article_id)
        if chunk is not None:
            start = texts[article_id].find(chunk.text)
            position = max(0, start) + max(0, chunk.text.find(intent.phrase))
            span = Evidence(mention.article, position, position + len(intent.phrase))
        else:
            span = _title_line(mention.article, texts[article_id]).evidence[0]
        lines.append(Line(f"《{mention.article.title}》（{mention.article.date or '日期不详'}）", [span]))
    if len(found) > LIST_LIMIT:
        lines.append(Line(f"等{len(found)}篇。"))
    return compose(intent.question, lines, texts)
