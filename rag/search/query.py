"""What a search takes and gives: a checked query, its filters and tuning, and Hits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

from rag.config import Settings
from rag.errors import QueryError
from rag.index.days import day_date, day_number

_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")
DEFAULT_MAX_QUERY_CHARS = Settings.max_query_chars


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with where it came from."""

    rank: int
    score: float
    chunk_id: str
    article_id: str
    title: str
    date: str  # YYYY-MM-DD (Asia/Shanghai), "" when the article has no date
    text: str
    start: int
    end: int
    paragraph: int
    lexical_score: float
    dense_score: float

    def to_dict(self) -> dict:
        return asdict(self)


def clean_query(query: str, max_chars: int = DEFAULT_MAX_QUERY_CHARS) -> str:
    """Strip control characters and outer blanks; refuse empty or over-long queries."""
    if not isinstance(query, str):
        raise QueryError(f"query must be text, got {type(query).__name__}")
    cleaned = query.translate(_CONTROL).strip()
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes from a terminal arrive as lone surrogates
        raise QueryError("query is not valid UTF-8 text") from None
    if not cleaned:
        raise QueryError("query is empty; type a question")
    if len(cleaned) > max_chars:
        raise QueryError(f"query has {len(cleaned)} characters; the limit is {max_chars}")
    return cleaned


def query_day(value: str | date | None, name: str) -> int | None:
    """The day number of a date given by a user, None when not given; `name` is for the error."""
    if value is None or value == "":
        return None
    try:
        return day_number(value if isinstance(value, date) else str(value))
    except ValueError as exc:
        raise QueryError(f"'{name}' must be a date like 2021-08-05, got {value!r}") from exc


@dataclass(frozen=True)
class SearchFilters:
    """Which passages a search, an answer or a conversation may use (all inclusive; empty = any).

    Applied inside the search, so k hits still come back when passages outside rank higher.
    """

    since: date | None = None
    until: date | None = None
    article_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls,
        since: str | date | None = None,
        until: str | date | None = None,
        article_ids: Iterable[str] | None = None,
        categories: Iterable[str] | None = None,
    ) -> SearchFilters:
        """Filters from user input (YYYY-MM-DD strings or dates).

        Raises:
            QueryError: a malformed date, or `since` later than `until`.
        """
        low, high = query_day(since, "since"), query_day(until, "until")
        if low is not None and high is not None and low > high:
            raise QueryError(f"'since' ({since}) is later than 'until' ({until}); no date can match")
        return cls(
            since=None if low is None else day_date(low),
            until=None if high is None else day_date(high),
            article_ids=tuple(article_ids or ()),
            categories=tuple(categories or ()),
        )

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.article_ids or self.categories)

    @property
    def day_bounds(self) -> tuple[int | None, int | None]:
        """`since` and `until` as day numbers (None where open)."""
        return query_day(self.since, "since"), query_day(self.until, "until")

    def admits(self, day: date | None, article_id: str, categories: Iterable[str]) -> bool:
        """Whether an article of this date, id and categories passes every filter."""
        if (self.since or self.until) and (
            day is None or (self.since and day < self.since) or (self.until and day > self.until)
        ):
            return False
        if self.article_ids and article_id not in self.article_ids:
            return False
        return not self.categories or bool(set(self.categories) & set(categories))


NO_FILTERS = SearchFilters()


@dataclass(frozen=True)
class SearchTuning:
    """How a search ranks, beyond the index's calibrated weights.

    candidates: rows taken from each of the BM25 and dense top lists before fusion.
    per_article: slots one article may take while others have matches (default ~k/2).
    lead_ratio: past those slots an article keeps filling while no other article's passage
        scores this fraction of its own (0: a strict cap, as a timeline's spread needs).
    period_slack_days: passages published in a period the query names are lifted; this many
        days after it count too, when the period is what the text describes ("2022年的产量" is
        reported early in 2023).
    max_query_chars: longer queries are refused.
    """

    candidates: int = 100
    per_article: int | None = None
    lead_ratio: float = 0.75
    period_slack_days: int = 0
    max_query_chars: int = DEFAULT_MAX_QUERY_CHARS


DEFAULT_TUNING = SearchTuning()
