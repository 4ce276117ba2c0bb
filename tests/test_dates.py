from datetime import date

from rag.ingest.dates import question_date_range


def test_full_date():
    assert question_date_range("2020年6月12日开幕的是什么？", None) == (date(2020, 6, 12), date(2020, 6, 12))


def test_month():
    assert question_date_range("2021年8月有哪些数字经济会议？", None) == (date(2021, 8, 1), date(2021, 8, 31))


def test_year():
    assert question_date_range("2020年东盟做了什么？", None) == (date(2020, 1, 1), date(2020, 12, 31))


def test_relative_year_counts_from_newest_article():
    newest = date(2022, 7, 24)
    assert question_date_range("去年的智博会", newest) == (date(2021, 1, 1), date(2021, 12, 31))
    assert question_date_range("今年", newest) == (date(2022, 1, 1), date(2022, 12, 31))


def test_no_time_expression():
    assert question_date_range("2021智博会有多少家企业参展？", date(2022, 1, 1)) is None
    assert question_date_range("2021年13月", None) is None


def test_a_range_of_years_is_both_years_and_those_between():
    assert question_date_range("星驰汽车2019到2022年的产量", None) == (date(2019, 1, 1), date(2022, 12, 31))
    assert question_date_range("2020年至2022年的营收", None) == (date(2020, 1, 1), date(2022, 12, 31))
