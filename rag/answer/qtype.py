"""Pure question analysis: what kind of answer a Chinese question asks for, and spans that carry it."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from rag.answer.places import ANY_PLACE, PLACE_NOUNS, PlaceKind, place_kind

NUMBER, DATE, PERSON, PLACE, OTHER = "number", "date", "person", "place", "other"
NAMED_PLACE = "named place"  # a where-question naming the kind of place: 哪个城市, 哪个场馆
# The answer types a sentence must hold to answer at all: a how-many question is not answered
# without a number, nor "意大利哪个城市" without a city.
REQUIRED_TYPES = (NUMBER, NAMED_PLACE)

_QUESTION_PATTERNS = (
    (DATE, re.compile(r"哪一?天|何时|什么时候|几月几[日号]|哪一?年|哪个月|什么日子|日期是|几号")),
    (NUMBER, re.compile(r"多少|几[个家条场点天年次位种项名所]?|多大|多高|多长|多久|比重|比例|百分之")),
    (PERSON, re.compile(r"谁|哪位|哪些人|什么人|叫什么名字|哪名")),
    (PLACE, re.compile(r"哪里|哪儿|在哪|何地|什么地方|何处|哪国|哪[个座一家]?" + PLACE_NOUNS)),
)
_CN_DIGITS = "零〇○一二两三四五六七八九十百千万亿"
_NUMBER_SPAN = re.compile(
    rf"[\d{_CN_DIGITS}][\d{_CN_DIGITS}.,，%％]*\s*(余|多)?\s*[%％个家条场点天年次位种项名所亿万千百元美倍米分钟小时]?"
)
# "5亿日元" is yen, not a day; "15日元宵节" is a day.
_DATE_SPAN = re.compile(
    rf"(\d{{4}}|[{_CN_DIGITS}]{{4}})\s*年|[\d{_CN_DIGITS}]{{1,3}}\s*月\s*[\d{_CN_DIGITS}]{{1,3}}\s*[日号]|"
    rf"[\d{_CN_DIGITS}]{{1,3}}\s*[日号](?![元圆](?![宵旦]))(上午|下午|晚)?|\d{{4}}-\d{{1,2}}-\d{{1,2}}"
)
# Numerals that are names, not amounts: "二十国集团" (G20), "七国集团", "5G", "十四五" (a five-year plan).
_NAMED_NUMERAL = re.compile(
    rf"[{_CN_DIGITS}]+国集团|(?<![\d.A-Za-z])[2-6][Gg](?![\dA-Za-z])|[“\"]?十[一二三四五六七八九]五[”\"]?(?:规划|时期|期间)?"
)
_PERSON_CUE = re.compile(
    r"(部长|主席|总理|书记|院长|秘书长|市长|主任|记者|总经济师|副总理|委员|教授|先生|女士|"
    r"董事长|总经理|总裁|厅长|局长|省长|县长|区长|校长|行长|会长|社长|处长|司长|大使|"
    r"设计师|工程师|创始人|发言人)"
)


# What a how-many question counts: the noun after its measure word ("多少个项目" -> 项目), or
# money for an amount ("总金额是多少", "营收多少"), which a figure in 元 answers.
_COUNTED = re.compile(r"(?:多少|几)[个家条场点次位种项名所辆台座套件批]?([\u4e00-\u9fff]{2})")
_MONEY_ASKED = re.compile(r"金额|多少钱|营收|收入|投资额|利润|产值|票价|补贴")
MONEY = re.compile(
    r"[\d一二三四五六七八九十百千万亿]\s*(?:多|余)?\s*(?:万亿|亿|万|千)?\s*(?:[美港欧日]?元|块)"
)


def answers_measure(question: str, text: str) -> bool:
    """Whether `text` speaks of what a how-many question counts: its counted noun, or money."""
    if _MONEY_ASKED.search(question):
        return bool(MONEY.search(text))
    counted = _COUNTED.search(question)
    return counted is None or counted.group(1) in text


# A how-long question ("为期几天", "要多久") is answered by a span of time, not by any number.
_DURATION_ASKED = re.compile(
    r"(?<![这近前过去])(?:几|多少)个?(?:天(?!然|津|气)|年(?![级轻薪龄度代纪初底末内])|小时|钟头|分钟|星期|个月)"
    r"(?![后前内里间]|以来)|(?<![这近前过去])几周|多久|多长时间|多少时间"
)
_DURATION = re.compile(
    rf"(?<![\d{_CN_DIGITS}])([\d{_CN_DIGITS}][\d{_CN_DIGITS},.]*|半|数|几)\s*(?:多|余)?\s*"
    r"(?:天|年|个多?半?月|小时|个多?小时|钟头|分钟|周|星期|秒|世纪|昼夜)"
    r"|\d+\s*[-~－—至到]\s*\d+\s*月"  # "花期1-3月"
)


def asks_duration(question: str) -> bool:
    """Whether the question asks how long ("为期几天", "要多久"; not "几天后", "这几年")."""
    return bool(_DURATION_ASKED.search(question))


def holds_span(text: str) -> bool:
    """Whether `text` holds a span of time ("3天", "两个月", "48分钟"; "2021年" is a year, "9月" a
    month, "第3天" a day)."""
    return any(
        not (m.group(1) and _YEAR_NUMBER.fullmatch(m.group(1)) and m.group(0).endswith("年"))
        and text[max(0, m.start() - 1) : m.start()] != "第"  # "开幕第3天" is a day, not a span
        for m in _DURATION.finditer(text)
    )


_YEAR_NUMBER = re.compile(r"(?:19|20)\d\d")  # "2021年" is a year; "生存了1000年" a span

# "以什么方式举行的", "用什么形式开的", "怎么参加的", "出席智博会的方式": answered by how it was
# held or attended; a manner of anything else ("以什么方式繁殖", "如何举办好") is not asked here.
_HOLDING = r"(?:举行|召开|举办|出席|参加|参会|进行|开|办)"
_MANNER_ASKED = re.compile(
    rf"(?:什么|哪种|何种|怎样的?)(?:方式|形式)[^，。？?]{{0,4}}?{_HOLDING}"
    rf"|(?:怎么|如何){_HOLDING}[的了]|{_HOLDING}[^，。？?]{{0,12}}?的(?:方式|形式)"
)
_MANNER = re.compile(r"方式|形式|视频|线上|线下|现场|网络|书面|远程|连线|云端|直播|在线")


def asks_manner(question: str) -> bool:
    """Whether the question asks how something was held or attended ("以什么方式举行的")."""
    return bool(_MANNER_ASKED.search(question))


# A how-much question counting in a measure word of its own ("多少辆", "多少场活动") is answered
# by a figure in it ("23.1万辆", "72场"), not by another figure of the passage ("第22次",
# "20万元"). "几家骑士团" may be answered by naming them, so 几 is not held to it.
_MEASURE_ASKED = re.compile(r"多少(辆|台|座|套|件|批|家|场|位|名|所|架|艘|篇|款)")


def _counted_in(measure: str) -> re.Pattern[str]:
    return re.compile(rf"[\d{_CN_DIGITS}][\d{_CN_DIGITS}.,]*\s*(?:多|余)?\s*(?:万|亿)?\s*{measure}")


def shape_check(question: str) -> Callable[[str], bool] | None:
    """What an answer sentence must hold besides the asked type, if anything: a span of time
    for how-long questions (`holds_span`), a manner for how-held ones ("以视频方式", "现场"), a
    figure in the measure word a how-much question counts in."""
    if asks_duration(question):
        return holds_span
    if asks_manner(question):
        return lambda text: bool(_MANNER.search(text))
    if measure := _MEASURE_ASKED.search(question):
        counted = _counted_in(measure.group(1))
        return lambda text: bool(counted.search(text))
    return None


_ORDINAL_EVENT = re.compile(r"第[一二三四五六七八九十\d]+[届次期]")


def named_editions(question: str) -> list[str]:
    """The editions a question names ("第二届"): each must be found as written, in either numeral,
    since "第二支柱" is no "第二届"; other ordinals match loosely (第二期 / 二期)."""
    return [event for event in ordinal_events(question) if event.endswith("届")]


def holds_whole(term: str, text: str) -> bool:
    """Whether `text` holds `term` as written; an edition in either numeral, or as 首届 for the first."""
    return any(form in text for form in edition_forms(term))


_ASKED_POST = re.compile(
    rf"{_PERSON_CUE.pattern}(?:是谁|叫什么|是哪位|由谁担任)|谁(?:是|担任|出任)[^，,。？?]{{0,12}}?{_PERSON_CUE.pattern}"
)


def asked_roles(question: str) -> list[str]:
    """The post a who-question asks about ("创新中心的主任是谁" -> 主任): a passage naming nobody
    in that post cannot answer it. A post that describes someone the question names
    ("和市长唐良智一起参观的有谁") is not asked about."""
    return [next(g for g in m.groups() if g) for m in _ASKED_POST.finditer(question)]


_DIGITS = "零一二三四五六七八九"
_EDITION = re.compile(r"第(\d{1,2}|[一二三四五六七八九十]{1,3})(届|次|期)")


def _chinese(number: int) -> str:
    tens, ones = divmod(number, 10)
    return (_DIGITS[tens] if tens > 1 else "") + ("十" if tens else "") + (_DIGITS[ones] if ones else "")


def _number(chinese: str) -> int | None:
    tens, _, ones = chinese.rpartition("十")
    if "十" not in chinese:
        tens, ones = "", chinese
    try:
        return (10 * (_DIGITS.index(tens) if tens else 1) if "十" in chinese else 0) + (
            _DIGITS.index(ones) if ones else 0
        )
    except ValueError:
        return None


def edition_forms(edition: str) -> tuple[str, ...]:
    """An edition as news writes it either way: "第3届" and "第三届", "第12届" and "第十二届"."""
    match = _EDITION.fullmatch(edition)
    if not match:
        return (edition,)
    count, unit = match.groups()
    number = int(count) if count.isdigit() else _number(count)
    if not number:
        return (edition,)
    first = (f"首{unit}",) if number == 1 else ()  # 首届, 首次
    return tuple(dict.fromkeys((edition, f"第{number}{unit}", f"第{_chinese(number)}{unit}", *first)))


def written_editions(question: str) -> str:
    """Editions in the Chinese numerals news uses ("第6届" -> "第六届")."""
    return _EDITION.sub(lambda m: f"第{_chinese(int(m.group(1)))}{m.group(2)}" if m.group(1).isdigit()
                        and int(m.group(1)) else m.group(0), question)  # fmt: skip


def ordinal_events(question: str) -> list[str]:
    """Numbered events a question names ("第六届"): a passage about another edition is no answer."""
    return _ORDINAL_EVENT.findall(question)


# Spoken forms readers type, in the written forms the cues below are written in.
_COLLOQUIAL = (("啥", "什么"), ("咋样", "怎么样"), ("咋", "怎么"), ("讲的什么", "讲的是什么"),
               ("说的什么", "说的是什么"), ("写的什么", "写的是什么"), ("头一回", "首次"), ("头一次", "首次"),
               ("多不多", "有多少"), ("那阵子", "期间"), ("那会儿", "期间"),
               ("那段时间", "期间"), ("卖了", "销售"), ("卖出", "销售"))  # fmt: skip


# A year said with two digits where a year starts the question or a clause ("21年重庆智博会…",
# "在19年"): 2021, 2019. "过去21年", "21年来" count years.
_SHORT_YEAR = re.compile(
    r"(?:^|(?<=[，,在于是])|(?<=截至)|(?<=截止))([012]\d)(?=年(?!来|间|多|以来|前|后|之))"
)


def written_form(question: str) -> str:
    """The question with spoken forms in written ones ("讲的啥" -> "讲的是什么", "21年" -> "2021年")."""
    for spoken, written in _COLLOQUIAL:
        question = question.replace(spoken, written)
    question = _SHORT_YEAR.sub(lambda m: "20" + m.group(1), question)
    return written_editions(question)


def question_type(question: str) -> str:
    """The answer type a question asks for: number, date, person, place (a named kind of
    place: `NAMED_PLACE`) or other."""
    for kind, pattern in _QUESTION_PATTERNS:
        if pattern.search(question):
            return NAMED_PLACE if kind == PLACE and place_kind(question) is not ANY_PLACE else kind
    return OTHER


def carries_type(
    text: str, kind: str, pos_flags: AbstractSet[str] = frozenset(), places: PlaceKind = ANY_PLACE
) -> bool:
    """Whether `text` holds something of the asked-for type (a number, a date, a name...).

    Args:
        pos_flags: jieba part-of-speech flags of the text's words (`nr` person, `ns` place,
            `nt` organisation), when the caller has them; cue words are used either way.
        places: the place names that count (`place_kind` of the question).
    """
    if kind == NUMBER:  # a date ("9月5日", "2021年") or a name ("二十国集团") is not the amount asked for
        return bool(_NUMBER_SPAN.search(_NAMED_NUMERAL.sub(" ", _DATE_SPAN.sub(" ", text))))
    if kind == DATE:
        return bool(_DATE_SPAN.search(text))
    if kind in (PLACE, NAMED_PLACE):  # "二十国集团" is no country
        return bool(places.names.search(_NAMED_NUMERAL.sub(" ", text))) or "ns" in pos_flags
    if kind == PERSON:
        return bool(_PERSON_CUE.search(text)) or "·" in text or "nr" in pos_flags
    return True
