import json

import numpy as np
import pytest

from rag.cli import main
from rag.errors import QueryError
from rag.index.tokens import normalise_text
from rag.search.query import SearchFilters, SearchTuning
from rag.search.retrieve import Hit

from .conftest import SEEDS

SEED_QUESTIONS = [
    ("东盟数字经济占GDP比重", "003_f30a3f95d871ccd8"),
    ("2021智博会有多少家企业参展？", "002_c22cbfc4fcc6f316"),
    ("蔡奇对北京数字贸易发展提出了哪些要求？", "004_0a1dfa763c39606a"),
    ("许科敏在哪个论坛上讲话？", "001_79559e53e2614f5a"),
    ("二十国集团数字部长会议的主题是什么？", "000_2deaa8aae2986475"),
    ("AI技术把新冠肺炎诊断时间缩短到多少？", "003_f30a3f95d871ccd8"),
]


@pytest.mark.parametrize(("question", "article_id"), SEED_QUESTIONS)
def test_seed_questions_find_their_article(seed_index, question, article_id):
    hits = seed_index.search(question, k=5)
    assert hits[0].article_id == article_id
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(isinstance(h, Hit) and h.title and h.date for h in hits)


def test_hit_text_is_the_article_slice(seed_index):
    hit = seed_index.search("东盟数字经济占GDP比重", k=1)[0]
    article = seed_index.article(hit.article_id)
    assert article.text[hit.start : hit.end] == hit.text
    assert "1.3%" in hit.text and hit.date == "2020-06-12"


def test_full_width_query_matches_half_width_text(seed_index):
    assert seed_index.search("ＡＩ技术 ＣＴ影像识别", k=1)[0].article_id == "003_f30a3f95d871ccd8"


def test_date_filter_applies_inside_search(seed_index):
    hits = seed_index.search("数字经济", 5, SearchFilters.parse("2021-08-01", "2021-12-31"))
    assert hits and {h.article_id for h in hits} <= {"000_2deaa8aae2986475", "002_c22cbfc4fcc6f316"}
    assert len(hits) == 5  # k hits even though other years rank higher unfiltered


def test_article_and_category_filters(seed_index):
    hits = seed_index.search("数字经济", 3, SearchFilters(article_ids=("004_0a1dfa763c39606a",)))
    assert {h.article_id for h in hits} == {"004_0a1dfa763c39606a"}
    # The plain-text seed has no categories, so a category filter excludes it.
    hits = seed_index.search("东盟数字经济", 10, SearchFilters(categories=("新浪财经",)))
    assert hits and all(h.article_id != "003_f30a3f95d871ccd8" for h in hits)


def test_one_article_fills_the_slots_only_while_no_other_comes_close(seed_index):
    """k=4 gives an article 2 slots while others have hits; 004 (蔡奇) scores ~0.75 and the
    next article ~0.2, so its further passages are shown instead, unless the cap is strict."""
    hits = seed_index.search("蔡奇强调数字贸易", k=4)
    assert [h.article_id[:3] for h in hits] == ["004"] * 4
    strict = seed_index.search("蔡奇强调数字贸易", k=4, tuning=SearchTuning(lead_ratio=0))
    assert len({h.article_id for h in strict}) >= 2


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01"])
def test_empty_query_is_refused(seed_index, query):
    with pytest.raises(QueryError, match="empty"):
        seed_index.search(query)


def test_overlong_query_is_refused(seed_index):
    with pytest.raises(QueryError, match="limit is 500"):
        seed_index.search("数" * 100_000)


def test_bad_date_names_the_field(seed_index):
    with pytest.raises(QueryError, match="'since'"):
        SearchFilters.parse(since="last year")


def test_cli_search_json(seed_index_dir, capsys):
    code = main(["search", "东盟数字经济占GDP比重", "--index", str(seed_index_dir), "-k", "3", "--json"])
    assert code == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    assert set(hits[0]) >= {"rank", "score", "chunk_id", "article_id", "title", "date", "text"}
    assert hits[0]["article_id"] == "003_f30a3f95d871ccd8" and hits[0]["date"] == "2020-06-12"


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["search", "数字经济", "--index", str(tmp_path / "none")]) == 2
    assert "error:" in capsys.readouterr().err


def test_python_api_as_in_readme(tmp_path, monkeypatch):
    import rag

    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").symlink_to(SEEDS)
    report = rag.build_index(rag.Settings(corpus="seeds", index="index"))
    assert report.articles == 5
    index = rag.open_index("index")
    hits = index.search("二十国集团数字部长会议", 3, SearchFilters.parse("2021-01-01"))
    assert hits[0].title.startswith("肖亚庆出席") and all(h.date >= "2021-01-01" for h in hits)
    answer = rag.Answerer(index).ask("2021智博会有多少家企业参展？")
    c = answer.citations[0]
    assert "610余家" in answer.answer and "610余家" in c.text[c.start : c.end]


def test_period_named_in_question_lifts_passages_of_that_period(seed_index):
    unfiltered = seed_index.search("数字部长会议", k=3)
    in_2020 = seed_index.search("2020年的数字部长会议", k=3)
    assert unfiltered[0].date.startswith("2021")  # the G20 meeting ranks first without a year
    assert in_2020[0].date.startswith("2020")


def test_relative_year_uses_newest_article(seed_index):
    assert seed_index.newest_date.isoformat() == "2022-07-24"
    hits = seed_index.search("去年数字经济会议", k=3)
    assert hits[0].date.startswith("2021")


def test_the_answerer_reuses_the_vector_of_the_question_just_searched(seed_index):
    """A question's vector is embedded once per search and kept for the answerer (bounded)."""
    question = "ＡＳＥＡＮ数字经济占GDP比重是多少？"  # full width: kept under its folded text
    vector = seed_index.query_vector(question)
    assert seed_index.recent_query_vector(normalise_text(question)) is vector
    again = seed_index.query_vector(question)  # embedded again: a repeated search costs the same
    assert again is not vector and seed_index.recent_query_vector(normalise_text(question)) is again
    np.testing.assert_allclose(vector, again, atol=1e-6)
    for n in range(100):
        seed_index.query_vector(f"第{n}个问题")
    assert seed_index.recent_query_vector(normalise_text(question)) is None
    assert seed_index.recent_query_vector(normalise_text("第99个问题")) is not None


def test_the_report_titled_with_the_asked_year_leads(news_index):
    """ "2021年产量" is the report headlined "星驰汽车2021年产量…" (its lead states it), not the 2020
    report that says "对于2021年，…产量15万辆的目标"."""
    hits = news_index.search("星驰汽车2021年产量是多少", k=5)
    assert hits[0].article_id.startswith("015") and any("16.5万辆" in h.text for h in hits)
