"""Pure date parsing: article dates in the forms corpora use, and periods named in questions.

Article dates come as RFC 2822 (`Thu, 05 Aug 2021 14:49:40 GMT`), ISO or `2021/08/03`-style
strings, Chinese dates (`2021年8月3日`) or epoch seconds; question periods as "2021年8月",
"2020年" or "去年".
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import tzinfo as dt_tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

_SMALL_NUMBERS = dict(zip("一二三四五六七八九十", range(1, 11), strict=True)) | {"两": 2}


def small_number(token: str) -> int | None:
    """A count written in digits or as one Chinese numeral up to 十 ("三" -> 3, "12" -> 12)."""
    return int(token) if token.isdigit() else _SMALL_NUMBERS.get(token)


DISPLAY_TZ = ZoneInfo("Asia/Shanghai")
# Dates outside these years are typing errors or placeholders (0000, 9999), never news.
FIRST_YEAR, LAST_YEAR = 1900, 2199
_NUMERIC = re.compile(
    r"(\d{4})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?)"
    r"(?:[ T日]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?",
    re.I,
)
_EPOCH_DIGITS = re.compile(r"\d{9,10}(\.\d+)?|\d{12,13}")


def parse_article_date(value: object) -> datetime:
    """An article's publication date from a front matter value.

    Raises:
        ValueError: not a date in a known form, a day that does not exist (2021-02-30),
            or a year outside FIRST_YEAR..LAST_YEAR; the message says which.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, datetime):
        return _in_range(value)
    if isinstance(value, date):
        return _in_range(datetime(value.year, value.month, value.day))
    if isinstance(value, int | float):
        if not 1e8 <= value < 1e14:  # `date: 2021` is a year, not 2021 seconds after 1970
            raise ValueError(f"{value!r} is not a date")
        return _from_epoch(value / 1000 if value >= 1e11 else float(value))
    raw = str(value).strip()
    if _EPOCH_DIGITS.fullmatch(raw):
        whole = raw.split(".")[0]
        return _from_epoch(float(raw) / (1000 if len(whole) >= 12 else 1))
    try:
        return _in_range(parsedate_to_datetime(raw))
    except (TypeError, ValueError, IndexError):
        pass
    if match := _NUMERIC.fullmatch(raw):
        return _in_range(_numeric_date(match))
    try:
        return _in_range(datetime.fromisoformat(raw))
    except ValueError:
        raise ValueError(f"{raw!r} is not a date") from None


def _numeric_date(match: re.Match) -> datetime:
    year, month, day, cn_month, cn_day, hour, minute, second, zone = match.groups()
    parts = (int(year), int(month or cn_month), int(day or cn_day))
    clock = (int(hour or 0), int(minute or 0), int(second or 0))
    tzinfo: dt_tzinfo | None = None
    if zone:
        if zone.upper() == "Z":
            tzinfo = UTC
        else:
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tzinfo = timezone(offset if zone[0] == "+" else -offset)
    try:
        return datetime(*parts, *clock, tzinfo=tzinfo)
    except ValueError as exc:
        raise ValueError(f"{match.group(0)!r} is not a real date ({exc})") from None


def _from_epoch(seconds: float) -> datetime:
    try:
        return _in_range(datetime.fromtimestamp(seconds, tz=UTC))
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{seconds:g} seconds since 1970 is not a usable date") from None


def _in_range(moment: datetime) -> datetime:
    """The date itself, when it and its Beijing-time day exist within the accepted years."""
    try:
        local = moment.astimezone(DISPLAY_TZ) if moment.tzinfo else moment
    except (OverflowError, ValueError):
        raise ValueError(f"{moment.isoformat()} is out of range") from None
    if not FIRST_YEAR <= local.year <= LAST_YEAR:
        raise ValueError(f"year {local.year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return moment


_FULL = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d)")
_YEAR = re.compile(r"(\d{4})\s*年(?!\s*\d{1,2}\s*月)")
_RELATIVE_YEAR = {"今年": 0, "去年": -1, "前年": -2}


def written_date(iso: str) -> str:
    """ "2020-06-12" as a reader writes it: 2020年6月12日."""
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"


_DATE_NAMED = re.compile(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?)?")


