"""Pure: which candidate sentences need their costly features — those that can change the answer.

Embedding every sentence of the retrieved passages was 87% of answer time (200 CMRC
questions, ~31 sentences each), and for who/where questions jieba's part-of-speech tagger
(its HMM for unknown words) on every sentence took most of the rest (docs/BENCHMARKS.md).
Both features are bounded before they are computed: a cosine lies in [-1, 1], and a sentence
is typed or not. So each sentence's score has a ceiling. One whose ceiling misses the refusal
threshold, or whose passage fails the score-free support rules, is never chosen as support;
once the supporting sentences are known, one whose ceiling misses `second_ratio` of the best
or the score of the last sentence still needed is never chosen either. Only the others are
completed, and `compose_answer` picks what it would with every feature known — exactly, up
to the last bits of float32 embeddings computed in other batch shapes
(tests/test_lazy_features.py compares both ways).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from rag.answer.sentence_choice import SentenceFeatures, answering, could_support
from rag.calibration import AnswerCalibration

UNKNOWN_SIMILARITY = -1.0  # a sentence not embedded ranks as if at the lowest cosine
_COSINE_CEILING = 1.0 + 1e-5  # unit float32 vectors can give 1.0000001
ROUND = 4  # sentences completed at a time while filling up an answer (each call costs ~0.5 ms)


def completed(
    features: list[SentenceFeatures],
    cal: AnswerCalibration,
    kind: str,
    type_pending: Sequence[bool],
    complete: Callable[[list[int]], list[SentenceFeatures]],
) -> list[SentenceFeatures]:
    """`features` (similarity `UNKNOWN_SIMILARITY`; `typed` False where `type_pending`) with
    every sentence `compose_answer` could choose replaced by `complete(positions)`'s."""
    done: dict[int, SentenceFeatures] = {}

    def fill(positions: list[int]) -> None:
        todo = [p for p in positions if p not in done]
        if todo:
            done.update(zip(todo, complete(todo), strict=True))

    best_cosine = _COSINE_CEILING if cal.similarity_weight >= 0 else -_COSINE_CEILING
    may_type = cal.type_bonus > 0  # a sentence still to be tagged may turn out typed
    ceiling = [  # the highest score each sentence could reach once complete
        dataclasses.replace(f, similarity=best_cosine, typed=f.typed or (waits and may_type)).score(cal)
        for f, waits in zip(features, type_pending, strict=True)
    ]
    considered = {id(f) for f in answering(features)}
    candidates = [p for p, f in enumerate(features) if id(f) in considered]
    # A sentence still to be tagged may hold the type a question needs (REQUIRED_TYPES).
    pairs = zip(features, type_pending, strict=True)
    hopeful = [dataclasses.replace(f, typed=f.typed or waits) for f, waits in pairs]
    fill([p for p in candidates if could_support(hopeful[p], cal, kind) and ceiling[p] >= cal.refuse_below])
    supported = {
        p for p, f in done.items() if could_support(f, cal, kind) and f.score(cal) >= cal.refuse_below
    }
    missing = cal.max_sentences - len(supported)
    if supported and missing > 0:
        # The best of the rest complete the answer when they reach `second_ratio` of the best:
        # completed in order of their ceiling until none left could outscore the last needed.
        floor = min(cal.second_ratio, cal.context_ratio) * max(done[p].score(cal) for p in supported)
        rest = sorted((p for p in candidates if p not in supported), key=lambda p: -ceiling[p])
        while True:
            scores = sorted((done[p].score(cal) for p in rest if p in done), reverse=True)
            threshold = max(floor, scores[missing - 1] if len(scores) >= missing else floor)
            pending = [p for p in rest if p not in done and ceiling[p] >= threshold]
            if not pending:
                break
            fill(pending[:ROUND])
    return [done.get(p, f) for p, f in enumerate(features)]
