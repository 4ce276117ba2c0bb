"""Each question kind answered over the real seed index: what readers ask, and what must come back."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from rag.answer.conversation import UNFINISHED, Conversation
from rag.answer.kinds.timeline import day_before
from rag.answer.router import Router
from rag.cli import main
from rag.eval.metrics import strip_markers
from rag.search.catalog import Catalog
from rag.search.query import SearchFilters

G20, ASEAN, EXPO, BEIJING, FORUM = (
    "000_2deaa8aae2986475", "003_f30a3f95d871ccd8", "002_c22cbfc4fcc6f316", "004_0a1dfa763c39606a",
    "001_79559e53e2614f5a",
)  # fmt: skip


@pytest.fixture(scope="module")
def router(seed_index) -> Router:
    return Router(seed_index)


def _cited(answer) -> list[str]:
    return [c.article_id for c in answer.citations]


def test_catalog_lists_every_article_by_date_and_finds_every_mention(seed_index):
    catalog = Catalog(seed_index)
    assert [a.date for a in catalog.articles()] == sorted(a.date for a in catalog.articles())
    assert {m.article.article_id for m in catalog.mentions("一带一路")} == {G20, EXPO, FORUM}
    assert {m.article.article_id for m in catalog.mentions("数字鸿沟")} == {G20, FORUM}
    assert len(catalog.mentions("量子引力")) == 0
    # One title writes 中国-东盟, another text 中国—东盟: a dash is a dash.
    assert (
        len(catalog.mentions("中国—东盟数字经济合作年"))
        == len(catalog.mentions("中国-东盟数字经济合作年"))
        == 2
    )


def test_speech_gives_the_speakers_sentences_of_the_named_occasion(router):
    answer = router.ask("肖亚庆在二十国集团数字部长会议上说了什么？")
    assert answer.kind == "speech" and _cited(answer) == [G20]
    text = strip_markers(answer.answer)
    assert "数字化转型是大势所趋" in text and "原标题" not in text
    assert "数字经济发展新高地" not in text  # his words at the expo, another article


def test_speech_asked_with_a_verb_gives_what_was_said_with_it_first(router):
    """ "强调了哪些" wants the paragraph the speaker 强调s, whole, before the 指出 one."""
    answer = router.ask("刘鹤在智博会开幕式致辞时强调了哪些东西")
    assert answer.kind == "speech"
    assert answer.answer.index("刘鹤强调") < answer.answer.find("刘鹤指出") or "刘鹤指出" not in answer.answer
    assert "市场化、法治化、国际化" in answer.answer


def test_points_a_speaker_made_without_a_numbered_list_are_his_paragraph_leads(router):
    """Four "蔡奇强调，要…" paragraphs: each one's first sentence is a point, one a line."""
    answer = router.ask("蔡奇对北京发展数字贸易提了哪几点要求")
    lines = answer.answer.splitlines()
    assert answer.kind == "list" and len(lines) >= 3
    assert all(line.startswith("蔡奇") for line in lines)
    assert "夯实数字贸易发展基础" in answer.answer and "制度创新" in answer.answer
    assert "余晓晖" not in answer.answer  # the lecturer's 、-series is not his points


@pytest.mark.parametrize(
    "question", ["蔡奇对北京数字贸易发展提出了哪些要求？", "蔡奇在讲座上对北京发展数字贸易提了什么要求？"]
)
def test_what_demands_a_speaker_made_are_all_his_points_not_his_first_paragraphs(router, question):
    """Asked "什么要求" without a count, the answer is his points too, with one that goes on in
    the same paragraph ("要坚决守住数据安全底线"), not the first 320 characters he said."""
    answer = router.ask(question)
    for point in ("夯实数字贸易发展基础", "重点领域发展", "制度创新", "数据安全底线"):
        assert point in answer.answer, point
    assert "余晓晖" not in answer.answer


