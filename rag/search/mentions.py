"""The articles that hold a phrase, as arrays: a phrase as common as 一种 is in ~50k articles of
a 1M-chunk corpus, and a question about it is answered with their count and the first twenty, so
an object is made only for an article that is shown or read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rag.index.records import ArticleRecord
from rag.search.backend import ArticleRows


@dataclass(frozen=True)
class Mention:
    """Where a phrase occurs: the article, the chunks (rows) that may hold it, the first of
    them one that does unless the article's title holds it (`Catalog.holding_chunks` finds the
    chunk to cite), and the phrase as looked up (its other spellings count too)."""

    article: ArticleRecord
    rows: tuple[int, ...]
    phrase: str


@dataclass(frozen=True, eq=False)
class Mentions:
    """Articles holding a phrase, oldest first: group g is the article `table[ranks[g]]` (the
    catalog's table, oldest first, so ascending ranks are oldest first), found by the phrase
    `phrases[phrase_of[g]]`, with candidate rows `rows[bounds[g]:bounds[g + 1]]`."""

    table: Sequence[ArticleRecord]
    ranks: np.ndarray  # int64, ascending: one article a group
    rows: np.ndarray  # int64
    bounds: np.ndarray  # int64, one more than there are groups
    phrase_of: np.ndarray  # int64 index into phrases, one a group
    phrases: tuple[str, ...]

    @classmethod
    def grouped(
        cls, table: Sequence[ArticleRecord], found: ArticleRows, ranks: np.ndarray, phrase: str
    ) -> Mentions:
        """A backend's groups of rows found by one phrase, given each group's article rank
        (-1: not in the table, dropped), put oldest first."""
        mentions = cls(table, ranks, found.rows, found.bounds, np.zeros(len(ranks), np.int64), (phrase,))
        kept = np.flatnonzero(ranks >= 0)
        return mentions.take(kept[np.argsort(ranks[kept], kind="stable")])

    def __len__(self) -> int:
        return len(self.ranks)

    def __getitem__(self, group: int) -> Mention:
        group = range(len(self))[group]  # a negative group counts from the end
        start, end = self.bounds[group], self.bounds[group + 1]
        return Mention(
            self.table[self.ranks[group]],
            tuple(self.rows[start:end].tolist()),
            self.phrases[self.phrase_of[group]],
        )

    def __iter__(self) -> Iterator[Mention]:
        return (self[group] for group in range(len(self)))

    def first(self, count: int) -> list[Mention]:
        """The oldest `count` mentions (a list shows these)."""
        return [self[group] for group in range(min(count, len(self)))]

    def articles(self) -> list[ArticleRecord]:
        return [self.table[rank] for rank in self.ranks.tolist()]

    def take(self, groups: np.ndarray, skip: np.ndarray | None = None) -> Mentions:
        """These groups, in this order, each without its first `skip[i]` rows."""
        groups = np.asarray(groups, dtype=np.int64)
        starts = self.bounds[groups] + (0 if skip is None else np.asarray(skip, dtype=np.int64))
        lengths = self.bounds[groups + 1] - starts
        bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        positions = np.repeat(starts - bounds[:-1], lengths) + np.arange(bounds[-1])
        return Mentions(
            self.table, self.ranks[groups], self.rows[positions], bounds, self.phrase_of[groups], self.phrases
        )

    def within(self, allowed: np.ndarray | None) -> Mentions:
        """The mentions of articles `allowed` keeps (a mask over the table; None keeps all)."""
        return self if allowed is None else self.take(np.flatnonzero(allowed[self.ranks]))

    @classmethod
    def union(cls, parts: Sequence[Mentions]) -> Mentions:
        """Every article any part holds, with the rows and phrase of the first part holding it."""
        offsets = np.cumsum([0, *(len(p.phrases) for p in parts)])
        lengths = np.concatenate([np.diff(p.bounds) for p in parts])
        joined = cls(
            parts[0].table,
            np.concatenate([p.ranks for p in parts]),
            np.concatenate([p.rows for p in parts]),
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            np.concatenate([p.phrase_of + offset for p, offset in zip(parts, offsets, strict=False)]),
            tuple(phrase for p in parts for phrase in p.phrases),
        )
        order = np.argsort(joined.ranks, kind="stable")  # each rank's first part first
        ranks = joined.ranks[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = ranks[1:] != ranks[:-1]
        return joined.take(order[first])


def merged(parts: Sequence[Mentions]) -> Mentions:
    """Every article any part holds, with the rows of all of them, found by the first part's
    phrase (the parts are spellings of one phrase: "G20" and "二十国集团")."""
    ranks = np.concatenate([np.repeat(p.ranks, np.diff(p.bounds)) for p in parts])
    rows = np.concatenate([p.rows for p in parts])
    order = np.lexsort((rows, ranks))
    ranks, rows = ranks[order], rows[order]
    distinct = np.ones(len(rows), dtype=bool)
    distinct[1:] = (ranks[1:] != ranks[:-1]) | (rows[1:] != rows[:-1])
    found = ArticleRows.grouping(ranks[distinct], rows[distinct])  # grouped by rank: oldest first
    phrase_of = np.zeros(len(found.numbers), dtype=np.int64)
    return Mentions(parts[0].table, found.numbers, found.rows, found.bounds, phrase_of, parts[0].phrases[:1])


def held_by(parts: Sequence[Mentions], count: int) -> np.ndarray:
    """The ranks of the articles that at least `count` of the parts hold."""
    ranks, times = np.unique(np.concatenate([p.ranks for p in parts]), return_counts=True)
    return ranks[times >= count]
