"""What a passage must hold to answer: people and numbers in the passage, organisations and
places in its article, the sort of thing asked for not at all."""

from rag.answer.conversation import Conversation
from rag.answer.followup import post_holders
from rag.answer.qtype import NUMBER, asked_roles, carries_type
from rag.answer.support import support_terms
from rag.index.tokens import ChineseTokenizer

TOKENIZER = ChineseTokenizer()


def test_an_organisation_is_enough_in_the_article_a_person_must_be_in_the_passage():
    event = support_terms("新加坡在智博会上推出了个什么展陈？", TOKENIZER)
    assert "智博" in event.in_article and "智博" not in event.in_passage  # jieba tags 智博 as a name
    lead, paragraph = "2021智博会在重庆开幕。", "新加坡推出“数字新纪元”展陈。"
    assert event.held_by(paragraph, lead + paragraph, "2021-08-23")
    assert not event.held_by(paragraph, paragraph, "2021-08-23")
    person = support_terms("何静怡对临云城际铁路开通有什么评价？", TOKENIZER)
    assert "何静怡" in person.in_passage
    assert not person.held_by("临云城际铁路开通。", "何静怡出席。临云城际铁路开通。", "2023-06-28")


def test_a_local_organ_is_named_without_its_place_in_the_places_own_paper():
    terms = support_terms("北京市委那次讲座请谁来做的辅导报告？", TOKENIZER)
    assert "北京市委" in terms.in_article
    beijing = "北京数字贸易讲座。市委理论学习中心组举办讲座，邀请余晓晖作辅导报告。"
    assert terms.held_by("邀请余晓晖作辅导报告。", beijing, "2021-05-28")
    assert not terms.held_by("邀请余晓晖作辅导报告。", "重庆讲座。市委举办讲座。", "2021-05-28")
    assert not terms.held_by("邀请余晓晖作辅导报告。", "北京讲座。市政府举办讲座。", "2021-05-28")


def test_the_sort_of_thing_asked_for_is_not_a_name_to_find():
    terms = support_terms("2021年G20数字部长会议在意大利哪个城市举行？", TOKENIZER)
    assert "城市" not in terms.in_passage + terms.in_article and "意大利" in terms.in_article


def test_5g_is_a_name_not_an_amount():
    assert not carries_type("扩大5G基站覆盖范围", NUMBER)
    assert carries_type("建成5G基站6300个", NUMBER) and carries_type("达到5Gbps", NUMBER)


def test_a_pronoun_after_a_who_question_is_the_holder_of_the_post_asked_about():
    answer = "云岭市市长苏文博、星驰汽车董事长陈国栋、云岭储能董事长何静怡等出席。"
    question = "云岭储能董事长是谁？"
    assert asked_roles(question) == ["董事长"]
    assert post_holders(["苏文博", "陈国栋", "何静怡"], answer, question, ["董事长"])[0] == "何静怡"
    assert post_holders(["苏文博", "陈国栋"], answer, question, [])[0] == "苏文博"


def test_she_after_asking_who_chairs_the_company_is_the_chairwoman(news_index):
    chat = Conversation(news_index)
    chat.ask("云岭储能董事长是谁？")
    follow = chat.ask("她说公司2023年要重点做哪几件事？")
    assert follow.standalone_question.startswith("何静怡")
    assert "储能电池产品布局" in follow.answer


def test_an_expo_named_only_in_the_articles_lead_still_supports_its_paragraph(seed_index):
    from rag.answer.extractive import Answerer

    answer = Answerer(seed_index).ask("新加坡在智博会上推出了个什么展陈？")
    assert answer.answerable and "数字新纪元" in answer.answer


def test_a_place_in_the_article_must_be_whole_or_lack_only_a_glued_last_character():
    terms = support_terms("北京市的数字贸易规模有多大", TOKENIZER)
    assert "北京市" in terms.in_article
    assert not terms.held_by("数字贸易规模", "南京市数字贸易规模", "2021-01-01")  # not 京市
    assert terms.held_by("数字贸易规模", "北京数字贸易规模", "2021-01-01")


def test_the_post_holder_is_found_with_or_without_de_before_the_post():
    answer = "星驰汽车董事长陈国栋、云岭储能董事长何静怡等出席。"
    assert post_holders(["陈国栋", "何静怡"], answer, "云岭储能的董事长是谁？", ["董事长"])[0] == "何静怡"
    assert post_holders(["陈国栋", "何静怡"], answer, "董事长是谁？", ["董事长"])[0] == "陈国栋"


def test_amounts_in_yuan_of_every_currency_and_size():
    from rag.answer.qtype import MONEY

    for amount in ("3.6亿元", "5000万元", "1.2万亿元", "100亿美元", "30亿港元", "98元", "两千元"):
        assert MONEY.search(amount), amount
    assert not MONEY.search("118个项目")


def test_a_counterpart_of_a_word_the_corpus_lacks_answers_something_else():
    from rag.answer.support import contrast_pattern

    seat = contrast_pattern("临云城际一等座票价多少钱", ["一等"])
    assert seat.search("二等座全程票价98元") and not seat.search("一等座")
    assert contrast_pattern("合作年的闭幕式是什么时候办的", ["闭幕式"]).search("开幕式通过网络视频形式举行")
    assert contrast_pattern("她首度担当女主角", ["首度"]) is None  # 首度 and 首次 are one thing


def test_a_first_class_fare_is_not_answered_with_the_second_class_one(news_index):
    from rag.answer.router import Router

    assert not Router(news_index).ask("临云城际一等座票价多少钱").answerable


def test_a_year_is_held_by_the_report_on_it_published_early_next_year():
    """The 2021 white paper reports 2020's figures; a 2022 article does not count for 2020."""
    from rag.answer.support import reported_after

    article = "白皮书显示，2020年全省数字经济规模达到1.15万亿元。临海市数字经济核心产业增加值达到1260亿元。"
    assert reported_after("2020", "2021-06-17", article)
    assert not reported_after("2020", "2021-09-09", article)  # half a year after
    assert not reported_after("2020", "2022-01-10", article)
    assert not reported_after("2020", "2021-01-10", "临海市数字经济核心产业增加值达到1260亿元。")
