"""The collection itself: the table of live articles, and every article whose text holds a phrase.

Questions about the corpus ("有哪些文章", "一共几篇", "哪些文章提到X") are answered from here,
never from the top-k passages: the article table is complete, and a phrase's articles are
found through the BM25 postings of its character bigrams (a text that holds the phrase holds
all of them) and then checked in the stored text, so counts are exact at any corpus size.
"""

from __future__ import annotations

import datetime
import functools
import re
import threading
from dataclasses import dataclass

import numpy as np

from rag.index.aliases import spellings
from rag.index.records import ArticleRecord
from rag.index.tokens import BIGRAM_PREFIX, normalise_text
from rag.search.retrieve import SearchIndex

_CJK_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
# "中国—东盟" and "中国-东盟" are one name: every dash compares as "-".
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63", "-"))


def comparable(text: str) -> str:
    """Text as phrase lookups compare it: width and case folded, every dash alike."""
    return normalise_text(text).translate(_DASHES)


def holds(text: str, needle: str) -> bool:
    """Whether `text` holds the `comparable` `needle`: as written (a substring search, ~1 µs)
    or else once folded (~30 µs a chunk: a common phrase has thousands of candidate chunks)."""
    return needle in text or needle in comparable(text)


@dataclass(frozen=True)
class Mention:
    """Where a phrase occurs: the article, and the chunks (rows) whose text holds it."""

    article: ArticleRecord
    rows: tuple[int, ...]
    in_title: bool


def phrase_tokens(phrase: str) -> list[str]:
    """BM25 tokens every text holding `phrase` must also hold: its CJK bigrams and Latin words."""
    folded = normalise_text(phrase)
    tokens = [BIGRAM_PREFIX + run[i : i + 2] for run in _CJK_RUN.findall(folded) for i in range(len(run) - 1)]
    tokens += _LATIN_WORD.findall(folded)
    return list(dict.fromkeys(tokens))


class Catalog:
    """Article table and phrase lookups over one loaded index version (read once, then cached)."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._articles: list[ArticleRecord] | None = None
        self._lock = threading.Lock()

    def articles(self) -> list[ArticleRecord]:
        """Every live article, oldest first (undated last), then by id."""
        with self._lock:
            if self._articles is None:
                records = list(self.index.records.live_articles())
                records.sort(key=lambda a: (a.date == "", a.date, a.article_id))
                self._articles = records
            return self._articles

    def chunk_counts(self) -> dict[str, int]:
        """How many passages each live article was split into, by article id."""
        return self.index.backend.chunk_counts()

    def by_id(self, article_id: str) -> ArticleRecord | None:
        return self._by_id.get(article_id)

    @functools.cached_property
    def _by_id(self) -> dict[str, ArticleRecord]:  # the table is read once, so is this
        found: dict[str, ArticleRecord] = {}
        for article in self.articles():
            found.setdefault(article.article_id, article)
        return found

    def published(
        self, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> list[ArticleRecord]:
        """Articles dated within [since, until] (inclusive), oldest first."""
        return [
            a for a in self.articles()
            if a.day is not None and (since is None or a.day >= since) and (until is None or a.day <= until)
        ]  # fmt: skip

    def find(
        self, title_words: str = "", since: datetime.date | None = None, until: datetime.date | None = None
    ) -> list[ArticleRecord]:
        """Articles whose title holds every word (case folded) and, with bounds, dated within them."""
        terms = title_words.casefold().split()
        records = self.published(since, until) if since or until else self.articles()
        return [r for r in records if all(t in r.title.casefold() for t in terms)]

    def mentions(self, phrase: str) -> list[Mention]:
        """Every article whose title or text holds `phrase` (case and width folded) or another
        spelling of it ("G20" / "二十国集团", rag.index.aliases), oldest first."""
        forms = spellings(phrase)
        if len(forms) == 1:
            return self._mentions_as_written(phrase)
        found: dict[str, Mention] = {}
        for spelling in forms:
            for mention in self._mentions_as_written(spelling):
                seen = found.get(mention.article.article_id)
                found[mention.article.article_id] = (
                    mention
                    if seen is None
                    else Mention(
                        seen.article,
                        tuple(sorted({*seen.rows, *mention.rows})),
                        seen.in_title or mention.in_title,
                    )
                )
        return [found[a.article_id] for a in self.articles() if a.article_id in found]

    def _mentions_as_written(self, phrase: str) -> list[Mention]:
        tokens = phrase_tokens(phrase)
        needle = comparable(phrase).strip()
        if not tokens or not needle:
            return []
        rows = self.index.backend.rows_with_all(tokens)
        by_article: dict[str, list[int]] = {}
        titles: dict[str, bool] = {}  # each article's title checked once, not once per chunk
        for start in range(0, len(rows), 500):
            batch = rows[start : start + 500]
            for row, record in zip(batch, self.index.chunk_records(np.asarray(batch)), strict=True):
                if record.article_id not in titles:
                    titles[record.article_id] = holds(record.title, needle)
                if holds(record.text, needle):
                    by_article.setdefault(record.article_id, []).append(int(row))
                elif titles[record.article_id]:
                    by_article.setdefault(record.article_id, [])
        found = [Mention(a, tuple(by_article[a.article_id]), titles[a.article_id])
                 for a in self.articles() if a.article_id in by_article]  # fmt: skip
        return found
