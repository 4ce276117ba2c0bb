"""The article and chunk records of a loaded version: what a hit, a citation or the article
browser shows, read from each segment's SQLite metadata."""

from __future__ import annotations

import datetime
import functools
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.errors import QueryError
from rag.index.segment import Segment
from rag.index.version import IndexVersion

ARTICLE_TEXT_CACHE = 1024  # articles whose text one loaded version keeps in memory
_CHUNK_SQL = (
    'SELECT c.row, c.chunk_id, c.start, c."end", c.paragraph, c.text, '
    "a.article_id, a.title, a.display_date FROM chunks c JOIN articles a ON a.num = c.article_num "
)


@dataclass(frozen=True)
class ChunkRecord:
    """One passage with its place in the article and the article's id, title and date."""

    chunk_id: str
    article_id: str
    title: str
    date: str  # YYYY-MM-DD (Beijing), "" when the article has no date
    paragraph: int
    start: int
    end: int
    text: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ChunkRecord:
        return cls(
            row["chunk_id"], row["article_id"], row["title"], row["display_date"] or "",
            row["paragraph"], row["start"], row["end"], row["text"],
        )  # fmt: skip


@dataclass(frozen=True)
class ArticleRecord:
    """One live article as the catalog lists it (no text)."""

    article_id: str
    title: str
    date: str  # YYYY-MM-DD (Beijing), "" when unknown
    author: str

    @property
    def day(self) -> datetime.date | None:
        return datetime.date.fromisoformat(self.date) if self.date else None


@dataclass(frozen=True)
class IndexedArticle:
    """One article as the index holds it: metadata and the whole cleaned text."""

    num: int  # global article number (see IndexVersion)
    article_id: str
    title: str
    date: str  # YYYY-MM-DD (Beijing), "" when unknown
    published: str  # the full timestamp as read from the file, "" when unknown
    date_source: str  # where the date came from (front matter, text, file name, …)
    author: str
    categories: tuple[str, ...]
    source_path: str
    text: str
    url: str = ""  # the original web page, when the article's front matter names one

    @property
    def day(self) -> datetime.date | None:
        return datetime.date.fromisoformat(self.date) if self.date else None

    @classmethod
    def from_row(cls, num: int, row: sqlite3.Row | Mapping[str, Any]) -> IndexedArticle:
        """The article of an `articles` row (segment_files.ARTICLE_COLUMNS; `url` may be missing)."""
        return cls(
            num=num,
            article_id=row["article_id"],
            title=row["title"],
            date=row["display_date"] or "",
            published=row["date"] or "",
            date_source=row["date_source"] or "",
            author=row["author"] or "",
            categories=tuple(json.loads(row["categories"] or "[]")),
            source_path=row["source_path"] or "",
            text=row["text"],
            url=(row["url"] or "") if "url" in row.keys() else "",  # noqa: SIM118 (a Row's `in` reads values)
        )


@dataclass(frozen=True)
class SourceFile:
    """What a build compares to tell whether an article's file changed."""

    content_hash: str
    source_size: int | None
    source_mtime_ns: int | None


