"""Questions about an article's record after a conversation cited it: "那篇文章是哪天发的",
"标题是什么", "谁写的", "来源", and "分别是什么时候发布的" after a list of articles. Answered
from the article table, not from passages."""

from __future__ import annotations

import re

from rag.answer.answers import Answer
from rag.answer.compose import Evidence, Line, compose
from rag.answer.kinds.context import Context
from rag.ingest.dates import written_date

# "那篇报道", "这篇", "该文": the article cited before.
REFERENCE = re.compile(
    r"(?:那|这|该|此|上)(?:一)?(?:篇|条|次|份)?(?:文章|报道|新闻|稿子|消息)|那篇|这篇|该文|原文"
)
METADATA = {
    "date": re.compile(r"哪天|哪一天|什么时候|何时|几号|日期|哪年|哪个月"),
    "title": re.compile(r"标题|题目|叫什么"),
    "author": re.compile(r"谁写|作者|记者是谁|哪位记者|署名"),
    "source": re.compile(r"来源|哪家媒体|出处|哪个网站|发在哪"),
}
# "分别是什么时候发布的", "它们各自的标题": each article the previous answer listed.
_EACH_OF_THEM = re.compile(r"^(?:它们|这些|那些|这几篇|那几篇)?(?:文章|报道|新闻)?(?:的)?(?:分别|各自|各)")
# Reporters named in a dateline or byline: "（记者 刘畅 杨柳）", "澎湃新闻记者 周頔" (not "记者 X 摄").
_DATELINE_REPORTERS = re.compile(r"[（(]记者[\s\u3000]*([^）)]{2,30})[）)]")
_BYLINE_REPORTER = re.compile(r"^\S{0,12}记者[\s\u3000]+([\u4e00-\u9fff]{2,4})\s*$", re.M)


def _reporters_of(text: str) -> list[str]:
    """The reporters an article's opening names."""
    names = [
        n for group in _DATELINE_REPORTERS.findall(text) for n in re.split(r"[\s\u3000、，,]+", group) if n
    ]
    return names + _BYLINE_REPORTER.findall(text)


_METADATA_WORDS = {"date": "的发布日期", "title": "的标题", "author": "的作者", "source": "的来源"}


def metadata_answer(context: Context, question: str, cited: list[str]) -> Answer | None:
    """The asked record fields of the article cited before (of each, after a list), or None
    when the question asks no record field of a cited article."""
    each = len(cited) > 1 and bool(_EACH_OF_THEM.match(question.strip()))
    if not cited or not (each or REFERENCE.search(question)):
        return None
    asked = [name for name, pattern in METADATA.items() if pattern.search(question)]
    if not asked:
        return None
    article_ids = cited if each else cited[:1]
    lead = "" if each else "该文"
    lines = [_metadata_line(context, article_id, asked, lead) for article_id in article_ids]
    answer = compose(question, lines, context.texts(article_ids))
    answer.kind = "corpus"
    titles = "、".join(f"《{context.record(a).title}》" for a in article_ids)
    answer.standalone_question = f"{titles}{'、'.join(_METADATA_WORDS[n] for n in asked)}"
    return answer


def _metadata_line(context: Context, article_id: str, asked: list[str], lead: str) -> Line:
    """One article's asked record fields as a line, citing its headline."""
    record = context.record(article_id)
    row = context.index.article(article_id)
    text = context.text(article_id)
    reporters = "、".join(dict.fromkeys(_reporters_of(text[:400])))
    writer = f"记者{reporters}" if reporters else row.author
    facts = {
        "date": f"发布于{written_date(record.date)}" if record.date else "没有标明发布日期",
        "title": f"标题是《{record.title}》",
        "author": f"署名为{writer}" if writer else "没有署名",
        "source": f"来源为{row.author}" if row.author else "没有标明来源",
    }
    headline = Evidence(record, 0, len(text) if (first := text.find("\n")) < 0 else first)
    return Line(f"{lead}《{record.title}》{'，'.join(facts[name] for name in asked)}。", [headline])
