"""The app's pure parts: suggested questions and conversation export."""

import json

from rag.search.catalog import ArticleRecord
from rag.ui.export import conversation_json, conversation_markdown
from rag.ui.suggest import suggested_questions

ARTICLES = [
    ArticleRecord("a", "肖亚庆出席数字部长会议", "2021-08-05", ""),
    ArticleRecord("b", "智博会开幕", "2021-08-24", ""),
    ArticleRecord("c", "许科敏：鼓励对外服务", "2022-07-24", ""),
    ArticleRecord("d", "无日期的文章", "", ""),
]


def people(title: str) -> list[str]:
    return [name for name in ("肖亚庆", "许科敏") if name in title]


def test_suggestions_start_general_then_follow_the_newest_articles():
    assert suggested_questions(ARTICLES, people, 5) == [
        "语料里有哪些文章？", "最近有哪些报道？", "许科敏说了什么？",
        "《智博会开幕》主要讲了什么？", "肖亚庆说了什么？",
    ]  # fmt: skip
    assert len(suggested_questions(ARTICLES, people, 2)) == 2
    assert suggested_questions([], people) == []


MESSAGES = [
    {"role": "user", "content": "2021智博会有多少家企业参展？"},
    {
        "role": "assistant",
        "answer": {
            "question": "2021智博会有多少家企业参展？", "answer": "610余家企业参展。[1]", "answerable": True,
            "citations": [{"n": 1, "title": "智博会开幕", "date": "2021-08-24",
                           "text": "共有610余家企业参展，规模空前。", "spans": [[2, 11]]}],
        },
    },
]  # fmt: skip


def test_markdown_export_has_questions_answers_and_quoted_sources():
    text = conversation_markdown(MESSAGES)
    assert "## 问：2021智博会有多少家企业参展？" in text and "610余家企业参展。[1]" in text
    assert "1. 《智博会开幕》（2021-08-24）" in text and "> 610余家企业参展" in text


def test_json_export_pairs_each_question_with_its_answer():
    turns = json.loads(conversation_json(MESSAGES))["turns"]
    assert turns[0]["question"] == "2021智博会有多少家企业参展？" and turns[0]["citations"][0]["n"] == 1