class RecordStore:
    """Lookups of articles and chunks by row, by article id and by category (thread-safe)."""

    def __init__(self, version: IndexVersion) -> None:
        self.version = version
        self._numbers: dict[str, int] | None = None
        self._categories: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        # Answer strategies read whole articles; the same few are read again and again.
        self.article_text = functools.lru_cache(maxsize=ARTICLE_TEXT_CACHE)(self._article_text)

    def chunks(self, rows: np.ndarray | list[int]) -> list[ChunkRecord]:
        """Records of global rows, in the given order (one SQL query per segment)."""
        return [ChunkRecord.from_row(r) for r in self._in_order(rows, _CHUNK_SQL, "c.row")]

    def chunk_texts(self, rows: np.ndarray) -> list[str]:
        """The texts of global rows, in the given order: half the pages `chunks` reads (no join
        with the articles), for checks that need the text alone."""
        return [r["text"] for r in self._in_order(rows, "SELECT row, text FROM chunks", "row")]

    def _in_order(self, rows: np.ndarray | list[int], select: str, row_column: str) -> list[sqlite3.Row]:
        """`select`'s results (its first column the local row) for global rows, in their order."""
        rows = np.asarray(rows, dtype=np.int64)
        found: list[sqlite3.Row | None] = [None] * len(rows)
        for segment, positions, local in self.version.by_segment(rows):
            sql = f"{select} WHERE {row_column} IN ({','.join('?' * len(local))})"
            by_row = {r[0]: r for r in segment.query(sql, local.tolist())}
            for position, local_row in zip(positions.tolist(), local.tolist(), strict=True):
                found[position] = by_row[local_row]
        return [r for r in found if r is not None]

    def _lookups(self) -> dict[str, int]:
        """article_id -> number and category -> numbers, read once on the first filtered query."""
        with self._lock:
            if self._numbers is None:
                numbers: dict[str, int] = {}
                by_category: dict[str, list[int]] = {}
                for number, article_id, categories in self._live_categories():
                    numbers[article_id] = number
                    for category in categories:
                        by_category.setdefault(category, []).append(number)
                self._categories = {c: np.asarray(n, dtype=np.int32) for c, n in by_category.items()}
                self._numbers = numbers
            return self._numbers

    def _live_categories(self) -> Iterator[tuple[int, str, list[str]]]:
        """(global number, id, categories) of every live article, without its text."""
        deleted = set(self.version.deleted_articles.tolist())
        sql = "SELECT num, article_id, categories FROM articles"
        for segment, offset in self.version.segment_articles():
            for num, article_id, categories in segment.query(sql):
                if offset + num not in deleted:
                    yield offset + num, article_id, json.loads(categories or "[]")

    def source_files(self) -> dict[str, SourceFile]:
        """Every live article's file fingerprint by id (one column query, no article text)."""
        deleted = set(self.version.deleted_articles.tolist())
        sql = "SELECT num, article_id, content_hash, source_size, source_mtime_ns FROM articles"
        return {
            article_id: SourceFile(digest, size, mtime)
            for segment, offset in self.version.segment_articles()
            for num, article_id, digest, size, mtime in segment.query(sql)
            if offset + num not in deleted
        }

    def article_categories(self) -> dict[str, list[str]]:
        """Every live article's categories by id (one column query, no article text)."""
        return {article_id: categories for _, article_id, categories in self._live_categories()}

    def article_numbers(self, article_ids: tuple[str, ...], categories: tuple[str, ...]) -> np.ndarray:
        """Numbers of the live articles among these ids (all, if none given) that are filed
        under any of these categories (any, if none given)."""
        numbers = self._lookups()
        chosen = np.asarray([numbers[a] for a in article_ids if a in numbers], dtype=np.int32)
        if categories:
            parts = [self._categories.get(c, np.zeros(0, np.int32)) for c in categories]
            in_categories = np.unique(np.concatenate(parts))
            chosen = np.intersect1d(chosen, in_categories) if article_ids else in_categories
        return chosen

    def category_names(self) -> list[str]:
        """Every category a live article is filed under."""
        self._lookups()
        return sorted(self._categories)

    def article(self, article_id: str) -> IndexedArticle:
        """The whole cleaned article with its metadata (for "open the article").

        Raises:
            QueryError: no live article has this id.
        """
        num, segment, local = self._owner(article_id)
        return IndexedArticle.from_row(num, segment.query("SELECT * FROM articles WHERE num = ?", [local])[0])

    def _owner(self, article_id: str) -> tuple[int, Segment, int]:
        """A live article's global number, its segment and its number there.

        Raises:
            QueryError: no live article has this id.
        """
        num = self._lookups().get(article_id)
        if num is None:
            raise QueryError(f"unknown article_id '{article_id}'")
        return (num, *self.version.article_owner(num))

    def _article_text(self, article_id: str) -> str:
        return self.article(article_id).text

    def article_chunks(self, article_id: str) -> list[ChunkRecord]:
        """The article's passages in reading order.

        Raises:
            QueryError: no live article has this id.
        """
        _, segment, local = self._owner(article_id)
        rows = segment.query(f"{_CHUNK_SQL} WHERE c.article_num = ? ORDER BY c.row", [local])
        return [ChunkRecord.from_row(r) for r in rows]

    def live_articles(self) -> list[ArticleRecord]:
        """Every live article's id, title, date and author, in article-number order."""
        deleted = set(self.version.deleted_articles.tolist())
        sql = "SELECT num, article_id, title, display_date, author FROM articles ORDER BY num"
        return [
            ArticleRecord(row["article_id"], row["title"], row["display_date"] or "", row["author"] or "")
            for segment, offset in self.version.segment_articles()
            for row in segment.query(sql)
            if offset + row["num"] not in deleted
        ]

    def chunk_counts(self) -> dict[str, int]:
        """How many live passages each live article has, by article id."""
        version = self.version
        rows = version.chunk_article if version.alive is None else version.chunk_article[version.alive]
        counts = np.bincount(rows, minlength=version.article_slots)
        return {aid: int(counts[num]) for num, aid in enumerate(self.article_ids()) if counts[num]}

    def article_ids(self) -> list[str]:
        """Article ids by global article number (as in `IndexVersion.chunk_article`), deleted ones too."""
        return [
            aid
            for s in self.version.segments
            for (aid,) in s.query("SELECT article_id FROM articles ORDER BY num")
        ]

    def chunk_column(self, column: str) -> list[str]:
        """One column (`chunk_id`, `text`, or its article's `title`) for every row.

        For evaluation and calibration on small indexes; a large index would not fit.
        """
        sql = {
            "chunk_id": "SELECT chunk_id FROM chunks ORDER BY row",
            "text": "SELECT text FROM chunks ORDER BY row",
            "title": "SELECT a.title FROM chunks c JOIN articles a ON a.num = c.article_num ORDER BY c.row",
        }
        if column not in sql:
            raise QueryError(f"unknown chunk column '{column}'. Valid: {', '.join(sql)}")
        return [value for segment in self.version.segments for (value,) in segment.query(sql[column])]
