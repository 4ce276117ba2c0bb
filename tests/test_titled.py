"""A person asked for by surname and post (rag.answer.titled): "周省长" is the 周启明 the passages
call 省长, and every strategy then answers about him."""

from __future__ import annotations

from rag.answer.router import Router
from rag.answer.titled import named, titled_people


def test_surname_and_post_are_read_from_the_question(news_index):
    tokenizer = news_index.tokenizer
    assert titled_people("周省长在开幕式上讲了什么", tokenizer) == [(0, "周", "省长")]
    assert titled_people("陈董事长和何副省长", tokenizer) == [(0, "陈", "董事长"), (5, "何", "副省长")]
    assert titled_people("这周省长和周省长分别说了什么", tokenizer) == [(5, "周", "省长")]  # 这周: this week
    nobody = ("开幕式上讲了什么", "现任校长是谁", "蒋巨峰是何时辞去四川省长职务的",
              "基金会现任董事会主席是谁", "他向市长汇报了什么", "开会时市长说了什么")  # fmt: skip
    for question in nobody:
        assert titled_people(question, tokenizer) == [], question


def test_the_name_is_the_one_the_texts_give_that_post(news_index):
    tagged = news_index.tokenizer.tagged
    texts = ["江川省省长周启明出席开幕式并致辞。", "周启明省长强调，要抓好落实。", "副省长李华出席。"]
    assert named("周", "省长", texts, tagged) == "周启明"
    assert named("王", "省长", texts, tagged) is None  # no 王 is called 省长 there
    assert named("周", "省长", ["省长周启明说", "省长周文斌说"], tagged) is None  # two, equally often
    assert named("周", "省长", ["副省长周文斌出席", "副省长周文斌讲话", "省长周启明"], tagged) == "周启明"


def test_a_speech_asked_by_surname_and_post_is_the_named_persons(news_index):
    router = Router(news_index)
    intent = router.understand("周省长在今年的数博会开幕式上讲了哪些内容？")
    assert intent.kind == "speech" and "周启明" in intent.question
    answer = router.answer(intent)
    assert "人工智能+" in answer.answer and "3.6亿元" in answer.answer
    assert router.understand("江川省长是谁").question == "江川省长是谁"  # 江川 is one word
    assert router.understand("这周省长去了哪里").question == "这周省长去了哪里"
