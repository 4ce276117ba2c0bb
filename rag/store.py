"""The index directory on disk: versioned, checksummed, swapped in atomically, locked for writers.

Layout::

    index/CURRENT              name of the live version (replaced atomically)
    index/versions/<name>/     manifest.json, meta.sqlite, vectors.npy, dense.faiss,
                               chunk_article.npy, chunk_day.npy, bm25/
    index/.build.lock          held by the one build allowed at a time

A build writes a complete new version next to the old one and only then points
CURRENT at it, so a crash at any moment leaves the previous version usable.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IndexLoadError

FORMAT_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
LOCK_FILE = ".build.lock"
NO_DAY = np.iinfo(np.int32).min  # chunk_day for articles without a date

_SCHEMA = """
CREATE TABLE articles (
    num INTEGER PRIMARY KEY, article_id TEXT UNIQUE NOT NULL, title TEXT NOT NULL,
    date TEXT, display_date TEXT, date_source TEXT, author TEXT, categories TEXT,
    source_path TEXT, content_hash TEXT, text TEXT NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_num INTEGER NOT NULL,
    paragraph INTEGER, start INTEGER, "end" INTEGER, text TEXT NOT NULL, tokens TEXT NOT NULL
);
CREATE INDEX chunks_by_article ON chunks(article_num);
"""
ARTICLE_COLUMNS = (
    "num", "article_id", "title", "date", "display_date", "date_source", "author",
    "categories", "source_path", "content_hash", "text",
)  # fmt: skip
CHUNK_COLUMNS = ("row", "chunk_id", "article_num", "paragraph", "start", "end", "text", "tokens")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; a second build waits up to `wait_s`, then fails clearly."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK_FILE).open("a") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    raise IndexLoadError(
                        f"{index_dir}: another build is running (lock {LOCK_FILE}); try again later"
                    ) from exc
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_version(index_dir: Path) -> Path | None:
    """The live version folder, or None when no index was built yet."""
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / VERSIONS / name
    if not name or "/" in name or not folder.is_dir():
        raise IndexLoadError(f"{pointer}: points at missing version '{name}'; run `rag build --rebuild`")
    return folder


def new_version_dir(index_dir: Path) -> Path:
    """A fresh temporary folder, inside the index so the final rename stays on one file system."""
    folder = index_dir / f".tmp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


def publish_version(index_dir: Path, staged: Path, manifest: dict) -> Path:
    """Checksum the staged files, write the manifest, and make the version live atomically."""
    files = {}
    for path in sorted(p for p in staged.rglob("*") if p.is_file()):
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
        files[path.relative_to(staged).as_posix()] = {
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
        }
    manifest = {**manifest, "format_version": FORMAT_VERSION, "files": files}
    _write_json_durably(staged / "manifest.json", manifest)
    _fsync_dir(staged)

    versions = index_dir / VERSIONS
    versions.mkdir(exist_ok=True)
    final = versions / staged.name.removeprefix(".tmp-")
    os.rename(staged, final)
    _fsync_dir(versions)
    previous = index_dir / CURRENT
    previous_name = previous.read_text(encoding="utf-8").strip() if previous.is_file() else ""
    _write_text_durably(index_dir / CURRENT, final.name)
    remove_stale_versions(index_dir, keep={final.name, previous_name})
    return final


def remove_stale_versions(index_dir: Path, keep: set[str]) -> None:
    """Delete old versions and leftovers of interrupted builds (only under the build lock).

    The version just replaced is kept: a reader that read CURRENT a moment before the
    swap can still open it. Readers holding older versions keep their open files
    (unlinked files live on until closed).
    """
    for leftover in index_dir.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    versions = index_dir / VERSIONS
    if versions.is_dir():
        for folder in versions.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def _write_text_durably(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_json_durably(path: Path, data: dict) -> None:
    _write_text_durably(path, json.dumps(data, ensure_ascii=False, indent=2))


def read_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexLoadError(f"{path}: unreadable manifest ({exc}); run `rag build --rebuild`") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexLoadError(
            f"{path}: format version {manifest.get('format_version')} is not {FORMAT_VERSION}; "
            "run `rag build --rebuild`"
        )
    return manifest


def verify_files(folder: Path, manifest: dict) -> None:
    """Check every file against the manifest's size and SHA-256.

    Raises:
        IndexLoadError: naming the first missing, truncated or altered file.
    """
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"{path}: missing; run `rag build --rebuild`")
        if path.stat().st_size != expected["bytes"] or sha256_file(path) != expected["sha256"]:
            raise IndexLoadError(
                f"{path}: checksum does not match the manifest (damaged or altered); "
                "run `rag build --rebuild`"
            )


def create_metadata_db(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.executescript(_SCHEMA)
    return connection


def open_metadata_db(path: Path) -> sqlite3.Connection:
    """Read-only connection, shareable across threads (SQLite serialises access)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        connection.execute("SELECT count(*) FROM chunks").fetchone()
    except sqlite3.DatabaseError as exc:
        raise IndexLoadError(
            f"{path}: not a readable metadata database ({exc}); run `rag build --rebuild`"
        ) from exc
    connection.row_factory = sqlite3.Row
    return connection


def save_array(path: Path, array: np.ndarray) -> None:
    np.save(path, array, allow_pickle=False)


def load_array(path: Path, mmap: bool = True) -> np.ndarray:
    """Load an .npy array; object arrays (which would need pickle) are refused."""
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexLoadError(f"{path}: unreadable array ({exc}); run `rag build --rebuild`") from exc


@dataclass(frozen=True)
class VersionFiles:
    """Names of the files inside one version folder."""

    folder: Path

    @property
    def metadata(self) -> Path:
        return self.folder / "meta.sqlite"

    @property
    def vectors(self) -> Path:
        return self.folder / "vectors.npy"

    @property
    def dense(self) -> Path:
        return self.folder / "dense.faiss"

    @property
    def bm25(self) -> Path:
        return self.folder / "bm25"

    @property
    def chunk_article(self) -> Path:
        return self.folder / "chunk_article.npy"

    @property
    def chunk_day(self) -> Path:
        return self.folder / "chunk_day.npy"
