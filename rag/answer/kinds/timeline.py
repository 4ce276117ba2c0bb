"""Events in date order, one line each: "date — event [n]".

Each relevant article gives its sentence that best covers the topic (preferring one that
carries a date or a number); the event date is the one the sentence names ("8月23日", with
the year from the article's date), else the article's publication date.
"""

from __future__ import annotations

import re
from datetime import date

from rag.answer.compose import Evidence, Line
from rag.answer.kinds.context import Context
from rag.answer.periods import SERIES, Period
from rag.answer.qtype import MONEY
from rag.answer.sentence_choice import coverage
from rag.answer.sentences import Sentence, is_filler
from rag.index.aliases import respelling
from rag.index.tokens import PERSON_FLAGS, normalise_text
from rag.search.catalog import ArticleRecord
from rag.search.query import NO_FILTERS, SearchTuning

_TIMELINE_WORDS = re.compile(
    r"按(?:时间|年份|日期|年度)?(?:先后顺序|顺序|先后)|按(?:时间|年份|日期|年度)|排个?序|从(?:开始|一开始)\S{0,3}?到现在|至今|到现在|时间线|时间轴|来龙去脉|始末|经过|历程|经历了?|哪些阶段|先后|进展情况|进展如何|"
    r"是?怎么|如何|怎样|变化情况|有什么变化|有哪些变化|变化|逐年|这几年|历年|历届|增长|一步步|演变|发展起来|推进|"
    r"排一下|列一下|说说|讲讲|按(?:发生|报道|发布)?时间|[从由](?:早|旧)到(?:晚|新)|谁先谁后|分别是?(?:多少|什么)?|[？?。，,]"
)
_EVENT_DATE = re.compile(
    r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]|(\d{4})\s*年\s*(\d{1,2})\s*月"
)
_HAS_FIGURE = re.compile(r"\d")
SEARCH_DEPTH = 30
MIN_SHARE = 0.45  # an article counts when its best passage scores at least this share of the best


def topic_of(question: str) -> str:
    """The question without its timeline phrasing ("…是怎么变化的" -> the topic)."""
    return _TIMELINE_WORDS.sub(" ", question).strip() or question


def event_date(sentence: str, published: date | None) -> date | None:
    """The date a sentence names, completed with the publication year; else the publication date."""
    match = _EVENT_DATE.search(sentence)
    if match:
        try:
            if match.group(2):
                year = int(match.group(1)) if match.group(1) else (published.year if published else None)
                if year:
                    return date(year, int(match.group(2)), int(match.group(3)))
            else:
                return date(int(match.group(4)), int(match.group(5)), 1)
        except ValueError:
            pass
    return published


# "22日下午", "23日晚": a day of the month news text leaves out; not "5日元", "第3日", "为期3日",
# "3日内", "将于28日".
_DAY_ONLY = re.compile(r"(?<![\d月第期时续近每])(\d{1,2})\s*[日号](?![元圆内间])")


def day_before(sentence: str, reference: date | None) -> date | None:
    """The day a sentence names without its month ("22日下午"), taken as the latest such day
    on or before `reference` (the report's date: what it tells has happened); None without one,
    or when the day is said of the future ("将于28日")."""
    match = _DAY_ONLY.search(sentence)
    if reference is None or match is None or "将" in sentence[max(0, match.start() - 3) : match.start()]:
        return None
    day = int(match.group(1))
    year, month = (
        (reference.year, reference.month)
        if day <= reference.day
        else ((reference.year, reference.month - 1) if reference.month > 1 else (reference.year - 1, 12))
    )
    try:
        return date(year, month, day)
    except ValueError:
        return None


_GENERIC = re.compile(
    r"资料|语料|报道|新闻|文章|活动|会议|事件|事情|哪些|什么|这几篇|那几篇|这些|所有|全部|各篇|把|都|了|里|中|的|有|和|与|及"
)
_CHANGE = re.compile(r"变化|历届|逐年|历年|这几年|每年|增长|演变|分别|按年份|按年度|各年")


