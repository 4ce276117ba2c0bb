"""Pure: the two sides of a comparison ("A和B分别…", "A与B有什么不同", "2020年和2021年…"),
each a sub-question of its own, and the measures asked of each ("参展企业和签约金额")."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Phrasings that both mark a comparison and are dropped from its sides.
_COMPARING = (
    r"有什么不同|有何不同|有什么区别|有何区别|区别是什么|不同之处|有什么不一样|不一样|相比|对比|比较一下|比较|"
    r"比一比|比比|更好|更多|多了多少|少了多少|多多少|少多少|增加了多少|有什么变化|有哪些变化"
)
_COMPARE_CUE = re.compile(
    r"分别|各自|各[建有是占达花用]|异同|哪个(?:更)?[高低多少大小快慢强长短早晚好]|哪届|哪一个|哪家|"
    rf"谁(?:更)?[^，,。？?、]{{0,4}}?[高低多少大小快慢强好](?:[、，,]|$)|差多少|相差|比[，,]|{_COMPARING}"
)
# Two years side by side ("2020年和2021年有没有完成…") ask the question of each year.
_YEARS_JOINED = re.compile(r"\d{4}\s*年\s*(?:和|与|跟|及)\s*\d{4}\s*年")
_YEAR_PAIR_CUE = re.compile(r"有没有|是否|是不是|怎么样|如何|多少|几|吗")


def compare_sides(question: str) -> tuple[str, str] | None:
    """The two sub-questions of "A和B分别…" / "A与B有什么不同", or None when it compares nothing.

    What the sides share (a year before them, a person before "在…", the attribute after
    them) goes into both sub-questions; the comparative phrasing is dropped.
    """
    parts = _parts(question)
    return (f"{parts[0]}{parts[1]}{parts[3]}", f"{parts[0]}{parts[2]}{parts[3]}") if parts else None


@dataclass(frozen=True)
class SidePair:
    """The sub-questions of a comparison's two sides, and what both ask for (the measure:
    "签约情况", "的数字经济"; empty when the sides are all there is)."""

    left: str
    right: str
    measure: str = ""


def measure_sides(question: str) -> list[SidePair]:
    """The sub-questions of both sides once per measure they share ("第三届和第七届数博会相比，
    参展企业和签约金额差了多少": 参展企业, then 签约金额); one pair when one thing is asked."""
    parts = _parts(question)
    if not parts:
        return []
    shared, left, right, tail = parts
    asked = _ASKED_END.search(tail)
    ask = asked.group(0) if asked else ""
    owner = "的" if tail.startswith("的") else ""
    items = [item for item in _MEASURE_SEPARATOR.split(tail[len(owner) : len(tail) - len(ask)]) if item]
    if not _measure_list(items):
        items, owner, ask = [tail], "", ""
    return [
        SidePair(f"{shared}{left}{owner}{item}{ask}", f"{shared}{right}{owner}{item}{ask}", item)
        for item in items
    ]


def _parts(question: str) -> tuple[str, str, str, str] | None:
    """(shared, left, right, tail) of a comparison: see `compare_sides`."""
    years_joined = bool(_YEARS_JOINED.search(question))
    for connector in _CONNECTOR.finditer(question):
        left_text, after = question[: connector.start()], question[connector.end() :]
        # "苗圩对中国和东盟…提了几条倡议？分别是什么": a next question's 分别 goes over the items
        # asked for; "…吗？两人说法有什么区别" still compares the two.
        clause, *later = re.split(r"[？?。！!]", after, maxsplit=1)
        clause = clause if later and _EACH_OF_THOSE.match(later[0].lstrip()) else after
        years = years_joined and _YEAR_PAIR_CUE.search(clause)
        if not left_text or not (_COMPARE_CUE.search(clause) or years):
            continue
        boundary = _RIGHT_END.search(after, 1)
        # "重庆的陈敏尔和北京的蔡奇": a side written "X的Y" on the left is so on the right too.
        owned = "的" in re.split(r"[，,。？?]", left_text)[-1]
        # "苗圩2020年的发言和许科敏2022年的讲话": a left side ending "的" + a noun ends so on the right too
        owner_last = bool(re.search(r"的[\u4e00-\u9fff]{1,4}$", left_text))
        if owned and boundary and boundary.group(0) == "的" and (boundary.start() <= 4 or owner_last):
            boundary = _RIGHT_END.search(after, boundary.end()) or boundary
        if years_joined and (year_end := re.match(r"\s*\d{4}\s*年", after)):
            right, tail = after[: year_end.end()], after[year_end.end() :]
        elif boundary:
            right, tail = after[: boundary.start()], after[boundary.start() :]
        else:
            right, tail = after, ""
        right = _BOTH.sub("", right)  # "临海和云岭两市的…"
        year = re.search(r"\d{4}\s*年(?:底|末)?$", right)
        if year and year.start() > 0 and not re.search(r"\d{4}\s*年", left_text):  # "云岭储能2022年…": shared
            right, tail = right[: year.start()], right[year.start() :] + tail
        shared, left = "", left_text
        own_year = re.search(r"\d{4}\s*年$", left_text)
        if own_year and own_year.start() > 0 and re.fullmatch(r"\d{4}\s*年", right):
            shared, left = left_text[: own_year.start()], own_year.group(0)  # "星驰汽车2021年和2022年"
        elif lead := re.match(r"(?:在|对|出席|参加)", right):
            cut = left_text.rfind(lead.group(0))
            if cut > 0:
                shared, left = left_text[:cut], left_text[cut:]
        elif _OCCASION_END.search(right) and (cut := left_text.rfind("在")) > 0:
            # "肖亚庆在G20数字部长会和重庆智博会上": both occasions are his
            shared, left, right = left_text[:cut], left_text[cut:], "在" + right
        elif re.fullmatch(r"\d{4}\s*年", right) and (year := re.match(r"\d{4}\s*年", left_text)):
            right += left_text[year.end() :]  # "2020年数博会跟2022年比": the 2022 数博会
        elif (period := re.match(r"\d{4}\s*年(?:底|末|初)?", left_text)) and period.end() < len(left_text):
            shared, left = period.group(0), left_text[period.end() :]
        elif scope := _SCOPE.match(left_text):  # "白皮书里临海和云岭…", "按白皮书的数据，临海和…"
            shared, left = scope.group(1), scope.group(2)
        if len(right) > len(left) and left.endswith(("届", "期", "号", "代")) and right[:1] == left[:1]:
            left += right[len(left) :]  # "第三届" beside "第七届数博会" is "第三届数博会"
        if not right.strip() or not left.strip():
            return None
        return shared, left, right, _asked_of_each(tail, after)
    return None


def _asked_of_each(tail: str, after: str) -> str:
    """What both sides are asked, without the comparative phrasing (`after`: the question from
    the right side on)."""
    tail = _COMPARE_WORDS.sub("", tail)
    tail = re.sub(r"^(?:[，,、\s]|比(?:起来)?)+|[？?。！!，,\s]+$", "", tail)
    if _COMPARE_CUE.search(after):  # "哪届签约项目多" asks about 签约项目
        tail = re.sub(r"(?<!多)更?[多少高低大小好快慢](?=[、，,]|$)", "", tail)
        tail = re.sub(r"[，,\s]+$", "", tail)
    tail = re.sub(r"^各", "", tail)
    if _QUANTITATIVE.search(after):
        tail = re.sub(r"(?:怎么样|如何|怎样)$", "", tail)
    figure = _QUANTITATIVE.search(after) and not re.search(r"不一样|不同|区别|异同", after)
    if figure and not re.search(r"多少|几|哪|什么|谁|怎么|如何", tail):
        tail += "是多少"  # "哪个高", "差多少": each side is asked for its figure
    return tail


_CONNECTOR = re.compile(r"和|与|跟|同|及")
# What the left side is said within, before a short name: "白皮书里" 临海, "按白皮书的数据，" 临海.
_SCOPE = re.compile(r"(.*(?:[，,]|[^\d]里|[^\d]中))([^，,里中]{2,6})$")
_EACH_OF_THOSE = re.compile(r"分别|各自|各是|都是")
_OCCASION_END = re.compile(r"(?:会|会议|论坛|峰会|大会|博会|典礼|仪式)上?$")
_BOTH = re.compile(r"(?:两|二)(?:市|地|省|县|区|国|家|届|年|者|人|位)$|双方$")
_QUANTITATIVE = re.compile(
    r"差多少|相差|多了|少了|多多少|少多少|增加了|哪个(?:更)?[高低多少大小快慢]|哪届.*[多少高]|"
    r"谁(?:更)?[^，,。？?、]{0,4}?[高低多少大快慢]|相比"
)
_RIGHT_END = re.compile(r"的|，|,|在|对|谈|搞|各|分别|都|比|哪个|哪届|谁|" + _COMPARE_CUE.pattern)
_COMPARE_WORDS = re.compile(
    r"分别|各自|各(?=是|有|为|占)|有什么异同|有何异同|的?异同|哪个(?:更)?|哪届|哪一个|哪家|谁(?:更)?|"
    rf"相差了?多少|差了?多少|相差|{_COMPARING}"
)
_ASKED_END = re.compile(r"(?:是|有|为|在)?(?:多少|几[个家项次]?|什么|怎么样|怎样|如何|谁|哪里|哪儿)$")
_MEASURE_SEPARATOR = re.compile(r"、|和|及|以及")
# Not a measure: a clause ("提出了什么目标", "利润增长了") or punctuation.
_NOT_A_MEASURE = re.compile(r"[，,。？?；;了在是得哪谁么吗呢]|提出|增长|下降|达到")


def _measure_list(items: list[str]) -> bool:
    """Whether these are measures named alike ("参展企业"/"签约金额", "基站数"/"用户数"), not a
    modifier of a longer one ("科技"/"教育投入": 科技投入 and 教育投入) or clauses."""
    return (
        2 <= len(items) <= 4
        and all(2 <= len(item) <= 8 and not _NOT_A_MEASURE.search(item) for item in items)
        and not (len(items[0]) == 2 and len(items[-1]) >= 4)
    )
