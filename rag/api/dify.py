"""Dify's External Knowledge API metadata conditions, as this index's search filters.

A condition on `date` (before, after, =, ≥, ≤, >, <), `article_id` (is, =, in) or
`category` (is, contains, in) becomes since/until/article_ids/categories. "and" joins
the conditions into one filter; "or" gives one filter per condition, searched apart
and merged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from rag.api.schemas import Condition, MetadataCondition
from rag.errors import QueryError
from rag.search.query import SearchFilters

FIELDS = ("date", "article_id", "category")
_ALIASES = {
    "date": "date", "published": "date", "publish_date": "date",
    "article_id": "article_id", "document_id": "article_id", "doc_id": "article_id",
    "category": "category", "categories": "category",
}  # fmt: skip
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Branch:
    """One search's filters; None means "no restriction"."""

    since: date | None = None
    until: date | None = None
    article_ids: frozenset[str] | None = None
    categories: frozenset[str] | None = None

    @property
    def empty(self) -> bool:
        """Whether no article can match (a closed date range or no ids left)."""
        closed = self.since is not None and self.until is not None and self.since > self.until
        return closed or self.article_ids == frozenset()

    def search_filters(self) -> SearchFilters:
        return SearchFilters(
            self.since,
            self.until,
            tuple(sorted(self.article_ids or ())),
            tuple(sorted(self.categories or ())),
        )


def branches(condition: MetadataCondition | None, categories: list[str]) -> list[Branch]:
    """The searches a metadata condition asks for (empty when nothing can match).

    Args:
        categories: the index's categories, for `contains` conditions.

    Raises:
        QueryError: an unknown field or operator, or a value of the wrong form.
    """
    if condition is None or not condition.conditions:
        return [Branch()]
    if condition.logical_operator == "or":
        found = [_narrow(Branch(), c, categories) for c in condition.conditions]
    else:
        found = [Branch()]
        for c in condition.conditions:
            found = [_narrow(found[0], c, categories)]
    return [b for b in found if not b.empty]


def _narrow(branch: Branch, condition: Condition, categories: list[str]) -> Branch:
    """`branch` further restricted by one condition."""
    name = _ALIASES.get(condition.name.strip().lower())
    operator = condition.comparison_operator.strip().lower()
    if name is None:
        raise QueryError(f"metadata_condition: unknown field '{condition.name}'. Valid: {', '.join(FIELDS)}")
    if name == "date":
        return _narrow_date(branch, operator, condition)
    if name == "article_id" and operator in ("is", "=", "in"):
        ids = frozenset(_texts(condition))
        return replace(branch, article_ids=ids if branch.article_ids is None else branch.article_ids & ids)
    if name == "category" and operator in ("is", "=", "contains", "in"):
        if branch.categories is not None:
            raise QueryError("metadata_condition: one category condition per 'and' group (use 'in')")
        wanted = _texts(condition)
        if operator == "contains":
            wanted = [c for c in categories if any(w in c for w in wanted)]
        return replace(branch, categories=frozenset(wanted))
    raise QueryError(
        f"metadata_condition: operator '{condition.comparison_operator}' is not supported for {name}"
    )


_LOWER = {
    "after": _DAY,
    ">": _DAY,
    "≥": timedelta(0),
    ">=": timedelta(0),
    "=": timedelta(0),
    "is": timedelta(0),
}
_UPPER = {
    "before": -_DAY,
    "<": -_DAY,
    "≤": timedelta(0),
    "<=": timedelta(0),
    "=": timedelta(0),
    "is": timedelta(0),
}


def _narrow_date(branch: Branch, operator: str, condition: Condition) -> Branch:
    if operator not in _LOWER and operator not in _UPPER:
        raise QueryError(f"metadata_condition: operator '{operator}' is not supported for date")
    day = _day(condition)
    since, until = branch.since, branch.until
    lower = day + _LOWER[operator] if operator in _LOWER else None
    upper = day + _UPPER[operator] if operator in _UPPER else None
    if lower is not None:
        since = lower if since is None else max(since, lower)
    if upper is not None:
        until = upper if until is None else min(until, upper)
    return replace(branch, since=since, until=until)


def _day(condition: Condition) -> date:
    try:
        return date.fromisoformat(str(condition.value)[:10])
    except ValueError:
        raise QueryError(
            f"metadata_condition: date value must look like 2021-08-05, got {condition.value!r}"
        ) from None


def _texts(condition: Condition) -> list[str]:
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not texts:
        raise QueryError(f"metadata_condition: '{condition.name}' needs a value")
    return texts
