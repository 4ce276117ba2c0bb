"""The best BM25 rows without the postings of a query's most frequent terms (rag.index.lexical_top):
scores handed on equal full scoring, a row is only missed when it lies within the left-out
terms' weight of the last place, filters hold, and small indexes rank by every term."""

import numpy as np

from rag.index.lexical import LexicalIndex
from rag.index.lexical_top import TAIL_SHARE, lexical_top

from .test_lexical import _seed_tokens


def _corpus(rows: int, seed: int = 3) -> list[list[str]]:
    """Chunks of a big corpus: two words in nearly every chunk, the rest Zipf-distributed."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"词{i}" for i in range(5000)]
    ranks = np.minimum(rng.zipf(1.3, size=(rows, 30)), len(vocabulary)) - 1
    return [["的发", "发展"] * (i % 3 != 0) + [vocabulary[r] for r in chunk] for i, chunk in enumerate(ranks)]


def test_frequent_terms_are_left_out_of_ranking_but_not_out_of_the_scores():
    corpus = _corpus(6000, seed=3)
    index = LexicalIndex.build(corpus, 0.3, 0.3)
    for seed in range(20):
        query = ["的发", "发展", *np.random.default_rng(seed).choice(corpus[seed * 7], 6).tolist()]
        full = index.scores(query)
        found = lexical_top(index, query, 40, None)
        assert found.tail, "the two near-universal words weigh little and are left out"
        np.testing.assert_allclose(found.at(found.rows), full[found.rows], rtol=1e-5)
        np.testing.assert_allclose(found.at(np.arange(100)), full[:100], rtol=1e-5, atol=1e-6)
        floor = np.sort(full)[-40]
        left_out = sum(float(t.weight) for t in found.tail)  # a tf part is below 1
        assert left_out <= TAIL_SHARE * index.term_weights(query, *index.statistics(query)[::2]).sum()
        assert set(np.flatnonzero(full > floor + left_out).tolist()) <= set(found.rows.tolist())


def test_filters_hold_and_an_empty_query_finds_nothing():
    index = LexicalIndex.build(_corpus(3000), 0.3, 0.3)
    allowed = np.zeros(index.size, dtype=bool)
    allowed[::5] = True
    found = lexical_top(index, ["发展", "词1", "词7"], 40, allowed)
    assert len(found.rows) == 40 and allowed[found.rows].all()
    assert lexical_top(index, [], 40, None).rows.size == 0
    assert lexical_top(index, ["从未出现的词"], 40, None).rows.size == 0


def test_a_small_index_ranks_by_every_term_like_full_scoring():
    tokens = _seed_tokens()
    index = LexicalIndex.build(tokens, 0.3, 0.3)
    query = tokens[3][:12]
    full = index.scores(query)
    found = lexical_top(index, query, 10, None)
    assert not found.tail
    assert sorted(found.rows.tolist()) == sorted(np.argsort(-full, kind="stable")[:10].tolist())
    np.testing.assert_array_equal(found.at(found.rows), full[found.rows])


def test_a_filter_that_leaves_few_rows_ranks_them_by_every_term():
    """Rows holding only a left-out word still come back when the filter leaves few rows."""
    corpus = _corpus(6000)
    for row in (100, 200, 300):
        corpus[row] += ["稀有词", "罕见词"]
    index = LexicalIndex.build(corpus, 0.3, 0.3)
    query = ["的发", "稀有词", "罕见词"]
    allowed = np.zeros(index.size, dtype=bool)
    allowed[:30] = True  # 20 of them hold 的发, none the rare words
    assert lexical_top(index, query, 40, None).tail  # unfiltered, 的发 does not rank
    full = np.where(allowed, index.scores(query), 0.0)
    found = lexical_top(index, query, 40, allowed)
    assert set(found.rows.tolist()) == set(np.flatnonzero(full > 0).tolist()) and len(found.rows) == 20
    np.testing.assert_allclose(found.at(found.rows), full[found.rows], rtol=1e-5)