def test_the_article_of_a_period_is_summarised_only_when_it_is_the_one(router):
    assert router.ask("2020年那篇报道讲的啥").answer.startswith("《2020年中国-东盟数字经济合作年开幕》")
    several = router.ask("2021年那篇报道讲的啥")
    assert several.answer.startswith("2021年共有3篇文章")  # which one is meant: the reader picks
    assert "没有2024年发布的文章" in router.ask("2024年那篇报道讲的是什么").answer
    named = router.ask("2021年重庆智博会开幕那篇新闻主要讲了什么？")  # the period's article on it
    assert named.answer.startswith("《中国—上海合作组织数字经济产业论坛、2021中国国际智能产业博览会开幕》")
    assert "致贺信 习近平指出" in named.answer  # a subheading kept off the next sentence


def test_a_speaker_quoting_someone_is_not_saying_it_with_that_verb(router):
    answer = router.ask("肖亚庆在G20会议上强调了什么")
    assert answer.answer.startswith("肖亚庆强调")


def test_speech_without_an_occasion_groups_articles_with_their_dates(router):
    answer = router.ask("肖亚庆说了什么？")
    assert set(_cited(answer)) == {G20, EXPO}
    assert "（2021-08-05）" in answer.answer and "（2021-08-24）" in answer.answer


def test_list_returns_every_announced_item_in_order(router):
    answer = router.ask("苗圩提出了哪几点倡议？")
    lines = answer.answer.split("\n")
    assert answer.kind == "list" and lines[0] == "共六点：" and "六点倡议" in lines[1]  # its introduction
    assert [line[:2] for line in lines[2:]] == ["一是", "二是", "三是", "四是", "五是", "六是"]
    assert all(line.endswith("[1]") for line in lines[1:])


def test_corpus_count_list_and_mentions_are_exact(router):
    assert "共有5篇" in router.ask("语料库里一共有几篇文章？").answer
    listing = router.ask("这几篇文章分别是什么时候发布的？")
    assert listing.kind == "corpus" and listing.answer.count("》（20") == 5
    mentions = router.ask("哪些文章提到了“一带一路”？")
    assert "共有3篇" in mentions.answer and set(_cited(mentions)) == {G20, EXPO, FORUM}
    nothing = router.ask("哪些文章提到了量子引力？")
    assert not nothing.answerable and "没有文章提到" in nothing.answer


def test_publication_period_lists_that_period_and_says_when_it_is_empty(router):
    answer = router.ask("2021年发布了哪些文章？")
    assert answer.kind == "time" and set(_cited(answer)) == {G20, EXPO, BEIJING}
    empty = router.ask("2019年发布了哪些文章？")
    assert not empty.answerable and "2019年" in empty.answer


def test_latest_article_is_summarised(router):
    answer = router.ask("最新的一篇文章讲了什么？")
    assert _cited(answer) == [FORUM] and "7月23日" in answer.answer
    assert len(strip_markers(answer.answer)) <= 400


def test_compare_answers_each_side_on_its_own_line(router):
    answer = router.ask("肖亚庆和苗圩分别在什么场合发言？")
    lines = answer.answer.split("\n")
    assert (
        answer.kind == "compare"
        and lines[0].startswith("肖亚庆")
        and any(x.startswith("苗圩") for x in lines)
    )
    assert {G20, ASEAN} <= set(_cited(answer))


def test_timeline_is_in_date_order(router):
    answer = router.ask("按时间顺序，资料里都报道了哪些活动？")
    dates = [line.split(" — ")[0] for line in answer.answer.split("\n")]
    assert answer.kind == "timeline" and len(dates) == 5 and dates == sorted(dates)


