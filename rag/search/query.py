"""What a search takes and gives: a checked query, date bounds as day numbers, and Hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from rag.errors import QueryError

_EPOCH = date(1970, 1, 1)
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")
DEFAULT_MAX_QUERY_CHARS = 500


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
    if value is None or value == "":
        return None
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError as exc:
        raise QueryError(f"'{name}' must be a date like 2021-08-05, got {value!r}") from exc
    return (day - _EPOCH).days
