"""Dates as the index stores them: whole days since 1970-01-01 in int32, `NO_DAY` when undated.

Filters, date boosts and the date range of `rag verify` all compare these numbers, so every
conversion between a date and its number is here.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)
NO_DAY = int(np.iinfo(np.int32).min)  # chunk_day of an article without a date


def day_number(value: date | str | None) -> int:
    """Days since 1970-01-01 of a date or a YYYY-MM-DD string; `NO_DAY` for none."""
    if value is None or value == "":
        return NO_DAY
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return (day - EPOCH).days


def day_date(number: int) -> date | None:
    """The date of a day number; None for `NO_DAY`."""
    return None if number == NO_DAY else EPOCH + timedelta(days=int(number))
