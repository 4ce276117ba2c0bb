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
    order: Sequence[int], keys: Sequence[Hashable], groups: Sequence[Hashable], k: int, per_group: int
) -> list[int]:
    """Pick k positions from a ranked list without duplicate texts.

    A group (article) gets at most `per_group` slots while other groups have hits to
    offer; when they run out, the remaining slots are filled in rank order.

    Args:
        order: candidate positions, best first.
        keys: dedup key per position (a text hash); a key seen before is skipped.
        groups: group (article id) per position.
        k: how many to return.
        per_group: slots one group may take before others are preferred.
    """
    chosen: list[int] = []
    deferred: list[int] = []
    seen: set[Hashable] = set()
    per_count: dict[Hashable, int] = {}
    for position in order:
        if keys[position] in seen:
            continue
        seen.add(keys[position])
        group = groups[position]
        if per_count.get(group, 0) >= per_group:
            deferred.append(position)
            continue
        per_count[group] = per_count.get(group, 0) + 1
        chosen.append(position)
        if len(chosen) == k:
            return chosen
    rank = {p: i for i, p in enumerate(order)}
    return sorted(chosen + deferred[: k - len(chosen)], key=rank.__getitem__)
