"""What a search takes (rag.search.query, rag.index.days): checked queries, filters parsed from
user input with errors that name the field, and day numbers."""

from datetime import date

import pytest

from rag.errors import QueryError
from rag.index.days import NO_DAY, day_date, day_number
from rag.search.query import NO_FILTERS, SearchFilters, clean_query


def test_day_numbers_round_trip_and_undated_is_no_day():
    assert day_number("1970-01-02") == 1 and day_date(day_number(date(2021, 8, 5))) == date(2021, 8, 5)
    assert day_number(None) == day_number("") == NO_DAY and day_date(NO_DAY) is None


def test_control_characters_are_stripped_and_blank_queries_refused():
    assert clean_query("  数字\x00经济\x07 ") == "数字经济"
    with pytest.raises(QueryError, match="empty"):
        clean_query(" \x00 ")
    with pytest.raises(QueryError, match="limit is 5"):
        clean_query("一二三四五六", max_chars=5)


def test_filters_parse_strings_and_dates_alike():
    parsed = SearchFilters.parse("2021-01-01", date(2021, 12, 31), ["a"], ["财经"])
    assert parsed == SearchFilters(date(2021, 1, 1), date(2021, 12, 31), ("a",), ("财经",))
    assert (
        parsed
        and not NO_FILTERS
        and parsed.day_bounds == (day_number("2021-01-01"), day_number("2021-12-31"))
    )


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [("last year", None, "'since' must be a date"), (None, "2021-13-01", "'until'"),
     ("2022-01-01", "2021-01-01", "later than")],
)  # fmt: skip
def test_bad_filters_name_the_field(since, until, message):
    with pytest.raises(QueryError, match=message):
        SearchFilters.parse(since, until)


def test_admits_checks_dates_ids_and_categories():
    filters = SearchFilters.parse("2021-01-01", "2021-12-31", categories=["财经"])
    assert filters.admits(date(2021, 8, 5), "a", ["财经", "科技"])
    assert not filters.admits(None, "a", ["财经"])  # an undated article is outside any period
    assert not filters.admits(date(2022, 1, 1), "a", ["财经"])
    assert not filters.admits(date(2021, 8, 5), "a", ["体育"])
    assert not SearchFilters(article_ids=("b",)).admits(None, "a", [])
    assert NO_FILTERS.admits(None, "a", [])
