"""Phrase lookups of the catalog are exact: every article that holds a phrase, no other, over a
real index of articles written so that a phrase's bigrams occur apart, only in a title, or in
characters that fold into the phrase."""

from __future__ import annotations

import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.config import Settings
from rag.index.build import build_index
from rag.index.records import ArticleRecord
from rag.search.backend import ArticleRows
from rag.search.catalog import _CJK_RUN, _FOLDS_TO_HAN, Catalog
from rag.search.mentions import Mentions, merged
from rag.search.retrieve import open_index

ARTICLES = {
    # Title only: the title holds 数字经济, the text only its bigrams, apart.
    "titled": ("数字经济观察", "数字化改革持续推进，文字经过整理后发布。全年经济稳步增长。"),
    # Every bigram of 数字经济, never together: no mention.
    "apart": ("城市新闻", "数字化改革持续推进，文字经过整理后发布。全年经济稳步增长。"),
    "written": ("产业动态", "本市数字经济规模继续扩大。鸿沟正在缩小。"),
    # Kangxi radicals ⼀ (U+2F00) fold into 一: the text holds 一带一路 once folded.
    "radicals": ("交通建设", "⼀带⼀路建设稳步推进，沿线项目陆续开工。"),
    "chasm": ("弥合鸿沟", "各方表示将继续加强合作。"),
}
ARTICLES_BY_TITLE = {title: body for title, body in ARTICLES.values()}


def _article(title: str, body: str) -> str:
    return f"\n---\ntitle: '{title}'\ndate: Fri, 15 Mar 2019 02:31:05 GMT\n---\n<p>{body}</p>\n"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, usem) -> Catalog:
    corpus = tmp_path_factory.mktemp("phrase-corpus")
    for name, (title, body) in ARTICLES.items():
        (corpus / f"{name}.md").write_text(_article(title, body), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("phrase-index")
    build_index(Settings(corpus=corpus, index=index_dir), embedder=usem, log=lambda _: None)
    return Catalog(open_index(index_dir, usem))


def _titles(catalog: Catalog, phrase: str) -> set[str]:
    return {m.article.title for m in catalog.mentions(phrase)}


def test_a_phrase_is_found_where_it_is_written_not_where_its_bigrams_are_apart(catalog):
    assert _titles(catalog, "数字经济") == {"数字经济观察", "产业动态"}


def test_a_two_character_phrase_is_found_in_titles_and_texts(catalog):
    assert _titles(catalog, "鸿沟") == {"产业动态", "弥合鸿沟"}


def test_characters_that_fold_into_the_phrase_count(catalog):
    assert _titles(catalog, "一带一路") == {"交通建设"}


def test_the_cited_chunk_holds_the_phrase_and_a_title_only_mention_has_none(catalog):
    for phrase in ("数字经济", "鸿沟"):
        mentions = catalog.mentions(phrase)
        chunks = catalog.holding_chunks(mentions)
        for mention, chunk in zip(mentions, chunks, strict=True):
            in_text = phrase in ARTICLES_BY_TITLE[mention.article.title]
            assert (chunk is not None and phrase in chunk.text) if in_text else chunk is None


def test_every_character_that_folds_into_a_chinese_one_is_known():
    """`holds` skips folding a text that has none of `_FOLDS_TO_HAN`: the list must be whole."""
    missing = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if not _CJK_RUN.match(char := chr(code))
        and _CJK_RUN.search(unicodedata.normalize("NFKC", char).lower())
        and not _FOLDS_TO_HAN.match(char)
    ]
    assert missing == []


def _as_lists(mentions: Mentions) -> list[tuple[int, list[int], str]]:
    return [(int(m.article.article_id), list(m.rows), m.phrase) for m in mentions]


# (row, article rank) pairs, a row in one article only.
ROW_ARTICLES = st.lists(
    st.tuples(st.integers(0, 9), st.integers(-1, 7)), max_size=10, unique_by=lambda pair: pair[0]
)


@given(parts=st.lists(ROW_ARTICLES, min_size=1, max_size=3), skip=st.integers(0, 2))
def test_mentions_group_order_merge_and_trim_rows_as_lists_would(parts, skip):
    """Rows of articles ranked -1..7 (-1: not in the table) grouped, oldest first, joined with
    the first part's rows winning, then trimmed, or merged with every part's rows: the same as
    done with dicts and lists."""
    table = [ArticleRecord(str(rank), f"t{rank}", "", "") for rank in range(8)]  # id: its rank
    found = []
    for number, pairs in enumerate(parts):
        rows = np.asarray([row for row, _ in pairs], dtype=np.int64)
        ranks_of_rows = np.asarray([rank for _, rank in pairs], dtype=np.int64)
        grouped = ArticleRows.grouping(ranks_of_rows, rows)  # article numbers are ranks here
        found.append(Mentions.grouped(table, grouped, grouped.numbers, f"p{number}"))
    expected: dict[int, tuple[list[int], str]] = {}
    for number, pairs in enumerate(parts):
        by_rank: dict[int, list[int]] = {}
        for row, rank in pairs:
            by_rank.setdefault(rank, []).append(row)
        for rank, rows in by_rank.items():
            if rank >= 0:
                expected.setdefault(rank, (sorted(rows), f"p{number}"))
    joined = Mentions.union(found)
    assert _as_lists(joined) == [(rank, *expected[rank]) for rank in sorted(expected)]
    trimmed = joined.take(np.arange(len(joined)), np.minimum(skip, np.diff(joined.bounds)))
    assert [rows for _, rows, _ in _as_lists(trimmed)] == [expected[r][0][skip:] for r in sorted(expected)]
    every_row: dict[int, set[int]] = {}
    for pairs in parts:
        for row, rank in pairs:
            if rank >= 0:
                every_row.setdefault(rank, set()).add(row)
    spelled = [(rank, sorted(rows), "p0") for rank, rows in sorted(every_row.items())]
    assert _as_lists(merged(found)) == spelled  # spellings of one phrase: every row, one phrase
