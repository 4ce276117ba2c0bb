"""Pure evaluation arithmetic: answer normalisation, ranking metrics, percentiles, thresholds."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rag.errors import ConfigError
from rag.index.tokens import fold_text
from rag.ingest.dates import written_date

_MARKER = re.compile(r"\[\d+\]")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def normalise_answer(text: str) -> str:
    """Fold full-width to half-width (NFKC), lower-case, drop spaces and punctuation; a date
    reads the same written 2020-06-12 or 2020年6月12日."""
    return fold_text(_ISO_DATE.sub(lambda m: written_date(m[0]), text))


def strip_markers(answer: str) -> str:
    """The answer without its `[n]` citation markers."""
    return _MARKER.sub("", answer)


def answer_matches(answer: str, accepted: Sequence[str]) -> bool:
    """True when the answer contains any accepted string after normalisation."""
    folded = normalise_answer(strip_markers(answer))
    return any(normalise_answer(a) and normalise_answer(a) in folded for a in accepted)


def groups_found(answer: str, groups: Sequence[Sequence[str]], ordered: bool = False) -> int:
    """How many key-phrase groups the answer holds (any alternative of a group counts).

    With `ordered`, only groups that appear in the given order count: the longest run of
    found groups whose first positions increase.
    """
    folded = normalise_answer(strip_markers(answer))
    positions = []
    for group in groups:
        found = [folded.find(normalise_answer(a)) for a in group if normalise_answer(a)]
        found = [p for p in found if p >= 0]
        positions.append(min(found) if found else None)
    present = [p for p in positions if p is not None]
    if not ordered:
        return len(present)
    longest: list[int] = []  # longest increasing subsequence, by patience sorting
    for position in present:
        index = next((i for i, tail in enumerate(longest) if tail >= position), len(longest))
        longest[index : index + 1] = [position]
    return len(longest)


def unique_in_order(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def first_relevant_rank(ranking: Sequence[str], relevant: Sequence[str]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    wanted = set(relevant)
    for rank, item in enumerate(ranking, start=1):
        if item in wanted:
            return rank
    return None


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0-100), as numpy's default; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def parse_thresholds(items: Sequence[str]) -> dict[str, float]:
    """`["hit@1=0.9", ...]` to a dict; a malformed item names itself."""
    thresholds = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            thresholds[name.strip()] = float(value)
        except ValueError as exc:
            raise ConfigError(f"--fail-under expects METRIC=VALUE, got {item!r}") from exc
    return thresholds


def check_thresholds(metrics: dict, thresholds: dict[str, float]) -> list[str]:
    """Messages for every metric below its threshold (unknown metrics are failures too)."""
    failures = []
    for name, minimum in thresholds.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: no such metric (have {', '.join(sorted(metrics))})")
        elif value < minimum:
            failures.append(f"{name} = {value:.3f} is below {minimum}")
    return failures
