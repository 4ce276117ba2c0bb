"""Pure ranking logic: calibrated score fusion, near-duplicate removal, per-article diversity."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

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


def diversify(
    order: Sequence[int],
    keys: Sequence[Hashable],
    groups: Sequence[Hashable],
    k: int,
    per_group: int,
    scores: Sequence[float] | None = None,
    lead_ratio: float = 0.0,
) -> list[int]:
    """Pick k positions from a ranked list without duplicate texts.

    A group (article) gets at most `per_group` slots while other groups have hits to
    offer; when they run out, the remaining slots are filled in rank order. With `scores`
    and a `lead_ratio`, a group also keeps a slot while no later passage of another group
    scores `lead_ratio` of it: far weaker articles do not push out the rest of the one
    article that answers ("第五届数博会签约总金额" is in that article's fifth passage).

    Args:
        order: candidate positions, best first.
        keys: dedup key per position (a text hash); a key seen before is skipped.
        groups: group (article id) per position.
        k: how many to return.
        per_group: slots one group may take before others are preferred.
        scores: score per position (descending along `order`).
        lead_ratio: 0 for a strict cap.
    """
    order = list(order)
    chosen: list[int] = []
    deferred: list[int] = []
    seen: set[Hashable] = set()
    per_count: dict[Hashable, int] = {}
    for rank, position in enumerate(order):
        if keys[position] in seen:
            continue
        seen.add(keys[position])
        group = groups[position]
        if per_count.get(group, 0) >= per_group and not _leads(order[rank:], groups, scores, lead_ratio):
            deferred.append(position)
            continue
        per_count[group] = per_count.get(group, 0) + 1
        chosen.append(position)
        if len(chosen) == k:
            return chosen
    rank_of = {p: i for i, p in enumerate(order)}
    return sorted(chosen + deferred[: k - len(chosen)], key=rank_of.__getitem__)


def _leads(
    rest: Sequence[int], groups: Sequence[Hashable], scores: Sequence[float] | None, lead_ratio: float
) -> bool:
    """Whether rest[0] outscores every later passage of another group by the lead ratio."""
    if scores is None or lead_ratio <= 0:
        return False
    head = rest[0]
    rival = next((p for p in rest[1:] if groups[p] != groups[head]), None)
    return rival is None or scores[rival] < lead_ratio * scores[head]
