"""The search backend over local segments (rag.search.local): candidates carry both scores for
every row, filters are applied inside the search, and records come back in the order asked."""

import numpy as np

from rag.index.days import day_number
from rag.search.backend import SearchBackend
from rag.search.local import LocalBackend
from rag.search.query import NO_FILTERS, SearchFilters

QUERY = "东盟数字经济占GDP比重"


def test_candidates_are_both_top_lists_with_both_scores(seed_index):
    backend: SearchBackend = seed_index.backend
    assert isinstance(backend, LocalBackend)
    tokens, vector = seed_index.tokenizer(QUERY), seed_index.query_vector(QUERY)
    found = backend.candidates(tokens, vector, 5, NO_FILTERS)
    lexical_all = backend.lexical.scores(tokens)
    dense_top, _ = backend.dense.search(vector, 5)
    lexical_top = np.argsort(-lexical_all, kind="stable")[:5]
    assert set(found.rows.tolist()) == set(dense_top.tolist()) | set(
        lexical_top[lexical_all[lexical_top] > 0].tolist()
    )
    np.testing.assert_allclose(found.lexical, lexical_all[found.rows], rtol=1e-6)
    np.testing.assert_allclose(found.dense, seed_index.version.all_vectors()[found.rows] @ vector, atol=1e-3)
    np.testing.assert_array_equal(found.days, seed_index.version.chunk_day[found.rows])


def test_filters_hold_inside_the_candidates(seed_index):
    backend = seed_index.backend
    tokens, vector = seed_index.tokenizer(QUERY), seed_index.query_vector(QUERY)
    since = SearchFilters.parse("2022-01-01")
    found = backend.candidates(tokens, vector, 50, since)
    assert found.rows.size and (found.days >= day_number("2022-01-01")).all()
    only = SearchFilters(article_ids=("003_f30a3f95d871ccd8",))
    rows = backend.candidates(tokens, vector, 50, only).rows
    assert {r.article_id for r in backend.records(rows)} == {"003_f30a3f95d871ccd8"}
    nothing = SearchFilters(article_ids=("no-such-article",))
    assert backend.candidates(tokens, vector, 50, nothing).rows.size == 0


def test_records_and_texts_come_back_in_the_order_asked_and_stats_count_live_rows(seed_index):
    backend = seed_index.backend
    rows = np.asarray([7, 0, 3])
    assert [r.chunk_id for r in backend.records(rows)] == [
        seed_index.records.chunk_column("chunk_id")[r] for r in rows
    ]
    assert backend.texts(rows) == [r.text for r in backend.records(rows)]
    stats = backend.stats()
    assert (stats.articles, stats.chunks) == (5, 50) and stats.first_date < stats.last_date
    assert sum(backend.chunk_counts().values()) == 50
