"""The sides of a comparison and the measures asked of each."""

from rag.answer.router import Router
from rag.answer.side_focus import Side
from rag.answer.sides import SidePair, compare_sides, measure_sides


def test_both_sides_keep_their_own_form_and_lose_the_collective_word():
    assert compare_sides("5G商用满月时临海和云岭两市的基站数、用户数各是多少") == (
        "5G商用满月时临海的基站数、用户数是多少",
        "云岭的基站数、用户数是多少",
    )
    left, right = compare_sides("重庆的陈敏尔和北京的蔡奇谈数字经济时，各自侧重点是什么？")
    assert left.startswith("重庆的陈敏尔谈数字经济时") and right.startswith("北京的蔡奇谈数字经济时")


def test_each_measure_the_sides_share_is_asked_of_each_side():
    assert measure_sides("第三届和第七届数博会相比，参展企业和签约金额差了多少") == [
        SidePair("第三届数博会参展企业是多少", "第七届数博会参展企业是多少", "参展企业"),
        SidePair("第三届数博会签约金额是多少", "第七届数博会签约金额是多少", "签约金额"),
    ]
    assert measure_sides("第五届和第六届数博会签约情况对比") == [
        SidePair("第五届数博会签约情况", "第六届数博会签约情况")
    ]
    # "A和B比，…有什么变化" sets two editions side by side
    assert measure_sides("第三届和第七届数博会比，参展企业和签约情况有什么变化？") == [
        SidePair("第三届数博会参展企业", "第七届数博会参展企业", "参展企业"),
        SidePair("第三届数博会签约情况", "第七届数博会签约情况", "签约情况"),
    ]
    assert measure_sides("中国和东盟的数字经济合作是怎么推进的？") == []


def test_a_side_answer_says_what_is_measured_not_the_subject_its_article_is_about(news_index):
    answer = Router(news_index).ask("第三届和第七届数博会相比，参展企业和签约金额差了多少").answer
    lines = answer.splitlines()
    assert "420余家" in answer and "680余家" in answer and "1180亿元" in answer
    assert [line.split("：")[0] for line in lines if "：" in line][:2] == [
        "第三届数博会参展企业",
        "第三届数博会签约金额",
    ]


def test_clauses_and_modifiers_are_not_measures_to_split():
    for question in [
        "北京和上海分别提出了什么目标和举措",  # a clause
        "星驰和云岭储能的营收和利润分别增长了多少",
        "北京和上海的科技和教育投入分别是多少",  # 科技投入 and 教育投入
        "星驰和比亚迪的研发和生产基地分别在哪里",
    ]:
        assert len(measure_sides(question)) == 1, question


def test_a_side_after_x_de_y_keeps_what_follows_the_other_side():
    assert compare_sides("重庆的陈敏尔和蔡奇在会上的讲话有什么不同") == (
        "重庆的陈敏尔在会上的讲话",
        "蔡奇在会上的讲话",
    )


def test_two_occasions_of_one_speaker_keep_the_speaker_on_both_sides():
    assert compare_sides("肖亚庆在G20数字部长会和重庆智博会上的发言有什么不一样") == (
        "肖亚庆在G20数字部长会的发言",
        "肖亚庆在重庆智博会上的发言",
    )


def test_the_scope_before_the_left_side_and_a_shared_year_clause_go_to_both_sides():
    assert compare_sides("白皮书里临海和云岭的数字经济有什么不同") == (
        "白皮书里临海的数字经济",
        "白皮书里云岭的数字经济",
    )
    assert compare_sides("按白皮书的数据，临海和云岭的数字经济有什么不一样？") == (
        "按白皮书的数据，临海的数字经济",
        "按白皮书的数据，云岭的数字经济",
    )
    assert compare_sides("星驰2020年和2021年完成产量目标的情况有什么不同？") == (
        "星驰2020年完成产量目标的情况",
        "星驰2021年完成产量目标的情况",
    )
    assert compare_sides("临海和云岭搞数字经济，路子有什么不一样？") == (
        "临海搞数字经济，路子",
        "云岭搞数字经济，路子",
    )


def test_each_side_of_one_article_gets_its_own_paragraph(news_index):
    """Both sides are in the white paper: 临海's figures for 临海, and for 云岭 the sentence that
    starts with 云岭 though it names 临海 too ("总量不到临海的六成")."""
    lines = Router(news_index).ask("白皮书里临海和云岭的数字经济有什么不同").answer.splitlines()
    assert "1260亿元" in lines[0] and "680亿元" in lines[1]
    answer = Router(news_index).ask("第五届和第六届数博会签约情况对比").answer
    assert "846亿元" in answer and "1020亿元" in answer


def test_a_year_set_beside_a_dated_thing_dates_the_same_thing():
    sides = compare_sides("2020年数博会跟2022年比，主题有什么不一样")
    assert sides == ("2020年数博会主题", "2022年数博会主题")


def test_a_comparative_with_geng_asks_each_sides_figure():
    assert compare_sides("临海跟云岭数字经济谁增长更快") == ("临海增长是多少", "云岭数字经济增长是多少")


def test_two_people_each_with_a_year_and_a_speech_keep_their_own():
    sides = compare_sides("苗圩2020年的发言和许科敏2022年的讲话相比，谈国际合作的角度有什么不一样")
    assert sides == ("苗圩2020年的发言谈国际合作的角度", "许科敏2022年的讲话谈国际合作的角度")


def test_a_side_is_named_by_its_words_not_by_single_characters_it_shares_with_most_sentences(seed_index):
    """ "合作年开幕式" gives the other side 年 too: a sentence about the G20 meeting "2021年…" still
    answers for the G20 side, with the manner asked ("以线上线下相结合方式举行")."""
    side = Side.of(["G20", "部长会议"], ["中国", "东盟", "合作", "年", "开幕式"], [])
    assert "年" not in side.avoid and "东盟" in side.avoid
    answer = Router(seed_index).ask("G20数字部长会议和中国-东盟数字经济合作年开幕式，分别是用什么形式开的？")
    first, second = answer.answer.splitlines()[:2]
    assert "线上线下相结合方式" in first and "网络视频形式" in second
