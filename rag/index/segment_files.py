"""The files of one segment: their names, the SQLite metadata, memory-mapped arrays, and the
checksums that prove them unchanged since the build (layout in rag.index.store)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IndexDamaged

# Files up to this size are hashed on every open; larger ones when their size or mtime changed
# since the build (`rag verify` hashes everything): hashing every byte of a million-chunk index
# would take most of the time allowed to open it. What stays hashed is the small per-chunk
# arrays, vocabularies, descriptions and small segments' files.
ALWAYS_HASH_BYTES = 4 << 20

_SCHEMA = """
CREATE TABLE articles (
    num INTEGER PRIMARY KEY, article_id TEXT UNIQUE NOT NULL, title TEXT NOT NULL,
    date TEXT, display_date TEXT, date_source TEXT, author TEXT, categories TEXT,
    source_path TEXT, content_hash TEXT, source_size INTEGER, source_mtime_ns INTEGER, url TEXT,
    text TEXT NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_num INTEGER NOT NULL,
    paragraph INTEGER, start INTEGER, "end" INTEGER, text TEXT NOT NULL
);
CREATE INDEX chunks_by_article ON chunks(article_num);
CREATE INDEX articles_by_content ON articles(content_hash);
"""
ARTICLE_COLUMNS = (
    "num", "article_id", "title", "date", "display_date", "date_source", "author",
    "categories", "source_path", "content_hash", "source_size", "source_mtime_ns", "url", "text",
)  # fmt: skip


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(folder: Path, files: dict, full: bool = False, hash_below: int | None = None) -> None:
    """Check files against their recorded size and SHA-256.

    Every file's size is checked. Its content is hashed when `full`, when it is smaller
    than `hash_below` (default `ALWAYS_HASH_BYTES`), or when its mtime differs from the
    one recorded at build time (a file rewritten in place); a larger file untouched since
    the build is trusted without reading it.

    Raises:
        IndexLoadError: naming the first missing, truncated or altered file.
    """
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexDamaged(f"{path}: missing")
        stat = path.stat()
        if stat.st_size != expected["bytes"]:
            raise IndexDamaged(f"{path}: size differs from the manifest (truncated?)")
        limit = ALWAYS_HASH_BYTES if hash_below is None else hash_below
        untouched = stat.st_mtime_ns == expected.get("mtime_ns") and stat.st_size >= limit
        if (full or not untouched) and sha256_file(path) != expected["sha256"]:
            raise IndexDamaged(f"{path}: checksum does not match the manifest (damaged or altered)")


def create_metadata_db(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.executescript(_SCHEMA)
    return connection


def open_metadata_db(path: Path) -> sqlite3.Connection:
    """Read-only connection, shareable across threads (SQLite serialises access)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        connection.execute("SELECT row FROM chunks LIMIT 1").fetchone()  # count(*) would read it all
    except sqlite3.DatabaseError as exc:
        raise IndexDamaged(f"{path}: not a readable metadata database ({exc})") from exc
    connection.row_factory = sqlite3.Row
    return connection


def save_array(path: Path, array: np.ndarray) -> None:
    np.save(path, array, allow_pickle=False)


# numpy reads .npy headers with ast.literal_eval, which CPython 3.11 cannot run in two
# threads at once (gh-106905): every np.load in the process takes this lock.
LOAD_LOCK = threading.Lock()


def prefetch(path: Path) -> None:
    """Ask the kernel to read a file into the page cache in the background (does not block).

    Memory-mapped postings are then paged in before the first questions touch them.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)


def plain_view(array: np.ndarray) -> np.ndarray:
    """A plain ndarray over a memory map: slicing an np.memmap costs ~3 µs of Python per slice,
    which added up to milliseconds per query over BM25 postings."""
    return array.view(np.ndarray) if isinstance(array, np.memmap) else array


def load_array(path: Path, mmap: bool = True) -> np.ndarray:
    """Load an .npy array; object arrays (which would need pickle) are refused.

    Only the header is parsed under `LOAD_LOCK`; an array read into memory is copied from
    the map outside it, so threads opening segments read their files in parallel.
    """
    try:
        with LOAD_LOCK:
            mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        return plain_view(mapped) if mmap else np.array(mapped)
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"{path}: unreadable array ({exc})") from exc


@dataclass(frozen=True)
class SegmentFiles:
    """Paths of the files inside one segment folder, all derived from it."""

    folder: Path

    @property
    def metadata(self) -> Path:  # articles and chunks
        return self.folder / "meta.sqlite"

    @property
    def vectors(self) -> Path:  # float32, one row per chunk
        return self.folder / "vectors.npy"

    @property
    def dense(self) -> Path:  # the vector index
        return self.folder / "dense.faiss"

    @property
    def bm25(self) -> Path:  # postings arrays
        return self.folder / "bm25"

    @property
    def chunk_article(self) -> Path:  # article number of each row
        return self.folder / "chunk_article.npy"

    @property
    def chunk_day(self) -> Path:  # day number of each row (rag.index.days)
        return self.folder / "chunk_day.npy"

    @property
    def chunk_text_hash(self) -> Path:  # tokens.text_hash of each row's text: reprints alike
        return self.folder / "chunk_text_hash.npy"

    @property
    def chunk_sentences(self) -> Path:  # int64, rows + 1: row r's sentences are first[r]:first[r + 1]
        return self.folder / "chunk_sentences.npy"

    @property
    def sentence_bounds(self) -> Path:  # int32 (sentences, 2): start and end in the chunk's text
        return self.folder / "sentence_bounds.npy"

    @property
    def sentence_vectors(self) -> Path:  # int8 (sentences, dim): directions (rag.index.sentence_vectors)
        return self.folder / "sentence_vectors.npy"
