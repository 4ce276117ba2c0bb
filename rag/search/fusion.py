"""Pure ranking logic: calibrated score fusion, near-duplicate removal, per-article diversity."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.calibration import FusionWeights
from rag.index.tokens import fold_text


def fuse(lexical: np.ndarray, dense: np.ndarray, weights: FusionWeights) -> np.ndarray:
    """Fused scores for candidate rows given their raw BM25 and cosine scores."""
    best = float(lexical.max()) if lexical.size else 0.0
    lexical_norm = lexical / best if best > 0 else np.zeros_like(lexical)
    return weights.lexical * lexical_norm + weights.dense * dense


def dedup_key(text: str) -> str:
    """Text with width, case, spaces and punctuation folded: reprints compare equal."""
    return fold_text(text)


@dataclass(frozen=True)
class Spread:
    """How a ranking's slots spread over groups (articles): `per_group` slots each while other
    groups have hits to offer; past them a group keeps filling while no later passage of another
    group scores `lead_ratio` of its own (0: a strict cap)."""

    per_group: int
    lead_ratio: float = 0.0


def diversify(
    keys: Sequence[Hashable], groups: Sequence[Hashable], k: int, spread: Spread, scores: Sequence[float] = ()
) -> list[int]:
    """Pick k positions of a ranked list (position 0 best) without duplicate texts, spread over
    groups; when the other groups run out, the remaining slots are filled in rank order. The
    lead keeps far weaker articles from pushing out the rest of the one article that answers
    ("第五届数博会签约总金额" is in that article's fifth passage).

    Args:
        keys: dedup key per position (a text hash); a key seen before is skipped.
        groups: group (article id) per position.
        k: how many to return.
        spread: slots per group and the lead that lifts the cap.
        scores: score per position (descending); without them the cap is strict.
    """
    order = range(len(keys))
    chosen: list[int] = []
    deferred: list[int] = []
    seen: set[Hashable] = set()
    per_count: dict[Hashable, int] = {}
    for position in order:
        if keys[position] in seen:
            continue
        seen.add(keys[position])
        group = groups[position]
        capped = per_count.get(group, 0) >= spread.per_group
        if capped and not _leads(order[position:], groups, scores, spread):
            deferred.append(position)
            continue
        per_count[group] = per_count.get(group, 0) + 1
        chosen.append(position)
        if len(chosen) == k:
            return chosen
    return sorted(chosen + deferred[: k - len(chosen)])


def _leads(rest: Sequence[int], groups: Sequence[Hashable], scores: Sequence[float], spread: Spread) -> bool:
    """Whether rest[0] outscores every later passage of another group by the spread's lead."""
    if not scores or spread.lead_ratio <= 0:
        return False
    head = rest[0]
    rival = next((p for p in rest[1:] if groups[p] != groups[head]), None)
    return rival is None or scores[rival] < spread.lead_ratio * scores[head]
