"""The collection itself: the table of live articles, and every article whose text holds a phrase.

Questions about the corpus ("有哪些文章", "一共几篇", "哪些文章提到X") are answered from here,
never from the top-k passages: the article table is complete, and a phrase's articles are
found through the BM25 postings of its character bigrams (a text that holds the phrase holds
all of them) and then checked in the stored text, so counts are exact at any corpus size.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import re
import threading
from collections.abc import Iterable

import numpy as np

from rag.index.aliases import spellings
from rag.index.records import ArticleRecord, ChunkRecord
from rag.index.tokens import BIGRAM_PREFIX, normalise_text
from rag.search.mentions import Mention, Mentions, merged
from rag.search.retrieve import SearchIndex

_READ_BATCH = 500  # rows a phrase lookup reads in one query per segment
_CJK_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
# Every character outside _CJK_RUN whose NFKC form holds one inside it: radicals (⼀), kanbun
# (㆒), circled and squared ideographs (㈠, ㍻, 🈚) and CJK compatibility ideographs (豈).
_FOLDS_TO_HAN = re.compile(
    "[\u2e80-\u2fdf\u3038-\u303a\u3190-\u319f\u3200-\u33ff\uf900-\ufaff\U0001f200-\U0001f2ff\U0002f800-\U0002fa1f]"
)
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
# "中国—东盟" and "中国-东盟" are one name: every dash compares as "-".
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63", "-"))


def comparable(text: str) -> str:
    """Text as phrase lookups compare it: width and case folded, every dash alike."""
    return normalise_text(text).translate(_DASHES)


def holds(text: str, needle: str) -> bool:
    """Whether `text` holds the `comparable` `needle`: as written (a substring search, ~1 µs)
    or else once folded (~15 µs a chunk: a common phrase has thousands of candidate chunks).
    A needle of Chinese characters only is folded into a text only through a character that
    folds into one (`_FOLDS_TO_HAN`), so a text without any is not folded."""
    if needle in text:
        return True
    if _CJK_RUN.fullmatch(needle) and not _FOLDS_TO_HAN.search(text):
        return False
    return needle in comparable(text)


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
        """Articles dated within [since, until] (inclusive), oldest first: a slice of the
        table found by bisection (a year of a 1M-chunk corpus is ~10k of its ~100k articles)."""
        dates = self._dates
        start = 0 if since is None else bisect.bisect_left(dates, since.isoformat())
        end = len(dates) if until is None else bisect.bisect_right(dates, until.isoformat())
        return self.articles()[start:end]

    @functools.cached_property
    def _dates(self) -> list[str]:  # the dated articles' dates (ISO, so in order as strings)
        return [a.date for a in self.articles() if a.date]

    def find(
        self, title_words: str = "", since: datetime.date | None = None, until: datetime.date | None = None
    ) -> list[ArticleRecord]:
        """Articles whose title holds every word (case folded) and, with bounds, dated within them."""
        terms = title_words.casefold().split()
        records = self.published(since, until) if since or until else self.articles()
        return [r for r in records if all(t in r.title.casefold() for t in terms)]

    def mask(self, articles: Iterable[ArticleRecord]) -> np.ndarray:
        """These articles as a mask over the table (`Mentions.within` keeps them)."""
        chosen = np.zeros(len(self._table), dtype=bool)
        chosen[[self._rank[a.article_id] for a in articles]] = True
        return chosen

    @functools.cached_property
    def _table(self) -> list[ArticleRecord]:  # one record an id, oldest first: Mentions' ranks
        return list(self._by_id.values())

    @functools.cached_property
    def _rank(self) -> dict[str, int]:
        return {article_id: rank for rank, article_id in enumerate(self._by_id)}

    @functools.cached_property
    def _rank_by_number(self) -> np.ndarray:  # the backend's article numbers to table ranks
        ranks = self._rank
        table = self.index.backend.article_table()
        return np.fromiter((ranks.get(a, -1) for a in table), dtype=np.int64, count=len(table))

    def mentions(self, phrase: str) -> Mentions:
        """Every article whose title or text holds `phrase` (case and width folded) or another
        spelling of it ("G20" / "二十国集团", rag.index.aliases), oldest first."""
        parts = [self._mentions_as_written(s, phrase) for s in spellings(phrase)]
        return parts[0] if len(parts) == 1 else merged(parts)

    def holding_chunks(self, mentions: list[Mention]) -> list[ChunkRecord | None]:
        """For each mention, the first of its chunks whose text holds its phrase or another
        spelling of it; None when only the title does. The first rows are read together (it
        is usually the first), the rest of a mention's rows a few more at a time."""
        firsts = self.index.chunk_records([m.rows[0] for m in mentions])
        found: list[ChunkRecord | None] = []
        for mention, first in zip(mentions, firsts, strict=True):
            needles = [comparable(spelling).strip() for spelling in spellings(mention.phrase)]
            chunk = first if any(holds(first.text, n) for n in needles) else None
            start, width = 1, 2
            while chunk is None and start < len(mention.rows):
                more = self.index.chunk_records(list(mention.rows[start : start + width]))
                chunk = next((r for r in more if any(holds(r.text, n) for n in needles)), None)
                start, width = start + width, width * 2
            found.append(chunk)
        return found

    def _mentions_as_written(self, spelling: str, phrase: str) -> Mentions:
        tokens = phrase_tokens(spelling)
        needle = comparable(spelling).strip()
        backend = self.index.backend
        rows = backend.rows_with_all(tokens) if tokens and needle else np.zeros(0, dtype=np.int64)
        found = backend.article_rows(rows)
        mentions = Mentions.grouped(self._table, found, self._rank_by_number[found.numbers], phrase)
        # A two-character phrase is its one bigram: every row holding that token holds the
        # phrase in its text or in its article's title, so there is nothing to check.
        if backend.exact_terms and tokens == [BIGRAM_PREFIX + needle]:
            return mentions
        return self._holding(mentions, needle)

    def _holding(self, mentions: Mentions, needle: str) -> Mentions:
        """The mentions whose article's title holds `needle`, or one of whose candidate rows
        does, their rows from the first that holds it on. Each round reads the next rows of
        every group still open, twice as many as the round before: a group costs one read
        when its first row holds the phrase, and a few rounds when none does."""
        lengths = np.diff(mentions.bounds).tolist()
        firsts = mentions.bounds.tolist()
        skip = [0 if holds(a.title, needle) else -1 for a in mentions.articles()]  # -1: not yet held
        pending = {g: 0 for g, s in enumerate(skip) if s < 0}  # group -> next row position
        width = 1
        while pending:
            reads = [(g, p) for g, start in pending.items()
                     for p in range(start, min(start + width, lengths[g]))]  # fmt: skip
            for batch in range(0, len(reads), _READ_BATCH):
                part = reads[batch : batch + _READ_BATCH]
                texts = self.index.chunk_texts(mentions.rows[[firsts[g] + p for g, p in part]])
                for (g, p), text in zip(part, texts, strict=True):
                    if skip[g] < 0 and holds(text, needle):
                        skip[g] = p
            pending = {g: start + width for g, start in pending.items()
                       if skip[g] < 0 and start + width < lengths[g]}  # fmt: skip
            width *= 2
        held = np.flatnonzero(np.asarray(skip) >= 0)
        return mentions.take(held, np.asarray(skip)[held])
