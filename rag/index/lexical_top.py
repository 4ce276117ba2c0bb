"""The best BM25 rows of a query without adding up the postings of its most frequent terms.

A query's character bigrams and common words ("发展", "的发") are posted under a large share
of a big corpus: adding their postings to every row is most of a search at 100k+ chunks, yet
their IDF is near 0. Rows are ranked without the most frequent terms while these together
weigh at most `TAIL_SHARE` of the query; the scores handed on (`LexicalTop.at`) still count
them, looked up for just the rows asked about. A row can only miss the top list this way when
it is within those terms' small weight of its last place, far below the few passages a search
returns (docs/BENCHMARKS.md: the same top 10 on the seed, news and CMRC questions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.index.lexical import LexicalIndex, QueryTerm
from rag.index.segment import rows_by_segment

# A term posted under fewer rows than this always ranks: leaving it out would save little.
_CHEAP_POSTINGS = 2048
# The share of a query's weight its most frequent terms may carry and still not rank.
TAIL_SHARE = 0.05


@dataclass(frozen=True)
class LexicalTop:
    """The best rows of one query, and the BM25 scores of any rows."""

    rows: np.ndarray  # int64, ascending: up to `pool` allowed rows with a positive score
    index: LexicalIndex
    ranked: np.ndarray  # float32 per row: the scores from the terms that ranked (0: not allowed)
    tail: list[QueryTerm]  # the terms left out of ranking

    def at(self, rows: np.ndarray) -> np.ndarray:
        """Whole BM25 scores of allowed `rows` (as `LexicalIndex.scores` gives, up to float
        rounding): the ranked part plus the left-out terms' postings in these rows."""
        out = self.ranked[rows].copy()
        for s, picked, local in rows_by_segment(self.index.offsets, rows) if self.tail else ():
            segment = self.index.segments[s]
            for term in self.tail:
                position = term.positions[s]
                if position is not None:
                    out[picked] += term.weight * segment.tf_parts_at(position, local)
        return out


def lexical_top(index: LexicalIndex, tokens: list[str], pool: int, allowed: np.ndarray | None) -> LexicalTop:
    """Up to `pool` allowed rows with a positive score, the best by BM25 (see the module)."""
    terms = index.query_terms(tokens)
    ranking, tail = _split(terms, pool)
    scores = np.zeros(index.size, dtype=np.float32)
    index.add(ranking, scores)
    if allowed is not None:
        scores[~allowed] = 0.0
        if tail and np.count_nonzero(scores) < pool:  # a filter left few rows: rank them by every term
            index.add(tail, scores)
            scores[~allowed], tail = 0.0, []
    best = (
        np.argpartition(-scores, min(pool, len(scores) - 1))[:pool] if len(scores) else np.zeros(0, np.int64)
    )
    return LexicalTop(np.sort(best[scores[best] > 0]).astype(np.int64), index, scores, tail)


def _split(terms: list[QueryTerm], pool: int) -> tuple[list[QueryTerm], list[QueryTerm]]:
    """The terms that rank, in query order, and the most frequent ones left out: each with
    many postings, together at most `TAIL_SHARE` of the query's weight."""
    budget = TAIL_SHARE * sum(float(t.weight) for t in terms)
    tail: list[QueryTerm] = []
    for term in sorted(terms, key=lambda t: -t.doc_freq):
        if term.doc_freq <= max(_CHEAP_POSTINGS, pool) or float(term.weight) > budget:
            break
        budget -= float(term.weight)
        tail.append(term)
    left_out = {id(t) for t in tail}
    return [t for t in terms if id(t) not in left_out], tail