def timeline_lines(context: Context, question: str, period: Period | None = None) -> list[Line]:
    """One dated line per relevant article, oldest first.

    A question with no topic of its own ("按时间顺序，资料里都报道了哪些活动？") lists every
    article (in the period) by date, each with its lead sentence.
    """
    topic, series = _topic_and_series(question, period)
    if not _GENERIC.sub("", topic).strip():
        articles = (
            context.catalog.published(period.start, period.end) if period else context.catalog.articles()
        )
        return [line for a in articles if (line := _lead_line(context, a.article_id))]
    filters = period.search_filters() if period else NO_FILTERS
    hits = context.index.search(topic, SEARCH_DEPTH, filters, SearchTuning(per_article=3, lead_ratio=0))
    if not hits:
        return []
    best_score = hits[0].score or 1.0
    weights = context.answerer.query_weights(topic)
    # A year of the period is a date, not a word every report must hold ("2019到2022年的产量").
    label = period.label if period else ""
    key_terms = [t for t in context.index.tokenizer.key_terms(topic) if not (t.isdigit() and t in label)]
    change = bool(_CHANGE.search(question))
    # How a quantity changed ("产量", "营收"): each report's sentence about it; stages and
    # processes ("经历了哪些阶段") have no one attribute.
    attribute = {
        w: weights.get(w, 1.0) * (WEAK_HEAD_SHARE if w in _WEAK_HEADS else 1.0)
        for w in head_nouns(context, topic, key_terms)
    } if change else {}  # fmt: skip
    # What the events are of ("云岭储能电池基地"): its nouns; a person or "活动" are no subject
    # a report names in its title or lead.
    subject = [
        word for word, flag in dict.fromkeys(context.index.tokenizer.tagged(topic))
        if flag.startswith(("n", "vn")) and flag not in PERSON_FLAGS
        and len(word) > 1 and not _GENERIC.fullmatch(word)
    ]  # fmt: skip
    events: list[tuple[date, Line]] = []
    for article_id in dict.fromkeys(h.article_id for h in hits if h.score >= MIN_SHARE * best_score):
        record = context.record(article_id)
        text = context.text(article_id)
        if key_terms and not all(normalise_text(t) in normalise_text(record.title + text) for t in key_terms):
            continue
        if not change and subject and not context.leads_with(record, topic, subject, min(2, len(subject))):
            continue  # "云岭储能电池基地是怎么建起来的": its reports, not those that mention it
        names = key_terms or [w for w in subject if w not in attribute]
        if series and not _reports_on(context, record, names, period):
            continue  # "2020年到2022年星驰的营收": 星驰's reports on those years
        if event := _event(context, record, weights, attribute, change):
            events.append(_with_year_reported(event, record) if series else event)
    if len(events) < 2 and _CHANGE.search(question):
        return []  # one report shows no change: the fact answer (or a refusal) says what there is
    events.sort(key=lambda pair: pair[0])
    return [line for _, line in events]


def _topic_and_series(question: str, period: Period | None) -> tuple[str, bool]:
    """The topic of a timeline question, and whether it asks one report a year over a period
    ("近三年的数博会分别签约了多少金额": the period filters the reports, its years are no topic)."""
    topic = topic_of(question)
    series = bool(period and period.over_years and SERIES.search(question))
    if series and period and topic.replace(period.label, "").strip():
        topic = topic.replace(period.label, " ").strip()
    return topic, series


def _event(
    context: Context,
    record: ArticleRecord,
    weights: dict[str, float],
    attribute: dict[str, float],
    change: bool,
) -> tuple[date, Line] | None:
    """An article's dated line: a yearly report's headline when it states the attribute
    ("星驰汽车2019年产量8.6万辆", cited by its lead), else its sentence that best states it."""
    sentences = context.sentences(record.article_id)
    if attribute and _HAS_FIGURE.search(record.title) and any(w in record.title for w in attribute):
        lead = next((s for s in sentences if not is_filler(s.text)), None)
        if lead is not None:
            when, line = _dated(record, lead, sentences)
            return when, Line(f"{line.text.split(' — ')[0]} — {record.title}", line.evidence)
    sentence = _best_sentence(sentences, weights, attribute, change)
    return None if sentence is None else _dated(record, sentence, sentences)


def _with_year_reported(event: tuple[date, Line], record: ArticleRecord) -> tuple[date, Line]:
    """A yearly report's line with the year it reports on, when its headline names one year the
    line does not ("2022-02-09 — 2021年：实现营业收入265亿元"): it is not the publication year's."""
    when, line = event
    years = set(_TITLE_YEAR.findall(record.title))
    shown, _, text = line.text.partition(" — ")
    if len(years) != 1 or (year := f"{years.pop()}年") in text:
        return event
    return when, Line(f"{shown} — {year}：{text}", line.evidence)


