"""Vectors of an unfinished build, kept on disk so a resumed build does not embed them again."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rag.index.sentence_store import SentenceVectors

CACHE_FILE = ".embed-cache.sqlite"


class EmbeddingCache:
    """text -> float32 vector and its sentences' vectors, keyed by the embedder's identity and
    the text (no pickle: raw bytes)."""

    def __init__(self, index_dir: Path, identity: dict) -> None:
        self.path = index_dir / CACHE_FILE
        self._salt = json.dumps(identity, sort_keys=True).encode()
        self._db: sqlite3.Connection | None = sqlite3.connect(self.path)
        # WAL: worker processes read while the build writes.
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS sentences (key TEXT PRIMARY KEY, vectors BLOB NOT NULL)")
        db.commit()

    @classmethod
    def reader(cls, path: Path, identity: dict) -> EmbeddingCache:
        """A read-only view of the cache (for build workers); empty on a machine that cannot see
        the file (a worker of a remote Ray cluster embeds everything it is sent)."""
        cache = cls.__new__(cls)
        cache.path = path
        cache._salt = json.dumps(identity, sort_keys=True).encode()
        cache._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) if path.is_file() else None
        return cache

    def key(self, text: str) -> str:
        return hashlib.sha256(self._salt + b"\0" + text.encode()).hexdigest()

    def get_many(self, keys: list[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for key, blob in self._rows("vectors", keys):
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape == (dim,):
                found[key] = vector
        return found

    def get_sentences(self, keys: list[str], dim: int) -> dict[str, SentenceVectors]:
        """The stored sentence vectors of those keys that have them."""
        from rag.index.sentence_store import SentenceVectors

        found = ((key, SentenceVectors.from_bytes(blob, dim)) for key, blob in self._rows("sentences", keys))
        return {key: sentences for key, sentences in found if sentences is not None}

    def _rows(self, table: str, keys: list[str]) -> list[tuple[str, bytes]]:
        if self._db is None:
            return []
        rows = []
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            rows += self._db.execute(
                f"SELECT * FROM {table} WHERE key IN ({','.join('?' * len(batch))})", batch
            ).fetchall()
        return rows

    def put_many(
        self, keys: list[str], vectors: np.ndarray, sentences: list[SentenceVectors] | None = None
    ) -> None:
        """Store a batch durably (one transaction), so a kill right after loses nothing."""
        assert self._db is not None, "a reader's cache is never written"
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)],
            )
            if sentences is not None:
                self._db.executemany(
                    "INSERT OR REPLACE INTO sentences (key, vectors) VALUES (?, ?)",
                    [(k, s.to_bytes()) for k, s in zip(keys, sentences, strict=True)],
                )

    def discard(self) -> None:
        """Remove the cache once its vectors live in a published version."""
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
