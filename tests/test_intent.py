"""Question understanding (pure): kinds, periods and their sense, compare sides, announced counts."""

from datetime import date

import pytest

from rag.answer.intent import (
    COMPARE,
    CORPUS,
    COUNT,
    COUNT_MENTIONS,
    EARLIEST,
    FACT,
    LATEST,
    LIST,
    MENTIONS,
    ONLY,
    SPEECH,
    SUMMARY,
    TIME,
    TIMELINE,
    TITLES,
    announced_count,
    classify,
    compare_sides,
)
from rag.ingest.dates import question_date_range

AS_OF = date(2022, 7, 24)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("2021智博会有多少家企业参展？", FACT),
        ("苗圩提出了哪几点倡议？", LIST),
        ("总结一下二十国集团数字部长会议的内容", SUMMARY),
        ("语料库里有哪些文章？", CORPUS),
        ("哪些文章提到了“一带一路”？", CORPUS),
        ("2021年发布了哪些相关新闻？", TIME),
        ("肖亚庆和苗圩分别在什么场合发言？", COMPARE),
        ("按时间顺序说说智博会的来龙去脉", TIMELINE),
        ("星驰汽车这几年的产量是怎么变化的？", TIMELINE),
        ("最新的一篇文章讲了什么？", SUMMARY),
        ("最新那篇讲的啥", SUMMARY),  # a spoken form
        ("去年云岭储能业绩咋样？", SUMMARY),  # a company's year: its report's key figures
    ],
)
def test_reader_phrasings_get_their_kind(question, kind):
    assert classify(question, AS_OF).kind == kind


def test_speech_needs_a_speaker():
    assert classify("肖亚庆在二十国集团数字部长会议上说了什么？", AS_OF, people=["肖亚庆"]).kind == SPEECH
    assert classify("这篇文章说了什么？", AS_OF, people=[]).kind == SUMMARY


def test_spoken_forms_read_as_written():
    from rag.answer.qtype import written_form

    assert written_form("星驰头一回出口整车是卖到哪个国家的") == "星驰首次出口整车是卖到哪个国家的"
    assert written_form("那篇讲的啥，人多不多") == "那篇讲的是什么，人有多少"
    assert written_form("第6届数博会和第12次会议") == "第六届数博会和第十二次会议"
    assert written_form("21年重庆智博会的主题叫什么") == "2021年重庆智博会的主题叫什么"
    assert written_form("截至21年底，在19年") == "截至2021年底，在2019年"
    assert written_form("过去21年，21年来") == "过去21年，21年来"  # years counted
    assert written_form("疫情那阵子") == "疫情期间"


def test_an_edition_is_known_either_way_it_is_written():
    from rag.answer.qtype import edition_forms

    assert set(edition_forms("第3届")) == {"第3届", "第三届"}
    assert set(edition_forms("第二十三届")) == {"第二十三届", "第23届"}
    assert edition_forms("第三方") == ("第三方",)


def test_an_article_of_a_period_is_summarised():
    intent = classify("2020年那篇报道讲的啥", AS_OF)
    assert (intent.kind, intent.corpus_ask, intent.period.start) == (SUMMARY, ONLY, date(2020, 1, 1))
    assert classify("2020年有哪些报道？", AS_OF).kind == TIME  # several articles: their list


def test_corpus_questions_say_what_they_ask():
    assert classify("一共有几篇文章？", AS_OF).corpus_ask == COUNT
    assert classify("有哪些文章？", AS_OF).corpus_ask == TITLES
    mentions = classify("哪些文章提到了“一带一路”？", AS_OF)
    assert (mentions.corpus_ask, mentions.phrase) == (MENTIONS, "一带一路")
    assert classify("有几篇文章提到了数字鸿沟？", AS_OF).corpus_ask == COUNT_MENTIONS
    assert classify("有没有讲5G牌照发放的文章？", AS_OF).phrase == "5G牌照发放"
    assert classify("最新的一篇是什么？", AS_OF).corpus_ask == LATEST
    assert classify("这些文章里时间最早的是哪一篇？", AS_OF).corpus_ask == EARLIEST
    assert classify("哪篇文章发得最晚？", AS_OF).corpus_ask == LATEST
    # The phrase first, or the verb without a document word, as readers also ask.
    counted = classify("算力券在几篇报道里出现过？", AS_OF)
    assert (counted.corpus_ask, counted.phrase) == (COUNT_MENTIONS, "算力券")
    assert classify("何静怡一共在多少篇文章里出现", AS_OF).phrase == "何静怡"
    assert classify("专门报道临云城际铁路建设进展的有哪几篇", AS_OF).phrase == "临云城际铁路建设进展"


