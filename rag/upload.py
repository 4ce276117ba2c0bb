"""Articles added by readers: validated before anything is written, saved under a safe name."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from rag.errors import IngestError
from rag.ingest import CORPUS_SUFFIXES, MAX_FILE_BYTES, Article, article_from_bytes

_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)


def safe_name(name: str) -> str:
    """A file name that stays inside the corpus folder: no folders, no `..`, known suffix.

    Raises:
        IngestError: a path, a hidden name, or a suffix other than .txt/.md/.html.
    """
    if not name or "/" in name or "\\" in name or name.startswith(".") or ".." in name:
        raise IngestError(f"'{name}': upload names must be plain file names, not paths")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in CORPUS_SUFFIXES:
        raise IngestError(f"'{name}': only {', '.join(CORPUS_SUFFIXES)} files can be added")
    cleaned = _UNSAFE.sub("_", stem).strip("_") or "article"
    return f"{cleaned[:100]}{suffix.lower()}"


def save_upload(name: str, data: bytes, corpus_dir: Path) -> Article:
    """Validate an uploaded article and write it into the corpus folder atomically.

    Nothing is written when the file is too large, cannot be decoded or parsed, or
    would replace a different file of the same name.

    Raises:
        IngestError: naming the file and the reason.
    """
    filename = safe_name(name)
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(f"'{name}': {len(data)} bytes is over the {MAX_FILE_BYTES} byte limit")
    if not data.strip():
        raise IngestError(f"'{name}': empty file")
    target = corpus_dir / filename
    article = article_from_bytes(data, target, corpus_dir)
    if target.exists() and target.read_bytes() != data:
        raise IngestError(f"'{name}': an article named {filename} already exists; rename the file")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    temporary = corpus_dir / f".{filename}.{uuid.uuid4().hex[:8]}.part"
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return article