def test_follow_up_leaves_out_what_was_said_and_resolves_the_article(seed_index):
    chat = Conversation(seed_index)
    first = chat.ask("肖亚庆在二十国集团数字部长会议上说了什么？")
    more = chat.ask("他还说了什么？")
    assert (
        more.kind == "speech" and more.standalone_question == "肖亚庆在二十国集团数字部长会议上还说了什么？"
    )
    said_before = {c.text[s:e] for c in first.citations for s, e in c.highlights}
    assert said_before and not said_before & {c.text[s:e] for c in more.citations for s, e in c.highlights}
    chat.ask("2021智博会有多少家企业参展？")
    when = chat.ask("那篇文章是哪天发的？")
    assert "发布于2021年8月24日" in when.answer and _cited(when) == [EXPO]


def test_follow_up_with_nothing_to_refer_to_is_a_standalone_question(seed_index):
    for alone in ("那篇文章是哪天发的？", "那云岭呢", "还有呢？"):
        lonely = Conversation(seed_index).ask(alone)
        assert lonely.answer == UNFINISHED and lonely.standalone_question == alone and not lonely.citations
    assert Conversation(seed_index).ask("他还说了什么？").standalone_question == "他还说了什么？"


def test_rag_ask_json_has_kind_standalone_and_replays_history(seed_index_dir, capsys):
    common = ["--index", str(seed_index_dir), "--json"]
    assert (
        main(["ask", "他还说了什么？", "--history", "肖亚庆在二十国集团数字部长会议上说了什么？", *common])
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["kind"] == "speech" and "还说了什么" in answer["standalone_question"]
    assert all("spans" in c for c in answer["citations"])
    assert main(["ask", "去年发布了哪些文章？", "--as-of", "2022-07-24", *common]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "time"
    assert main(["ask", "那篇是哪天发的？", "--history", "数" * 600, *common]) == 2
    assert "--history 1: query has 600 characters" in capsys.readouterr().err


def test_one_card_per_article_and_markers_do_not_run_into_the_next_sentence(router):
    answer = router.ask("2021年二十国集团数字部长会议是以什么方式举行的？")
    ids = [c.article_id for c in answer.citations]
    assert len(ids) == len(set(ids))
    assert not re.search(r"\[\d+\][^\s\[]", answer.answer)


def test_a_swapped_period_or_edition_replays_the_previous_question(seed_index):
    chat = Conversation(seed_index)
    chat.ask("2021年二十国集团数字部长会议是以什么方式举行的？")
    assert chat.standalone("那2022年呢？") == "2022年二十国集团数字部长会议是以什么方式举行的？"


def test_that_meeting_and_that_year_are_what_the_previous_question_named(seed_index):
    from rag.answer.followup import resolve_pointers

    tagged = seed_index.tokenizer.tagged
    assert resolve_pointers("那个论坛在哪开的？", "许科敏在世界青年发展论坛上讲了什么？", tagged) == (
        "世界青年发展论坛在哪开的？"
    )
    assert resolve_pointers("这个中心谁发起的？", "人形机器人创新中心是哪年成立的？", tagged) == (
        "人形机器人创新中心谁发起的？"  # a verb joins a name before a noun
    )
    assert resolve_pointers("那这个展会一共办几天？", "2021智博会是在哪个城市办的？", tagged) == (
        "2021智博会一共办几天？"  # 智博会 is a 博览会, a 展会
    )
    assert resolve_pointers("这个展会一共办几天？", "会议在哪开的？", tagged) == "这个展会一共办几天？"
    previous = "2021年的二十国集团数字部长会议是以什么方式开的？"
    assert resolve_pointers("会议最后通过了什么文件？", previous, tagged) == (
        "2021年二十国集团数字部长会议最后通过了什么文件？"  # its head starts the question
    )
    assert (
        resolve_pointers("那一年它营收多少？", "星驰汽车2021年造了多少辆车？", tagged) == "2021年它营收多少？"
    )
    assert resolve_pointers("那次会议开了几天？", "苗圩说了什么？", tagged) == "那次会议开了几天？"
    chat = Conversation(seed_index)
    chat.ask("肖亚庆参加了2021年的G20数字部长会议吗？")
    theme = chat.ask("那次会议的主题是啥？")
    assert theme.standalone_question == "2021年G20数字部长会议的主题是什么？"  # no "会议会议"
    assert "数字化促进韧性" in theme.answer


def test_a_period_after_the_newest_article_must_be_named_by_the_text(router):
    assert not router.ask("2024年二十国集团数字部长会议提出了哪几点倡议？").answerable


def test_a_question_naming_its_own_subject_is_no_follow_up(seed_index):
    chat = Conversation(seed_index)
    chat.ask("2021智博会有多少家企业参展？")
    assert chat.ask("苗圩说了什么？").standalone_question == "苗圩说了什么？"
    assert chat.ask("他还说了什么？").standalone_question == "苗圩还说了什么？"
    chat.ask("2021年发表了哪些报道？")
    listed = chat.ask("语料里有哪些文章？")
    assert listed.standalone_question == "语料里有哪些文章？" and len(listed.citations) == 5


def test_a_first_question_about_him_asks_who_is_meant(seed_index):
    answer = Conversation(seed_index).ask("他还说了什么？")
    assert not answer.answerable and "指的是谁" in answer.answer and not answer.citations


def test_a_date_filter_holds_for_every_kind(router):
    within = SearchFilters.parse("2022-01-01", "2022-07-24")
    for question in ("肖亚庆说了什么？", "语料里有哪些文章？", "许科敏说了什么？", "苗圩提出了哪几点倡议？"):
        answer = router.ask(question, filters=within)
        assert all(c.date >= "2022-01-01" for c in answer.citations if answer.answerable), question
    assert _cited(router.ask("语料里有哪些文章？", filters=within)) == [FORUM]


def test_role_is_the_post_written_before_the_name(router):
    from rag.answer.kinds.role import title_before

    text = "邀请中国信息通信研究院院长余晓晖作辅导报告，市委副书记、市长陈吉宁参加。"
    assert text[slice(*title_before(text, "余晓晖"))] == "中国信息通信研究院院长"
    assert text[slice(*title_before(text, "陈吉宁"))] == "市委副书记、市长"
    assert title_before("陈敏尔、肖亚庆出席。", "肖亚庆") is None
    answer = router.ask("肖亚庆参加二十国集团数字部长会议的时候是什么职务？")
    assert "工业和信息化部部长" in answer.answer and _cited(answer) == [G20]
    assert "中国信息通信研究院" in router.ask("余晓晖是哪个单位的负责人？").answer  # the unit of the post


def test_a_message_asking_two_things_answers_both_the_second_as_a_follow_up(seed_index):
    from rag.answer.followup import question_parts

    assert question_parts("X哪天开幕的？报道又是哪天发的") == ["X哪天开幕的？", "那篇报道又是哪天发的"]
    assert question_parts("他现在是什么职务，2019年那会儿呢") == ["他现在是什么职务？", "2019年那会儿呢"]
    one = "城际铁路通车以后，从临海坐到云岭最快要多久"
    assert question_parts(one) == [one]
    for restated in (
        "第七届数博会办得怎么样？介绍一下。",
        "第七届数博会办得怎么样？介绍一下？具体说说。",
        "韩立新为啥说要发算力券？他是怎么解释的？",
    ):
        assert question_parts(restated) == [restated]  # the later parts ask nothing of their own
    view = ["韩立新说了什么？", "他怎么看？"]  # his view is a second question
    assert question_parts("".join(view)) == view
    chat = Conversation(seed_index)
    answer = chat.ask("2020年中国-东盟数字经济合作年是以什么主题开幕的？报道又是哪天发的")
    first, second = answer.answer.split("\n")
    assert "集智聚力共战疫" in first and "2020年6月12日" in second and _cited(answer) == [ASEAN]
    assert len(chat.turns) == 1 and chat.turns[0].article_ids == [ASEAN]


def test_a_refused_question_that_names_no_subject_takes_the_previous_one(news_index):
    """ "开通第一天坐车的人有多少" is long enough to look standalone; refused so, it is asked about
    what the previous question named."""
    chat = Conversation(news_index)
    chat.ask("临云城际铁路是哪天开通的？")
    answer = chat.ask("开通第一天坐车的人有多少？")
    assert "3.1万人次" in answer.answer and answer.standalone_question.startswith("临云城际铁路")
    chat.ask("临云城际铁路是哪天开通的？")
    named = chat.ask("苗圩说了什么？")  # names its own subject: not asked about the railway
    assert "临云" not in named.standalone_question


def test_he_after_a_who_question_is_the_person_who_answered_it(seed_index):
    """ "是谁宣读了李克强总理的贺信" then "他当时担任什么职务": 他 is 苗圩, who read it, not 李克强
    (named in the question) nor 阮春福 (whose letter 高国兴 read in the same sentence)."""
    chat = Conversation(seed_index)
    chat.ask("2020年中国-东盟数字经济合作年开幕式上是谁宣读了李克强总理的贺信？")
    answer = chat.ask("他当时担任什么职务？")
    assert answer.standalone_question.startswith("苗圩") and "工业和信息化部部长" in answer.answer


def test_a_year_swapped_into_a_question_about_now(seed_index):
    from rag.answer.followup import needs_context, swap_attribute

    assert needs_context("2019年那会儿呢")
    swapped = swap_attribute("周启明现在是什么职务？", "2019年那会儿", seed_index.tokenizer)
    assert swapped == "周启明2019年是什么职务？"
    assert swap_attribute("星驰E9卖了多少", "2023年的产量目标", seed_index.tokenizer) == ""


def test_articles_about_a_topic_name_it_in_title_or_lead_not_in_passing(news_index):
    chat = Router(news_index)
    about = chat.ask("专门写云岭储能的新闻有哪几篇？").answer
    assert "共有3篇" in about and "星驰汽车2022年产量" not in about  # 星驰's reports mention it in passing
    expos = chat.ask("讲数博会开幕的报道一共有几篇").answer
    assert "共有5篇" in expos and "第三届" in expos  # its title spells 数字经济博览会, its lead 数博会
    assert "5G商用满月" not in chat.ask("数博会相关的报道一共几篇").answer  # "今年9月数博会上提出的目标"


def test_a_sentence_listing_the_asked_things_itself_is_not_widened_to_the_next_list(router):
    """ "通过G20、金砖等多边机制…" answers "哪些多边机制"; the 一是…二是… after it is another matter."""
    from rag.answer.kinds.listing import _names_asked_series

    sentence = "通过G20、金砖等多边机制，深化与各国的数字经济合作，取得了积极的成效。"
    assert _names_asked_series(sentence, "工信部通过哪些多边机制深化合作？")
    assert not _names_asked_series(sentence, "工信部在哪些方面开展了合作？")
    answer = router.ask("工信部通过哪些多边机制深化与各国的数字经济合作？").answer
    assert "G20、金砖等多边机制" in answer and "一是" not in answer


def test_an_enumeration_the_speaker_begins_is_given_whole_and_in_order(news_index):
    router = Router(news_index)
    advice = router.ask("第五届数博会上周启明就数实融合提了啥建议").answer  # 数实融合 is in its intro only
    marks = [advice.find(f"{n}是坚持") for n in "一二三四五"]
    assert -1 not in marks and marks == sorted(marks)
    proposal = router.ask("林晓岚在第四届数博会上代表临海发出了什么倡议？")  # no saying verb: 发出
    assert proposal.kind == "speech" and "共护数据安全" in proposal.answer


def test_a_list_as_long_as_its_text_announces_beats_a_series_of_names(news_index):
    demands = Router(news_index).ask("周启明在临云城际铁路项目推进会上提了哪几点要求").answer
    assert "征地拆迁" in demands and "精品工程" in demands and "站城融合" in demands


def test_a_summary_says_first_what_the_question_asks_about_beyond_the_subject(news_index):
    summary = Router(news_index).ask("请总结一下江川5G商用满月时的建设和用户情况").answer
    assert "6300个" in summary and "38万户" in summary  # 用户, not in the title, is asked for


def test_a_timeline_of_amounts_reads_figures_in_yuan_as_the_amount_asked(news_index):
    from rag.answer.kinds.timeline import topic_of

    assert (
        topic_of("历届数博会开幕式上的签约金额，按时间列一下")
        == "历届数博会开幕式上的签约金额".replace("历届", "").strip()
    )
    for asked in ("算力券从开始发到现在，累计发放金额是怎么变化的", "算力券的发放总额前后是怎么增长的"):
        vouchers = Router(news_index).ask(asked).answer
        marks = [vouchers.find(x) for x in ("5000万元", "1.2亿元", "3.6亿元")]  # "累计发放算力券3.6亿元"
        assert -1 not in marks and marks == sorted(marks)


def test_a_timeline_of_a_thing_uses_the_reports_about_it_not_those_that_mention_it(news_index):
    built = Router(news_index).ask("按时间顺序说说云岭储能电池基地是怎么建起来的").answer
    assert "开工建设" in built and "一期项目" in built
    assert "算力券" not in built and "零碳" not in built  # other reports naming 云岭储能 in passing


def test_a_timeline_of_the_whole_collection_gives_every_article_by_date(router):
    asked = ("按时间先后把这几篇报道里的活动排一下", "这几篇报道里的会议和活动，按发生时间从早到晚排个序")
    for question in asked:
        lines = router.ask(question).answer.splitlines()
        dated = [line[:10] for line in lines if re.match(r"\d{4}-\d{2}-\d{2} — 《", line)]
        assert len(dated) == 5 and dated == sorted(dated), question


def test_the_speaker_is_the_person_asked_about_not_a_document_or_a_word_before_him(news_index):
    router = Router(news_index)
    asked = ("韩立新在白皮书发布会上对下一步工作是怎么说的", "白皮书发布会上，韩立新对下一步工作是怎么说的？")
    for question in asked:
        said = router.ask(question)
        assert said.kind == "speech" and "补齐核心技术短板" in said.answer, question  # not "白皮书显示"
    assert router.people("据报道，会议对数字经济怎么看") == []  # 会议 is no one


def test_a_relative_year_is_the_readers_not_the_articles(news_index):
    """去年 (2022 as of the newest article) is asked as 2022年: the 2020 report's own
    "截至去年底" is no answer, and 卖 is asked as the text writes it (销售)."""
    answer = Router(news_index).ask("星驰去年一共卖了多少辆车?")
    assert answer.answerable and {c.article_id[:3] for c in answer.citations} == {"020"}


def test_a_long_speech_is_heard_out_to_its_last_point(seed_index):
    """Each paragraph's lead before any paragraph's second sentence: 肖亚庆's three paragraphs
    all appear within the length budget; a topic said in other words is found by its words."""
    router = Router(seed_index)
    answer = router.ask("肖亚庆在二十国集团数字部长会议上都讲了些什么？").answer
    assert all(point in answer for point in ("数字基础设施", "数字鸿沟", "不应将技术问题政治化"))
    attitude = router.ask("肖亚庆在G20数字部长会上对技术政治化这件事是啥态度？").answer
    assert attitude.startswith("肖亚庆强调") and "数字鸿沟" not in attitude


def test_what_a_report_says_is_a_summary_and_a_refusal_is_no_referent(news_index):
    """ "白皮书都说了些啥" (nobody speaks) asks for a summary; a refused question's closest
    passages give a follow-up nothing to refer to."""
    answer = Router(news_index).ask("江川那份2021年的数字经济白皮书都说了些啥？")
    assert answer.kind == "summary" and "1.15万亿元" in answer.answer
    chat = Conversation(news_index)
    refused = chat.ask("第二届江川数博会办得怎么样？")
    assert not refused.answerable and refused.answer != UNFINISHED  # a question of its own, unanswered
    assert chat.turns[-1].article_ids == []
    # the corpus reports the 3rd to 7th editions: "第二" elsewhere in a text is not "第二届"
    merged = Conversation(news_index).ask("第二届江川数博会办得怎么样？介绍一下。")
    assert not merged.answerable and merged.kind == "summary"  # one request, not two parts
    assert Router(news_index).ask("第七届数博会办得怎么样？介绍一下。").answerable
    speech = Conversation(news_index).ask("韩立新为啥说要发算力券？他是怎么解释的？")
    assert speech.kind == "speech" and "用不起、不会用" in speech.answer


def test_a_figure_over_several_years_is_one_line_a_year(news_index):
    """ "近三年…分别" / "2019到2022年…按年份": a timeline of the yearly reports on those years and on
    that subject (a 2020 report on 2019, or 云岭储能's report that names 星驰, is not one)."""
    router = Router(news_index)
    amounts = router.ask("近三年的数博会分别签约了多少金额")
    assert amounts.kind == "timeline"
    assert [a in amounts.answer for a in ("846亿元", "1020亿元", "1180亿元")] == [True] * 3
    revenue = router.ask("2020年到2022年星驰的营收分别是多少").answer.splitlines()
    assert ["178亿元" in revenue[0], "265亿元" in revenue[1], "372亿元" in revenue[2]] == [True] * 3
    assert len(revenue) == 3 and "132亿元" not in " ".join(revenue)
    assert revenue[0].startswith("2021-01-18 — 2020年：")  # published 2021, on 2020


def test_each_article_of_a_list_is_dated_when_the_next_question_asks(news_index):
    chat = Conversation(news_index)
    listed = chat.ask("哪些文章报道了数博会开幕？")
    dated = chat.ask("分别是什么时候发布的？")
    assert dated.kind == "corpus" and len(dated.answer.splitlines()) == len(listed.citations) > 1
    assert all("发布于" in line for line in dated.answer.splitlines())


def test_what_else_he_said_stays_at_the_occasion_asked_about(news_index):
    chat = Conversation(news_index)
    chat.ask("周启明在铁路可研获批的推进会上提了哪几点要求")
    more = chat.ask("他还说了什么")
    assert more.standalone_question == "周启明在铁路可研获批的推进会上还说了什么？"
    assert {c.article_id[:3] for c in more.citations} == {"000"}


def test_what_a_person_said_is_refused_when_the_corpus_names_them_but_never_quotes_them(router):
    """陈吉宁 only attends the lecture ("市长陈吉宁…参加学习"): no sentence of his is an answer,
    nor one side of a comparison; 蔡奇, who speaks there, still is."""
    answer = router.ask("陈吉宁在那次数字贸易讲座上讲了什么")
    assert not answer.answerable and "陈吉宁" in answer.answer and not answer.citations
    lines = router.ask("蔡奇和陈吉宁在讲座上的发言有什么不同？").answer.splitlines()
    assert "蔡奇强调" in lines[1] and any(line.startswith("陈吉宁") and "没有找到" in line for line in lines)
    assert "没有记录其讲话" not in router.ask("陈吉宁会讲哪些语言？").answer  # no words are asked


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("22日下午，陈敏尔、肖亚庆参观了展馆。", date(2021, 8, 22)),
        ("30日，代表团抵达。", date(2021, 7, 30)),  # after the report's day: the month before
        ("展会将于28日闭幕。", None),  # said of the future
        ("展期为期3日。", None),
        ("补贴5日元。", None),
        ("开幕第3日签约。", None),
    ],
)
def test_a_day_without_its_month_is_the_latest_such_day_up_to_the_report(sentence, expected):
    assert day_before(sentence, date(2021, 8, 24)) == expected
