"""Pure: the period a question names ("2021年", "去年", "近三年", "2019到2022年") and whether it
is when articles were published ("2021年有哪些报道") or what their text describes ("2022年的产量")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.ingest.dates import FIRST_YEAR, YEAR_RANGE, question_date_range
from rag.search.query import SearchFilters

DOC = r"(?:文章|报道|新闻|稿子|稿件|消息|资讯)"
_PUBLISHED = re.compile(
    rf"(?:发布|发表|刊发|刊登|发了|发过|登过|报道了)|(?:有|的)(?:哪些|什么|几篇|多少篇)(?:相关的?)?{DOC}|{DOC}|"
    r"(?:那|这|该)一?篇"
)
# "2022年的产量" is reported in the first months of 2023: passages published up to half a year
# after a period the text describes count as from it.
CONTENT_SLACK_DAYS = 183
# One line a year over a period: "近三年的数博会分别签约了多少金额", "按年份列一下".
SERIES = re.compile(r"分别|各年|每年|每一年|按年份|按年度|逐年|历年|各是")


@dataclass(frozen=True)
class Period:
    """A date range a question names, and whether it is about publication or content."""

    start: date
    end: date
    label: str  # as the question says it ("2021年", "去年")
    published: bool  # "2021年有哪些报道" (publication) vs "2022年的产量" (what the text describes)

    def explicit(self, question: str) -> str:
        """The question with a relative year said as the year it is ("星驰去年卖了多少辆" ->
        "星驰2022年…"): an article's "截至去年底" is its own 去年, not the reader's."""
        whole_year = (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31)
        if self.label in _RELATIVE_YEARS and whole_year and self.start.year == self.end.year:
            return question.replace(self.label, f"{self.start.year}年", 1)
        return question

    @property
    def over_years(self) -> bool:
        """Whether the period spans several whole years with a start ("近三年", "2019到2022年"):
        a question can ask one figure a year of it (`SERIES`)."""
        return FIRST_YEAR < self.start.year < self.end.year

    @property
    def slack_days(self) -> int:
        """Days after the period that still count as from it: none for a publication period."""
        return 0 if self.published else CONTENT_SLACK_DAYS

    def holds(self, day: date | None) -> bool:
        """Whether a (publication) day falls within the period; an undated one does not."""
        return day is not None and self.start <= day <= self.end

    def search_filters(self) -> SearchFilters:
        """The articles of the period, with its slack ("2019到2022年的产量": up to mid-2023)."""
        slack = timedelta(days=self.slack_days)
        return SearchFilters(self.start, self.end + slack if self.end < date.max - slack else None)


_RELATIVE_YEARS = frozenset({"去年", "今年", "前年"})


def question_period(question: str, newest: date | None) -> Period | None:
    """The period a question names, with its sense (publication or content)."""
    named = question_date_range(question, newest)
    if named is None:
        return None
    label = re.search(
        rf"{YEAR_RANGE.pattern}|(?:截至|截止|到)?(?:\d{{4}}\s*年(?:\s*\d{{1,2}}\s*月)?(?:\s*\d{{1,2}}\s*[日号])?|去年|今年|前年)"
        r"(?:上半年|下半年|底|末|以前|之前|以来|至今|之后|以后)?|(?:近|最近|过去)[一二两三四五六七八九十\d几半]+个?(?:年|月|周|星期|天)|"
        r"最近|近期|上个?月|本月",
        question,
    )
    published = bool(_PUBLISHED.search(question))
    return Period(named[0], named[1], label.group(0) if label else "", published)
