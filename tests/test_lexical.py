"""BM25 over Chinese tokens (rag.index.lexical): the scores of a reference implementation, one
corpus's statistics across segments, postings that round-trip through their files."""

import bm25s
import numpy as np
import pytest

from rag.index.lexical import LexicalIndex, LexicalSegment, TermCounts
from rag.index.tokens import ChineseTokenizer
from rag.ingest.articles import iter_articles

from .conftest import SEEDS

QUESTIONS = ["东盟数字经济占GDP比重", "许科敏 世界青年发展论坛", "2021智博会有多少家企业参展", "林玉辉"]


def _seed_tokens() -> list[list[str]]:
    tokenizer = ChineseTokenizer()
    return [tokenizer(p) for a in iter_articles(SEEDS) for p in a.paragraphs if p.strip()]


def test_bm25_scores_equal_bm25s_lucene_on_the_seeds():
    tokens = _seed_tokens()
    reference = bm25s.BM25(method="lucene", k1=0.3, b=0.3)
    reference.index(tokens, show_progress=False)
    ours = LexicalIndex.build(tokens, 0.3, 0.3)
    tokenizer = ChineseTokenizer()
    for question in QUESTIONS:
        query = [t for t in tokenizer(question) if t in reference.vocab_dict]
        np.testing.assert_allclose(ours.scores(query), reference.get_scores(query), rtol=1e-5, atol=1e-5)


def test_segments_share_corpus_idf():
    """Split into segments, BM25 IDF is still the whole corpus's (only the length norm is per segment)."""
    tokens = _seed_tokens()
    whole = LexicalIndex.build(tokens, 0.3, 0.3)
    parts = LexicalIndex([LexicalSegment.build([TermCounts.of(t) for t in part], 0.3, 0.3)
                          for part in (tokens[:7], tokens[7:20], tokens[20:])])  # fmt: skip
    words = ["数字经济", "东盟", "#数字", "从未出现的词"]
    assert parts.idf(words) == pytest.approx(whole.idf(words))
    assert parts.known(words) == whole.known(words) and {"东盟", "#数字"} <= whole.known(words)
    assert "从未出现的词" not in whole.known(words)
    query = ChineseTokenizer()("东盟数字经济占GDP比重")
    np.testing.assert_array_equal(np.argsort(-parts.scores(query))[:2], np.argsort(-whole.scores(query))[:2])
    assert np.corrcoef(parts.scores(query), whole.scores(query))[0, 1] > 0.98


def test_term_counts_come_back_from_saved_postings(tmp_path):
    bags = [TermCounts.of(tokens) for tokens in _seed_tokens()]
    LexicalSegment.build(bags, 0.3, 0.3).save(tmp_path / "bm25")
    restored = LexicalSegment.load(tmp_path / "bm25").term_counts()
    assert len(restored) == len(bags)
    for got, want in zip(restored, bags, strict=True):
        np.testing.assert_array_equal(got.terms, want.terms)
        np.testing.assert_array_equal(got.counts, want.counts)
        assert got.length == want.length


def test_rows_with_all_holds_exactly_the_rows_with_every_token():
    tokens = _seed_tokens()
    index = LexicalIndex.build(tokens, 0.3, 0.3)
    wanted = ["东盟", "#数字"]
    expected = [row for row, doc in enumerate(tokens) if all(w in doc for w in wanted)]
    assert index.rows_with_all(wanted).tolist() == expected
    assert 0 < len(expected) < len(index.rows_with_all(["#数字"]))
    assert index.rows_with_all(["从未出现的词", "东盟"]).size == 0


def test_unseen_tokens_get_the_largest_idf_and_score_nothing():
    index = LexicalIndex.build(_seed_tokens(), 0.3, 0.3)
    idf = index.idf(["东盟", "从未出现的词"])
    assert idf["从未出现的词"] >= idf["东盟"] > 0
    assert not index.scores(["从未出现的词"]).any()