def impossible_date(question: str) -> str | None:
    """A date the question names that cannot exist ("2021年13月", "2022年2月30日", "0000年"), as
    written, or None: the answer says so instead of searching for it."""
    for match in _DATE_NAMED.finditer(question):
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            date(year or 0, month or 1, day or 1)
        except ValueError:
            return match.group(0)
    return None


def question_date_range(question: str, newest: date | None) -> tuple[date, date] | None:
    """The period a question names, if any.

    Relative years ("去年") count from the newest article's date, not from today, so an
    archive answers the way it would have when it was current.
    """
    try:
        return _named_period(question, newest)
    except ValueError:  # 0000年, 2021年2月30日: a period that cannot exist names nothing
        return None


_OPEN_START, _OPEN_END = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
YEAR_RANGE = re.compile(r"(\d{4})\s*年?\s*(?:到|至|—|–|-|~|～)\s*(\d{4})\s*年")  # "2019到2022年"
_BEFORE = re.compile(r"(\d{4})\s*年\s*(以前|之前|前)")
_SINCE = re.compile(r"(\d{4})\s*年\s*(以来|至今|之后|以后)")
_UNTIL = re.compile(r"(?:截至|截止|截止到|到)\s*(\d{4})\s*年\s*(?:底|末|年底)?")
_RECENT_YEARS = re.compile(r"(?:近|最近|过去)\s*([一二两三四五六七八九十\d]+|几)\s*年")
_RECENT_DAYS = 90  # "最近" / "近期" without a number: the last three months before the as-of date
# "最近一个月", "近两周", "过去半年": that many days before the as-of date (a month is 30 days;
# "近三年" counts calendar years, above).
_RECENT_SPAN = re.compile(
    r"(?:近|最近|过去)\s*([一二两三四五六七八九十\d]+|几|半)\s*个?\s*(年|月|周|星期|天)"
)
_SPAN_DAYS = {"年": 365, "月": 30, "周": 7, "星期": 7, "天": 1}


def _named_period(question: str, newest: date | None) -> tuple[date, date] | None:
    if (match := YEAR_RANGE.search(question)) and int(match.group(1)) <= int(match.group(2)):
        return date(int(match.group(1)), 1, 1), date(int(match.group(2)), 12, 31)
    if match := _BEFORE.search(question):
        return _OPEN_START, date(int(match.group(1)), 1, 1) - timedelta(days=1)
    if match := _SINCE.search(question):
        year = int(match.group(1)) + (0 if match.group(2) in ("以来", "至今") else 1)
        return date(year, 1, 1), newest or _OPEN_END
    if match := _UNTIL.search(question):
        return _OPEN_START, date(int(match.group(1)), 12, 31)
    if newest is not None and (match := _RECENT_YEARS.search(question)):
        count = small_number(match.group(1)) or 3  # "近几年": three
        return date(newest.year - count + 1, 1, 1), newest
    if newest is not None and (match := _RECENT_SPAN.search(question)):
        spans = 0.5 if match.group(1) == "半" else small_number(match.group(1)) or 3  # "近几个月": three
        return newest - timedelta(days=round(spans * _SPAN_DAYS[match.group(2)])), newest
    if newest is not None and re.search(r"上个?月", question):
        first = newest.replace(day=1) - timedelta(days=1)
        return first.replace(day=1), first
    if newest is not None and re.search(r"本月|这个月|当月", question):
        return newest.replace(day=1), newest
    if newest is not None and re.search(r"最近(?!一篇|的一篇|一次|的?那篇)|近期", question):
        return newest - timedelta(days=_RECENT_DAYS), newest
    if match := _FULL.search(question):
        day_ = date(*(int(g) for g in match.groups()))
        return day_, day_
    if match := _MONTH.search(question):
        year, month = int(match.group(1)), int(match.group(2))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    named_year: int | None = None
    if match := _YEAR.search(question):
        named_year = int(match.group(1))
    elif newest is not None:
        named_year = next(
            (newest.year + offset for word, offset in _RELATIVE_YEAR.items() if word in question), None
        )
    if named_year is None:
        return None
    year = named_year
    if re.search(r"上半年", question):
        return date(year, 1, 1), date(year, 6, 30)
    if re.search(r"下半年", question):
        return date(year, 7, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)