_TITLE_YEAR = re.compile(r"(\d{4})\s*年")


def _reports_on(context: Context, record: ArticleRecord, names: list[str], period: Period | None) -> bool:
    """Whether a report of a yearly series is about its subject and a year of the period: the
    names in its title or lead ("云岭储能…" mentions 星驰 only as a customer), and no year in its
    title but the period's ("星驰汽车2019年产量…" reports on 2019, though published in 2020)."""
    if names and not context.leads_with(record, " ".join(names), names, len(names)):
        return False
    years = {int(y) for y in _TITLE_YEAR.findall(record.title)}
    return period is None or not years or any(period.start.year <= y <= period.end.year for y in years)


_AMOUNT_NOUNS = " 金额 总额 数额 额度 "  # what a sum of money in 元 states
_WEAK_HEADS = {"数量", "情况", "规模", "变化", "数字", "数据", "水平", "问题", "数额", "总量", "数目"}
WEAK_HEAD_SHARE = 0.2  # "参展企业数量": a sentence about 企业 answers; one about 项目数量 does not


def head_nouns(context: Context, topic: str, names: list[str]) -> list[str]:
    """What changes over time: the head of the topic's noun phrase ("星驰汽车的产量" -> 产量),
    with the noun before it when the head says little ("参展企业数量" -> 企业, 数量)."""
    nouns = [
        word for word, flag in context.index.tokenizer.tagged(topic)
        if flag.startswith(("n", "vn")) and flag not in ("nr", "nrfg", "nrt", "ns", "nt")
        and len(word) > 1 and not any(word in name or name in word for name in names)
    ]  # fmt: skip
    if not nouns:
        return []
    return nouns[-2:] if nouns[-1] in _WEAK_HEADS and len(nouns) > 1 else nouns[-1:]


def _dated(record: ArticleRecord, sentence: Sentence, sentences: list[Sentence]) -> tuple[date, Line]:
    """The event line, dated by the sentence, else by the article's lead, else by publication;
    a day alone ("22日下午") is that day of the lead's or the publication's month."""
    when = event_date(sentence.text, None)
    if when is None:
        lead = next((s for s in sentences[:3] if _EVENT_DATE.search(s.text)), None)
        reference = event_date(lead.text, record.day) if lead else record.day
        when = day_before(sentence.text, reference) or reference
    shown = when.isoformat() if when else "日期不详"
    return when or date.max, Line(
        f"{shown} — {sentence.text}", [Evidence(record, sentence.start, sentence.end)]
    )


def _lead_line(context: Context, article_id: str) -> Line | None:
    """ "date — 《title》：lead sentence" for an article."""
    record = context.record(article_id)
    sentences = context.sentences(article_id)
    lead = next((s for s in sentences if not is_filler(s.text)), None)
    if lead is None:
        return None
    _, line = _dated(record, lead, sentences)
    return Line(f"{line.text.split(' — ')[0]} — 《{record.title}》：{lead.text}", line.evidence)


def _best_sentence(
    sentences: list[Sentence], weights: dict[str, float], attribute: dict[str, float], change: bool
) -> Sentence | None:
    """The sentence of an article that best states the topic's attribute (with a figure when the
    question asks how something changed); None when no sentence names the attribute."""
    scored = []
    as_asked = respelling([*attribute, *weights])  # "营收" is said "营业收入"
    for i, sentence in enumerate(sentences):
        if is_filler(sentence.text):
            continue
        text = as_asked(normalise_text(sentence.text))
        # "3.6亿元" is an amount (金额, 总额) though the sentence does not say so
        named = coverage(MONEY.sub(_AMOUNT_NOUNS, text), attribute) if attribute else 0.0
        if attribute and named == 0:
            continue
        figure = (0.3 if change else 0.15) if _HAS_FIGURE.search(sentence.text) else 0.0
        scored.append((named + 0.5 * coverage(text, weights) + figure, -i, sentence))
    if not scored:
        return None
    best = max(scored, key=lambda t: (t[0], t[1]))
    return best[2] if best[0] > 0 else None