def test_a_period_is_about_publication_or_about_content():
    published = classify("2021年有哪些报道？", AS_OF).period
    content = classify("2022年的产量是多少？", AS_OF).period
    assert published.published and (published.start, published.end) == (date(2021, 1, 1), date(2021, 12, 31))
    assert not content.published and content.label == "2022年"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("去年有哪些报道？", (date(2021, 1, 1), date(2021, 12, 31))),
        ("近三年一共有多少篇报道？", (date(2020, 1, 1), AS_OF)),
        ("2020年以前有哪些报道？", (date(1900, 1, 1), date(2019, 12, 31))),
        ("截至2021年底一共几篇？", (date(1900, 1, 1), date(2021, 12, 31))),
        ("上个月有什么新闻？", (date(2022, 6, 1), date(2022, 6, 30))),
        ("2020年上半年发布了几篇文章？", (date(2020, 1, 1), date(2020, 6, 30))),
        ("0000年有什么新闻？", None),
        ("最近一个月有哪些报道？", (date(2022, 6, 24), AS_OF)),
        ("过去半年发了哪些文章？", (date(2022, 1, 23), AS_OF)),
        ("近两周有什么新闻？", (date(2022, 7, 10), AS_OF)),
    ],
)
def test_relative_periods_count_from_the_as_of_date(question, expected):
    assert question_date_range(question, AS_OF) == expected


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        ("肖亚庆和苗圩分别在什么场合发言？", ("肖亚庆在什么场合发言", "苗圩在什么场合发言")),
        (
            "2019年底临海和云岭各建了多少5G基站？",
            ("2019年底临海建了多少5G基站", "2019年底云岭建了多少5G基站"),
        ),
        ("临海和云岭的5G用户数差多少？", ("临海的5G用户数是多少", "云岭的5G用户数是多少")),
        (
            "第三届和第七届数博会比，参展企业多了多少？",
            ("第三届数博会参展企业是多少", "第七届数博会参展企业是多少"),
        ),
        (
            "星驰汽车2021年和2022年的出口量相比怎么样？",
            ("星驰汽车2021年的出口量是多少", "星驰汽车2022年的出口量是多少"),
        ),
        ("许科敏和肖亚庆对数字鸿沟的看法有什么异同？", ("许科敏对数字鸿沟的看法", "肖亚庆对数字鸿沟的看法")),
        # Two years side by side ask the question of each year, comparative word or not.
        (
            "星驰2020年和2021年有没有完成产量目标？",
            ("星驰2020年有没有完成产量目标", "星驰2021年有没有完成产量目标"),
        ),
        ("临海和云岭的5G用户数比一比", ("临海的5G用户数", "云岭的5G用户数")),
    ],
)
def test_compare_questions_split_into_two_sub_questions(question, sides):
    assert compare_sides(question) == sides


def test_no_sides_without_a_comparison():
    assert compare_sides("中国和东盟的数字经济合作是怎么推进的？") is None
    # a next question's 分别 goes over the items asked for, not over 中国 and 东盟
    assert compare_sides("苗圩对中国和东盟下一步合作提了几条倡议？分别是什么？") is None
    assert compare_sides("肖亚庆和许科敏都提到了数字鸿沟吗？两人说法有什么区别") is not None


