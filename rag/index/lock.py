"""Writing an index folder: the one build allowed at a time (between processes and between the
threads of one), and what a failed write means (a full or read-only disk), as one-line errors."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rag.errors import BuildLocked, StorageError

LOCK_FILE = ".build.lock"

# One re-entrant lock per index folder in this process, beside the file lock between processes:
# a caller that holds the lock (an upload copying files in) can run a build inside it.
_THREAD_LOCKS: dict[str, threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()
_HELD: dict[str, int] = {}


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; a second build waits up to `wait_s`, then fails clearly.

    Re-entrant within a thread: a build started while the same thread holds the lock runs.

    Raises:
        BuildLocked: another build holds the lock.
        StorageError: the index folder cannot be written (read-only, full, not ours).
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with (index_dir / LOCK_FILE).open("a"):
            pass
    except OSError as exc:
        raise storage_problem(exc, index_dir) or exc from exc
    key = str(index_dir.resolve())
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(key, threading.RLock())
    busy = BuildLocked(f"{index_dir}: another build is running (lock {LOCK_FILE}); try again later")
    acquired = thread_lock.acquire(timeout=wait_s) if wait_s > 0 else thread_lock.acquire(blocking=False)
    if not acquired:
        raise busy
    try:
        if _HELD.get(key):
            _HELD[key] += 1
            try:
                yield
            finally:
                _HELD[key] -= 1
            return
        with (index_dir / LOCK_FILE).open("a") as handle:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                        raise busy from exc
                    time.sleep(0.1)
            _HELD[key] = 1
            try:
                yield
            finally:
                _HELD[key] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        thread_lock.release()


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def is_disk_full(exc: BaseException) -> bool:
    """Whether a write failed for lack of space: ENOSPC, a quota or file size limit, or SQLite's
    "database or disk is full" / "disk I/O error" (what it reports when a write is cut short)."""
    if isinstance(exc, sqlite3.OperationalError):
        return "full" in str(exc) or "disk I/O error" in str(exc)
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE


def storage_problem(exc: BaseException, index_dir: Path) -> StorageError | None:
    """A one-line StorageError for a full or unwritable disk (OSError or SQLite), else None."""
    where = getattr(exc, "filename", None) or index_dir
    if is_disk_full(exc):
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        return StorageError(f"{where}: no space left on the disk ({reason}); free some space and build again")
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
        return StorageError(f"{where}: cannot write (read-only database); check the folder's permissions")
    if isinstance(exc, OSError) and exc.errno in _NOT_WRITABLE:
        return StorageError(f"{where}: cannot write ({exc.strerror}); check the folder's permissions")
    return None
