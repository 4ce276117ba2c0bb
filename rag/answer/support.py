"""Pure: what a passage must hold to answer a question, beyond sharing its words.

A neighbouring article's sentence may hold the question's words but not its name: "上海" is
not "北京", "2030年" is not "2025年", 第二届 is not 第三届. People and numbers must be in the
passage itself; an organisation or place is what the article is about, named in its lead or
title and not in every paragraph ("新加坡在智博会上推出了什么展陈"), so its article will do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.qtype import asked_roles, holds_whole, named_editions, ordinal_events
from rag.index.tokens import ChineseTokenizer, normalise_text

# The sort of thing asked for ("哪个城市", "什么机构") is not a name the passage must hold.
_ASKED_SORT = re.compile(
    r"(?:哪一?[个座家所]?|什么)(?:城市|国家|省份|地方|地区|机构|单位|部门|企业|公司|组织)"
)

# A local government's organs, which its own papers name without the place.
_LOCAL_ORGAN = re.compile(r"[市省区县]?(?:委|政府|人大|政协)$")


def term_in_text(term: str, text: str) -> bool:
    """Whether a name or number of the question occurs in the text.

    jieba sometimes glues a neighbouring character onto a name ("后康忠", "锦地罗不"), so a
    term of three or more characters also counts when it occurs without its first or last one.
    """
    if term in text:
        return True
    if _local_organ_in(term, text):
        return True
    return len(term) >= 3 and not term.isdigit() and (term[1:] in text or term[:-1] in text)


def _local_organ_in(term: str, text: str) -> bool:
    """Whether "北京市委" is in a Beijing paper, which says "市委": the organ and its place, each
    somewhere in the text."""
    organ = _LOCAL_ORGAN.search(term)
    if organ is None or organ.start() < 2:
        return False
    return organ.group(0) in text and term[: organ.start()].rstrip("市省") in text


def published_in(term: str, published: str, question: str) -> bool:
    """Whether a year of the question ("2019年的数博会") is the passage's publication year: the
    report of an event seldom writes its own year ("9月5日，第三届数博会开幕"). A whole year's
    figure ("2023年全年", "年度", "年底") is reported after the year: there the text must say it."""
    if not (len(term) == 4 and term.isdigit() and published.startswith(term)):
        return False
    return not re.search(rf"{term}\s*年(?:全年|年度|底|末|一整年)", question)


def reported_after(term: str, published: str, article: str) -> bool:
    """Whether a year of the question ("2020年临海的…增加值") is the one an article published in
    the first half of the next year reports on, and says so somewhere ("白皮书显示，2020年…")."""
    if not (len(term) == 4 and term.isdigit() and published[:4] == str(int(term) + 1)):
        return False
    return published[5:7] <= "06" and f"{term}年" in article


@dataclass(frozen=True)
class SupportTerms:
    """The question's names and numbers a passage must hold: `in_passage` (people, numbers,
    "第一次" which may be 首次) loosely in the passage, `in_article` (organisations, places)
    anywhere in its article, whole or without a glued last character (北京市 is not 南京市),
    `whole` (an edition: 第二届 is not "第二，"; a who-question's post: 主任) as written in
    the passage."""

    question: str
    in_passage: list[str]
    in_article: list[str]
    whole: list[str]

    def held_by(self, passage: str, article: str, published: str) -> bool:
        """Whether a passage (with its title, normalised) of this article supports an answer."""
        return (
            all(
                term_in_text(t, passage)
                or published_in(t, published, self.question)
                or reported_after(t, published, article)
                for t in self.in_passage
            )
            and all(
                t in article or (len(t) >= 3 and t[:-1] in article) or _local_organ_in(t, article)
                for t in self.in_article
            )
            and all(holds_whole(t, passage) for t in self.whole)
        )


def support_terms(question: str, tokenizer: ChineseTokenizer) -> SupportTerms:
    """The `SupportTerms` of a question."""
    editions = named_editions(question)
    names = tokenizer.key_terms(_ASKED_SORT.sub("，", question))
    people = tokenizer.people(question)
    in_article = [t for t in names if t not in people and not any(ch.isdigit() for ch in t)]
    loose = [t for t in names + ordinal_events(question) if t not in in_article and t not in editions]
    return SupportTerms(question, loose, in_article, editions + asked_roles(question))


# Characters whose swap names another thing, not the same in other words: 一等座 is not 二等座,
# 闭幕式 is not 开幕式, 进口 is not 出口 (首度 and 首次 are one thing: 度/次 are no such pair).
_CONTRASTS = ("一二三四五六七八九十两", "开闭", "上下", "前后", "东西南北", "进出", "增减", "男女", "正副",
              "买卖", "早晚", "高低", "大小", "长短", "新旧", "内外")  # fmt: skip


def contrast_pattern(question: str, unseen: list[str]) -> re.Pattern[str] | None:
    """Where a text names the counterpart of a question word the corpus never holds ("一等座" ->
    二等座): a sentence about it answers a question about something else. Two-character words
    are taken with the character after them in the question ("一等" + "座")."""
    question = normalise_text(question)
    alternatives = []
    for word in unseen:
        at = question.find(word)
        if at < 0 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
            continue
        context = question[at : at + len(word) + (len(word) == 2)]
        if len(context) < 3:
            continue
        for i, ch in enumerate(word):
            partners = next((group.replace(ch, "") for group in _CONTRASTS if ch in group), "")
            if partners:
                alternatives.append(f"{re.escape(context[:i])}[{partners}]{re.escape(context[i + 1 :])}")
    return re.compile("|".join(alternatives)) if alternatives else None