def test_announced_counts():
    assert announced_count("苗圩提出的六点倡议是哪六点？") == 6
    assert announced_count("周启明对临云铁路提了哪三点要求？") == 3
    assert announced_count("有哪些措施？") is None
    assert announced_count("苗圩分享了哪三方面经验") == 3


@pytest.mark.parametrize(
    "question",
    [
        "周启明提的五点建议,列一下",
        "开幕式上致辞的外方嘉宾都有谁",
        "苗圩分享了哪三方面经验",
        "行动计划里的五大工程都是啥？",
    ],
)
def test_lists_asked_without_the_usual_words(question):
    assert classify(question, AS_OF).kind == LIST


def test_articles_about_a_topic_are_asked_apart_from_a_phrase_they_hold():
    about = classify("讲数博会开幕的报道一共有几篇", AS_OF)
    assert (about.corpus_ask, about.phrase, about.topic) == (COUNT_MENTIONS, "数博会开幕", True)
    assert classify("专门写云岭储能的新闻有哪几篇？", AS_OF).corpus_ask == MENTIONS  # 哪几篇 lists them
    assert classify("数博会相关的报道一共几篇", AS_OF).phrase == "数博会"
    assert classify("星驰的年度产销快报收了几篇", AS_OF).topic
    assert not classify("提到何静怡的文章有几篇？", AS_OF).topic  # a name written in the text
    assert classify("2021年的报道有哪些", AS_OF).corpus_ask == TITLES  # a period, not a topic
    assert classify("一共收录了多少篇新闻", AS_OF).corpus_ask == COUNT


def test_what_someone_proposed_is_speech_whatever_the_verb():
    asked = classify("林晓岚在第四届数博会上代表临海发出了什么倡议？", AS_OF, people=["林晓岚"])
    assert asked.kind == SPEECH


@pytest.mark.parametrize(
    "question",
    [
        "数博会的报道有哪些内容",  # what they say, not which they are
        "数博会的报道有几篇提到签约",  # a phrase they hold: 签约
        "2021年上半年的报道有哪些",  # a period
        "今年3月以来的报道有几篇",
        "最新的报道有哪些",  # the newest
        "新华社的报道有哪些",  # a source
    ],
)
def test_not_every_question_about_reports_asks_for_a_topic(question):
    assert not classify(question, AS_OF).topic


def test_ordering_the_collection_by_date_is_a_timeline_not_a_count():
    assert classify("按时间先后把这几篇报道里的活动排一下", AS_OF).kind == TIMELINE
    assert classify("这几篇文章按时间排个序", AS_OF).kind == TIMELINE
    assert classify("有几篇文章提到了数字鸿沟？", AS_OF).corpus_ask == COUNT_MENTIONS  # still a count
    assert classify("哪些文章提到了数博会，按时间排", AS_OF).phrase == "数博会"  # a second request


def test_what_news_a_topic_had_in_a_period_lists_its_reports_of_that_period():
    news = classify("今年上半年临云城际铁路有什么大新闻？", date(2023, 11, 21))
    assert (news.corpus_ask, news.phrase, news.topic) == (MENTIONS, "临云城际铁路", True)
    assert news.period is not None and news.period.published
    month = classify("2021年8月份都有哪些报道", AS_OF)  # the month itself, no topic
    assert (month.kind, month.corpus_ask, month.phrase) == (TIME, TITLES, "")


def test_where_the_reader_looks_and_appositives_are_not_the_phrase():
    framed = classify("这几篇报道里，有几篇提到了工信部部长肖亚庆？", AS_OF)
    assert (framed.kind, framed.corpus_ask, framed.phrase) == (CORPUS, COUNT_MENTIONS, "工信部部长肖亚庆")
    assert classify("在这些文章中，哪些提到了数字鸿沟？", AS_OF).phrase == "数字鸿沟"
    earliest = classify("最早提到云岭储能这家公司的是哪篇报道？", AS_OF)
    assert (earliest.corpus_ask, earliest.phrase) == (EARLIEST, "云岭储能")
