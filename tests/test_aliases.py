"""Well-known abbreviations (rag.index.aliases): "G20" finds the articles that write 二十国集团
and back, answers count 营业收入 as the asked 营收, and numerals inside names are not amounts."""

from __future__ import annotations

from rag.answer.qtype import NUMBER, carries_type
from rag.answer.router import Router
from rag.index.aliases import full_names, respelling, spellings

XIAO_YAQING_G20 = "000_2deaa8aae2986475"  # writes 二十国集团 only
XU_KEMIN_FORUM = "001_79559e53e2614f5a"  # writes G20 only


def test_an_abbreviation_is_swapped_for_its_full_name_and_back():
    assert spellings("G20数字部长会议") == ["g20数字部长会议", "二十国集团数字部长会议"]
    assert spellings("星驰的营业收入") == ["星驰的营业收入", "星驰的营收"]
    assert "亚太经合组织" in spellings("APEC") and "亚太经济合作组织" in spellings("APEC")
    assert spellings("净利润") == ["净利润", "净利"]  # never 净利润润: 净利 is part of 净利润 here
    assert spellings("数字经济") == ["数字经济"]


def test_a_search_adds_the_full_names_of_abbreviations_but_not_the_other_way():
    assert full_names("2021年星驰的营收是多少") == ["营业收入"]
    assert full_names("G20数字部长会议") == ["二十国集团"]
    assert full_names("中国—上海合作组织数字经济产业论坛") == []  # 上合组织 would find other passages
    assert full_names("全年净利润") == [] and full_names("数字经济") == []


def test_revenue_asked_as_yingshou_is_found_where_the_report_says_yingye_shouru(news_index):
    answer = Router(news_index).ask("2021年星驰的营收是多少")
    assert "265亿元" in answer.answer


def test_a_word_the_text_holds_in_another_spelling_is_found():
    as_asked = respelling(["营收", "星驰"])
    assert "营收" in as_asked("全年实现营业收入372亿元")
    assert as_asked("星驰营收372亿元") == "星驰营收372亿元"
    assert as_asked("全年净利润6.8亿元") == "全年净利润6.8亿元"


def test_which_articles_mention_g20_counts_both_spellings(seed_index):
    answer = Router(seed_index).ask("G20在哪几篇文章里出现过")
    assert answer.answerable and "共有2篇" in answer.answer
    assert {c.article_id for c in answer.citations} == {XIAO_YAQING_G20, XU_KEMIN_FORUM}


def test_a_question_with_the_abbreviation_is_answered_from_the_article_with_the_full_name(seed_index):
    answer = Router(seed_index).ask("G20数字部长会开完通过了个什么文件")
    assert "数字部长宣言" in answer.answer
    assert answer.citations[0].article_id == XIAO_YAQING_G20


def test_numerals_of_names_and_yen_are_read_as_what_they_are():
    assert not carries_type("会议通过了《二十国集团数字部长宣言》。", NUMBER)
    assert not carries_type("推动印发“十四五”数字经济发展规划", NUMBER)
    assert carries_type("婚礼耗资五亿日圆", NUMBER)  # 五亿日 is not a day of the month
    assert carries_type("二十国集团成员共有19个国家", NUMBER)


def test_an_abbreviation_inside_another_word_is_not_the_name():
    assert spellings("中央行政机关") == ["中央行政机关"]  # no 央行 in it
    assert full_names("经营收入增长") == [] and full_names("净利率") == []
    assert respelling(["营业收入"])("经营收入100亿元") == "经营收入100亿元"
    assert spellings("Whole Foods") == ["whole foods"] and spellings("G200") == ["g200"]
    assert full_names("金砖国家") == [] and full_names("东盟") == ["东南亚国家联盟"]  # never a Latin form
    assert spellings("央行降息") == ["央行降息", "中国人民银行降息"]
