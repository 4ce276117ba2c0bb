"""Pure parsing of time expressions in questions ("2021年8月", "2020年", "去年") into date ranges."""

from __future__ import annotations

import calendar
import re
from datetime import date

_FULL = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d)")
_YEAR = re.compile(r"(\d{4})\s*年(?!\s*\d{1,2}\s*月)")
_RELATIVE_YEAR = {"今年": 0, "去年": -1, "前年": -2}


def question_date_range(question: str, newest: date | None) -> tuple[date, date] | None:
    """The period a question names, if any.

    Relative years ("去年") count from the newest article's date, not from today, so an
    archive answers the way it would have when it was current.
    """
    if match := _FULL.search(question):
        year, month, day = (int(g) for g in match.groups())
        try:
            day_ = date(year, month, day)
        except ValueError:
            return None
        return day_, day_
    if match := _MONTH.search(question):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            return None
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if match := _YEAR.search(question):
        year = int(match.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    if newest is not None:
        for word, offset in _RELATIVE_YEAR.items():
            if word in question:
                year = newest.year + offset
                return date(year, 1, 1), date(year, 12, 31)
    return None
