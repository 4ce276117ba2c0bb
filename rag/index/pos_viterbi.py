"""jieba's part-of-speech HMM decoded with numpy: the same tags, several times faster (#19).

Who/where questions check candidate sentences for a person's or a place's name with jieba's
tagger, and its HMM for words not in the dictionary (`jieba.posseg.viterbi`, pure Python over
256 states) was most of the slowest answers' time. This decodes the same model with the same
arithmetic, one numpy step per character: every score is the same sum of the same float64
numbers, and ties go to the greatest state as Python's `max` over (score, state) pairs gives
them, so the tags are identical (tests/test_pos_viterbi.py compares both on every corpus
sentence). `install` puts it in place of jieba's function.
"""

from __future__ import annotations

import functools

import numpy as np

MIN_FLOAT = -3.14e100  # jieba's emission for a character a state never emits
State = tuple[str, str]  # (B/M/E/S, part of speech)


class PosHmm:
    """jieba.posseg's start, transition and emission tables as arrays over sorted states."""

    def __init__(self, start_p: dict, trans_p: dict, emit_p: dict, char_states: dict) -> None:
        self.states: list[State] = sorted(trans_p)
        self._number = {state: i for i, state in enumerate(self.states)}
        size = len(self.states)
        self.start = np.array([start_p[s] for s in self.states], dtype=np.float64)
        self.trans = np.full((size, size), -np.inf)
        for source, targets in trans_p.items():
            for target, p in targets.items():
                self.trans[self._number[source], self._number[target]] = p
        self.has_next = np.array([len(trans_p[s]) > 0 for s in self.states])
        self._emit_p, self._char_states = emit_p, char_states
        self._all = np.arange(size)

    @functools.lru_cache(maxsize=16384)  # noqa: B019 - one model per process, kept for its life
    def emission(self, char: str) -> np.ndarray:
        return np.array([self._emit_p[s].get(char, MIN_FLOAT) for s in self.states], dtype=np.float64)

    @functools.lru_cache(maxsize=16384)  # noqa: B019
    def allowed(self, char: str) -> np.ndarray:
        """States the character may take (all when the table does not list it), ascending."""
        listed = self._char_states.get(char)
        return self._all if listed is None else np.array(sorted(self._number[s] for s in listed))

    def decode(self, text: str) -> tuple[float, list[State]]:
        """jieba's `viterbi(text, ...)`: the best score and a state per character."""
        present = self.allowed(text[0])
        scores = self.start[present] + self.emission(text[0])[present]
        back: list[np.ndarray] = []
        steps: list[np.ndarray] = [present]
        for char in text[1:]:
            previous = present[self.has_next[present]]
            following = np.isfinite(self.trans[previous]).any(axis=0)
            wanted = self.allowed(char)
            present = wanted[following[wanted]]
            if not len(present):
                present = np.flatnonzero(following) if following.any() else self._all
            kept = scores[self.has_next[steps[-1]]]
            table = (kept[:, None] + self.trans[np.ix_(previous, present)]) + self.emission(char)[present]
            # Python's max over (score, state) pairs: of equal scores the greatest state wins.
            best = len(previous) - 1 - np.argmax(table[::-1], axis=0)
            scores = table[best, np.arange(len(present))]
            back.append(previous[best])
            steps.append(present)
        last = len(scores) - 1 - int(np.argmax(scores[::-1]))
        state, route = int(steps[-1][last]), []
        for position in range(len(text) - 1, -1, -1):
            route.append(self.states[state])
            if position:
                state = int(back[position - 1][np.searchsorted(steps[position], state)])
        return float(scores[last]), route[::-1]

    def viterbi(self, obs: str, *_tables: dict) -> tuple[float, list[State]]:
        """`decode` with jieba's signature (its tables are this model's)."""
        return self.decode(obs)


def install() -> None:
    """Let jieba's tagger decode with `PosHmm` (its tables, loaded when posseg is imported)."""
    from jieba import posseg

    if not isinstance(getattr(posseg.viterbi, "__self__", None), PosHmm):
        model = PosHmm(posseg.start_P, posseg.trans_P, posseg.emit_P, posseg.char_state_tab_P)
        posseg.viterbi = model.viterbi
