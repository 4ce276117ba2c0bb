"""The BM25 index over Chinese tokens (bm25s sparse matrices, saved as .npy + JSON, no pickle)."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 scores for every chunk of the corpus from a tokenised query."""

    def __init__(self, model: bm25s.BM25) -> None:
        self._model = model

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float, b: float) -> LexicalIndex:
        """Index one token list per chunk; chunk i keeps row i."""
        model = bm25s.BM25(method="lucene", k1=k1, b=b)
        model.index(corpus_tokens, show_progress=False)
        return cls(model)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Load with memory-mapped arrays, so a large index is not read whole."""
        return cls(bm25s.BM25.load(str(folder), mmap=True, load_corpus=False))

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), allow_pickle=False)

    @property
    def size(self) -> int:
        return int(self._model.scores["num_docs"])

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each token; unseen tokens get the maximum."""
        indptr = self._model.scores["indptr"]
        vocab = self._model.vocab_dict
        n = self.size
        result = {}
        for token in tokens:
            t = vocab.get(token)
            df = 0 if t is None else int(indptr[t + 1] - indptr[t])
            result[token] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return result

    def known(self, tokens: list[str]) -> set[str]:
        """The tokens that occur somewhere in the corpus."""
        return {t for t in tokens if t in self._model.vocab_dict}

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (zeros when no query token is in the vocabulary)."""
        known = [t for t in query_tokens if t in self._model.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return self._model.get_scores(known)
