"""Pure question understanding: which kind of question this is, and the parts each kind needs.

Kinds (see README "Question kinds"): fact, speech (what X said), list (the points of an
enumeration), summary, corpus (about the collection itself), time (a period decides the
answer), compare (two sides), timeline (events in date order). Rules are phrasings that
news readers use, not the shapes of particular articles; the order of the checks resolves
overlaps ("2021年有哪些报道" is about the collection in a period, not a list question).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from rag.answer.periods import DOC, SERIES, Period, question_period
from rag.answer.qtype import written_form
from rag.answer.sides import compare_sides
from rag.ingest.dates import small_number
from rag.search.query import SearchFilters

FACT, SPEECH, LIST, SUMMARY, CORPUS, TIME, COMPARE, TIMELINE = (
    "fact", "speech", "list", "summary", "corpus", "time", "compare", "timeline",
)  # fmt: skip
KINDS = (FACT, SPEECH, LIST, SUMMARY, CORPUS, TIME, COMPARE, TIMELINE)

# What a corpus question asks for.
COUNT, TITLES, DATES, MENTIONS, COUNT_MENTIONS, LATEST, EARLIEST, ONLY = (
    "count", "titles", "dates", "mentions", "count_mentions", "latest", "earliest", "only",
)  # fmt: skip

# "这几篇报道里，…", "在这一组文章中", "语料里": where the reader looks, no topic.
_COLLECTION_FRAME = re.compile(
    rf"^(?:在)?(?:(?:这|那)(?:几|一组|些|一批|批)篇?|语料库?|资料库?|库){DOC}?(?:里面?|中|当中)[，,]?"
)
_COLLECTION = re.compile(r"语料库?|资料库|资料里|库里|这些文章|这几篇|所有文章|全部文章|收录")
_MENTION_VERB = r"(?:提到|提及|涉及|谈到|讲到|说到|报道了|专门报道|报道|写到|出现|是讲|是关于|讲的是|讲|关于)"
_MENTIONS = re.compile(
    rf"(?:哪些|哪几篇|哪篇|几篇|多少篇|什么){DOC}?(?:里|中)?{_MENTION_VERB}(?:了|过)?"
    rf"(?P<phrase>.+?)(?:的{DOC})?(?:的)?[？?。！!]*$"
)
_MENTIONS_AFTER = re.compile(
    rf"{_MENTION_VERB}(?:了|过)?(?P<phrase>.+?)的(?:{DOC})?(?:有|是)?(?:哪些|哪几篇|几篇|多少篇)"
)
# "算力券在几篇报道里出现过", "何静怡一共在多少篇文章里出现": the phrase first.
_MENTIONS_BEFORE = re.compile(
    rf"^(?P<phrase>[^，,。？?]{{2,30}}?)(?:一共|总共|共)?在(?:哪些|哪几篇|几篇|多少篇){DOC}?(?:里|中)?"
    rf"{_MENTION_VERB}(?:了|过)?"
)
# "有没有讲X的文章", "有关于X的报道吗", "资料里有讲X的文章吗": whether the corpus covers X.
_MENTIONS_EXIST = re.compile(
    rf"(?:有没有|有无|是否有|有)(?:关于|讲|提到|提及|涉及|报道|写)?(?:过)?(?P<phrase>.+?)的{DOC}"
)
# "最早提到算力券的是哪一篇", "最近一次报道数博会的是哪篇"
_FIRST_MENTION = re.compile(
    rf"(?P<which>最早|最先|第一次|首次|最近|最新|最后)(?:一次|一篇)?{_MENTION_VERB}(?:了|过)?(?P<phrase>.+?)的(?:{DOC})?(?:是)?(?:哪|那)"
)
# "关于数博会的报道分别是什么时候发布的": the articles on a topic, with their dates.
_TOPIC_DATES = re.compile(
    rf"^(?:关于|有关)?(?P<phrase>[^，,。？?]{{2,20}}?)的(?:相关)?{DOC}(?:都|分别|各自)?是?(?:什么时候|何时|哪天|哪一天)"
)
# "讲数博会开幕的报道一共有几篇", "专门写云岭储能的新闻有哪几篇", "星驰的年度产销快报收了几篇":
# the articles about a topic, which need not write it as one phrase; the question ends there, or
# asks their dates next ("…收了几篇，分别是哪年的"), not "…的报道有哪些内容".
_ASK_ENDS = r"(?=[？?。！!\s]*$|[，,]\s*(?:分别|都|各)?是?(?:哪一?年|什么时候|哪天|何时|日期|发布))"
_TOPIC_ARTICLES = re.compile(
    rf"^(?:专门)?(?:讲|写|报道|关于|有关|介绍)?(?P<phrase>[^，,。？?]{{2,24}}?)(?:相关)?的(?:相关)?{DOC}"
    rf"(?:一共|总共|共)?(?:有|收了|收录了?)?(?:哪几篇|哪些|几篇|多少篇){_ASK_ENDS}"
    rf"|^(?P<kept>[^，,。？?]{{2,24}}?)(?:一共|总共|共)?(?:收了|收录了?)(?:哪几篇|几篇|多少篇){_ASK_ENDS}"
    rf"|^(?P<news>[^，,。？?]{{2,30}}?)(?:有|出了|发生了)(?:什么|哪些)(?:大|重要|重大|新)?(?:新闻|消息|报道|动态){_ASK_ENDS}"
)
_COUNT = re.compile(rf"(?:一共|总共|共|总计)?(?:有|收录了?|发了|发布了|发表了)?(?:几|多少)篇{DOC}?")
_TITLES = re.compile(
    rf"(?:有|包括|收录了?|都有|发布了|发了|发过|发表了|登了|登过)(?:哪些|什么|哪几篇)(?:相关的?)?{DOC}|{DOC}(?:有哪些|列表|清单)"
)
_DATES = re.compile(r"(?:分别|各自|都)?是?(?:什么时候|何时|哪天|哪一天)(?:发布|发表|刊发|发)的?")
# "最新的一篇", "时间最早的是哪一篇", "哪篇发得最晚"
_WHICH_ARTICLE = r"的?(?:是)?(?:哪|那|这)?(?:一)?篇"
_PUBLISHED_MOST = r"哪一?篇(?:文章|报道)?(?:是)?(?:发布|发表|发)?(?:得|的)?"
_LATEST = re.compile(
    rf"(?:最新|最近|最晚)(?:发布|发表|发)?{_WHICH_ARTICLE}|最后(?:一|那)篇|最新{DOC}|{_PUBLISHED_MOST}(?:最新|最晚|最近)"
)
_EARLIEST = re.compile(rf"最早(?:发布|发表|发)?{_WHICH_ARTICLE}|第一篇|最早{DOC}|{_PUBLISHED_MOST}最早")
_ABOUT = re.compile(
    r"讲了什么|说了什么|讲的是什么|写了什么|内容是什么|主要内容|是关于什么|讲些什么|讲了些什么"
)

# How something changed: a timeline, unless two things are set side by side (`classify`).
_CHANGE_ONLY = re.compile(r"怎么变化|如何变化|变化情况|怎样变化|有什么变化|有哪些变化")
_TIMELINE = re.compile(
    r"按时间顺序|按时间先后|按先后|按时间|排个?序|时间线|时间轴|来龙去脉|始末|经过|历程|经历了?哪些|哪些阶段|先后|进展情况|进展如何|"
    rf"{_CHANGE_ONLY.pattern}|逐年|这几年|历年|历届|"
    r"怎么增长|如何增长|一步步|演变|发展起来|怎么发展|推进的"
)
_SPEECH = re.compile(
    r"(?:说|讲|谈|表示|指出|强调|提出|提|呼吁|认为|介绍|透露|建议|要求|倡议|表态|回应)(?:了|过)?(?:些)?(?:什么|哪些|啥)|"
    r"(?:怎么看|如何看待|怎么评价|什么看法|什么观点|有何看法|的观点|的看法|的讲话|的发言|的致辞|讲话内容|发言内容|致辞内容|"
    r"怎么说|如何说|怎么解释|如何解释|什么评价|何评价|什么态度|怎么介绍|如何介绍|是怎么讲|谈了谈|为什么说|"
    r"(?:认为|表示|指出|强调)[^，。？?]{0,24}(?:哪些|什么)|(?:什么|哪些|啥)(?:倡议|建议|要求|主张|号召))"
)
_SUMMARY = re.compile(
    r"总结|概括|概述|归纳|主要内容|大意|要点|讲了什么|讲的是什么|说了什么|写了什么|讲了些什么|说了些什么|写了些什么|"
    r"介绍一下|简单介绍|"
    r"是怎么回事|怎么回事|什么情况|内容是什么|讲了啥|说了啥|写了啥|说说|讲讲|聊聊|情况怎么样|怎么样了|"
    r"(?:业绩|经营|表现|成绩)(?:怎么样|如何|好不好)"
)
_LIST = re.compile(
    r"哪几[点个项条方面类种大件]|哪些|几个方面|几点|哪[一二三四五六七八九十两\d]+(?:[点个项条大类种]|个?方面)|"
    r"分别是|具体有|包括什么|包括哪些|有什么措施|有什么举措|列举|列一下|列出|都有谁|有哪几位|哪几位|"
    r"都是什么(?!时候)|都有什么|都包括"
)
_ANNOUNCED = re.compile(r"(?:哪|这|那)?([一二三四五六七八九十两]|\d{1,2})(?:[点个项条大类种]|个?方面)")
# The present as a question says it ("周启明现在是什么职务"): the newest article answers.
NOW = re.compile(r"现在|目前|如今|当前|眼下|现任|最新")


@dataclass(frozen=True)
class Intent:
    """What a question asks, as the router needs it."""

    kind: str
    question: str
    corpus_ask: str = ""  # for corpus questions: COUNT, TITLES, DATES, MENTIONS, ...
    phrase: str = ""  # the phrase of "哪些文章提到X"
    topic: bool = False  # the phrase is what articles are about ("讲X的报道"), not words they hold
    period: Period | None = None
    sides: tuple[str, str] = ("", "")  # compare: the two sub-questions
    announced: int | None = None  # list: the number the question names ("哪三点" -> 3)
    about_article: bool = False  # summary/corpus: asks what an article is about
    article_id: str = ""  # the article a follow-up refers to ("总结一下那篇")
    points: bool = False  # list: asks for the points of an enumeration ("哪几点"), not just "哪些"
    articles: tuple[str, ...] = ()  # corpus follow-ups: the articles cited before ("分别是什么时候发布的")

    @property
    def published(self) -> Period | None:
        """The period when it bounds publication dates ("2021年的报道"), else None."""
        return self.period if self.period is not None and self.period.published else None


def announced_count(text: str) -> int | None:
    """The count a list question names: "哪三点" -> 3, "五大工程" -> 5."""
    match = _ANNOUNCED.search(text)
    if not match:
        return None
    value = match.group(1)
    return small_number(value)


def classify(question: str, newest: date | None = None, people: Iterable[str] = ()) -> Intent:
    """The kind of a (standalone) question and its parts.

    Args:
        newest: the "as of" date relative periods (去年, 今年) count from.
        people: person names found in the question (a "what did X say" needs a speaker).
    """
    people = tuple(people)
    text = written_form(question.strip())
    period = question_period(text, newest)
    # "按时间先后把这几篇报道里的活动排一下" orders the collection: a timeline, not a count.
    sides = compare_sides(text)
    # "第三届和第七届数博会比，…有什么变化" sets two editions side by side: no timeline.
    cue = _TIMELINE.search(text)
    paired = sides is not None and cue is not None and _CHANGE_ONLY.fullmatch(cue.group(0)) is not None
    if cue and not paired and not re.search(rf"提到|提及|{_COUNTED_ARTICLES.pattern}", text):
        return Intent(TIMELINE, text, period=period)
    if intent := _corpus_intent(text, period):
        return intent
    if period and period.over_years and SERIES.search(text):
        # "近三年的数博会分别签约了多少金额", "2019到2022年的产量按年份列一下": one line a year
        return Intent(TIMELINE, text, period=period)
    if sides:
        return Intent(COMPARE, text, period=period, sides=sides)
    counted = announced_count(text)
    counted = counted if counted and counted >= 3 else None  # "哪一种", "哪两个" ask for a fact
    if _LIST.search(text) and (counted or re.search(r"哪几|几个方面|几点", text)):
        return Intent(LIST, text, period=period, announced=counted, points=True)
    if _SPEECH.search(text) and not _SUMMARY_ONLY.search(text) and any(n in text for n in people):
        return Intent(SPEECH, text, period=period)
    if _SUMMARY.search(text):
        return Intent(SUMMARY, text, period=period, about_article=True)
    if _LIST.search(text) and not re.search(r"哪[一两二]", text):
        return Intent(LIST, text, period=period, announced=counted)
    if period is not None:
        return Intent(TIME, text, period=period)
    return Intent(FACT, text)


# "这篇文章说了什么" is a summary even though it has a speech verb: nobody speaks but the text.
_SUMMARY_ONLY = re.compile(
    rf"(?:这|那|该|此|最新|最近|最早|这几|那几)(?:一)?篇|{DOC}(?:主要)?(?:讲|说|写)|总结|概括"
)


def _corpus_intent(text: str, period: Period | None) -> Intent | None:
    """Questions about the collection: counts, lists, dates, mentions, newest and oldest."""
    looked = _COLLECTION_FRAME.sub("", text) or text  # "这几篇报道里，有几篇提到了X": X
    if (first := _FIRST_MENTION.search(looked)) and (phrase := _trim_phrase(first.group("phrase"))):
        ask = EARLIEST if first.group("which") in ("最早", "最先", "第一次", "首次") else LATEST
        return Intent(CORPUS, text, corpus_ask=ask, phrase=phrase, period=period)
    if (dated := _TOPIC_DATES.search(looked)) and (phrase := _trim_phrase(dated.group("phrase"))):
        return Intent(CORPUS, text, corpus_ask=MENTIONS, phrase=phrase, period=period)  # listed with dates
    topic = _TOPIC_ARTICLES.search(looked)
    phrase = (
        _trim_phrase(topic.group("phrase") or topic.group("kept") or topic.group("news")) if topic else ""
    )
    if period is not None and period.label:  # "今年上半年临云城际铁路有什么新闻": the period filters
        phrase = re.sub(r"^[份都的里中还也\s]+|[都的里中还也\s]+$", "", phrase.replace(period.label, ""))
        phrase = phrase if len(phrase) >= 2 else ""  # "2021年8月份都有哪些报道" lists the month
    phrase = re.sub(r"^(?:一共|总共|共)", "", phrase)
    # "2021年的报道有哪些" lists a period, "库里一共收录了几篇" the collection, "提到X的" a phrase.
    if phrase and not (
        _PERIOD_ONLY.fullmatch(phrase) or _COLLECTION.search(phrase) or _NOT_A_TOPIC.search(phrase)
    ):
        return Intent(CORPUS, text, corpus_ask=_mention_ask(text), phrase=phrase, period=period, topic=True)
    match = (
        _MENTIONS_BEFORE.search(looked)
        or _MENTIONS.search(looked)
        or _MENTIONS_AFTER.search(looked)
        or _MENTIONS_EXIST.search(looked)
    )
    if match and (phrase := _trim_phrase(match.group("phrase"))):
        return Intent(CORPUS, text, corpus_ask=_mention_ask(text), phrase=phrase, period=period)
    latest, earliest = _LATEST.search(text), _EARLIEST.search(text)
    if latest or earliest:
        about = bool(_ABOUT.search(text))
        return Intent(SUMMARY if about else CORPUS, text, corpus_ask=LATEST if latest else EARLIEST,
                      period=period, about_article=about)  # fmt: skip
    in_period = period is not None and period.published
    if in_period and _ABOUT.search(text) and re.search(r"(?:那|这|该)一?篇", text):
        # "2020年那篇报道讲的是什么": the one article of that period (else its list, or that it has none)
        return Intent(SUMMARY, text, corpus_ask=ONLY, period=period, about_article=True)
    asks_collection = (
        bool(_COLLECTION.search(text))
        or in_period
        or re.search(rf"这几篇|各篇|每篇{DOC}?|(?:几|多少)篇|^(?:都|一共|总共)?有(?:哪些|什么){DOC}", text)
    )
    if not asks_collection:
        return None
    kind = TIME if in_period else CORPUS
    if _DATES.search(text):
        return Intent(kind, text, corpus_ask=DATES, period=period)
    if _COUNT.search(text):
        return Intent(kind, text, corpus_ask=COUNT, period=period)
    if _TITLES.search(text) or re.search(rf"有哪些|有什么{DOC}", text):
        return Intent(kind, text, corpus_ask=TITLES, period=period)
    if in_period and re.search(rf"(?:哪些|什么|哪几篇){DOC}|{DOC}.{{0,8}}(?:哪些|什么)", text):
        return Intent(kind, text, corpus_ask=TITLES, period=period)  # "哪些文章是2025年发布的"
    return None


def _mention_ask(text: str) -> str:
    """How many articles hold a phrase ("几篇", not "哪几篇"), or which."""
    return COUNT_MENTIONS if _COUNTED_ARTICLES.search(text) else MENTIONS


_COUNTED_ARTICLES = re.compile(r"(?<![哪这那])几篇|多少篇")  # not "哪几篇", "这几篇"
# "提到X的" asks for a phrase; "最新的报道" for the newest; "新华社的", "记者刘畅的" for a source.
_NOT_A_TOPIC = re.compile(
    r"^(?:提到|提及|涉及|谈到|讲到|说到|写到|出现)|最新|最近|最早|记者|新华社|作者|来源"
)
_PERIOD_ONLY = re.compile(
    r"(?:\d{4}\s*年|\d{1,2}\s*月份?|今年|去年|前年|本月|上个?月|这个月|本周|上周|这周|近期|最近一?(?:周|个月|年)?|"
    r"近[一二三四五两几\d]+(?:年|个月|周|天))(?:\d{1,2}\s*月份?|上半年|下半年|以来|来|初|底|末)*"
)


_APPOSITIVE = re.compile(r"(?<=..)(?:这|那|该)[家个位项座所条场次届][\u4e00-\u9fff]{0,4}$")


def _trim_phrase(phrase: str) -> str:
    """The looked-for phrase without quotes and trailing particles: "“一带一路”的" -> "一带一路";
    what follows a comma is another request ("…提到了数博会，按时间排")."""
    phrase = re.split(r"[，,]", phrase.strip())[0]
    phrase = re.sub(r"(?:的)?(?:内容|事情|情况|话题|相关内容)?[？?。！!，,吗呢]*$", "", phrase.strip())
    phrase = re.sub(r"^(?:了|过|关于|有关)+", "", phrase)
    phrase = _APPOSITIVE.sub("", phrase)  # "云岭储能这家公司" is 云岭储能
    return phrase.strip(" \"'“”‘’「」《》")


def within_filters(intent: Intent, filters: SearchFilters) -> Intent:
    """The intent with a since/until filter as its publication period, when it names none itself
    (so "有哪些报道", "X说了什么" look only at articles of the chosen dates)."""
    if intent.period is not None or not (filters.since or filters.until):
        return intent
    period = Period(filters.since or date.min, filters.until or date.max, "所选日期范围内", published=True)
    return replace(intent, period=period)
