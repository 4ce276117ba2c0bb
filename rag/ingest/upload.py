"""Articles added by readers: validated before anything is written, saved under a safe name,
indexed under the build lock, and removed again when they could not be indexed."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError
from rag.ingest.articles import MAX_FILE_BYTES, Article, article_from_bytes
from rag.ingest.files import CORPUS_SUFFIXES, article_id_for

_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)
MAX_STEM_BYTES = 200


@dataclass(frozen=True)
class Upload:
    """A file to add from outside the corpus folder: the name it had and its bytes."""

    name: str
    data: bytes


# Why an upload was refused, for readers: in Chinese, and never with a path of the server.
_READER_REASONS = (
    ("byte limit", f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB 上限"),
    ("empty file", "文件是空的"),
    ("files can be added", f"只能添加 {' / '.join(CORPUS_SUFFIXES)} 文件"),
    ("plain file names", "文件名不能包含路径"),
    ("same content", "与语料中已有的文章内容相同"),
    ("already exists", "语料中已有同名的另一篇文章，请改名后再上传"),
    ("binary file", "不是文本文件"),
    ("not UTF-8 or GB18030", "无法识别文字编码（请使用 UTF-8 或 GB18030）"),
    ("UTF-16", "UTF-16 编码有误"),
    ("front matter", "文件开头的 YAML 信息（front matter）格式有误"),
    ("no text", "清理后没有正文"),
    ("no body text", "清理后没有正文"),
    ("not a regular file", "不是普通文件"),
)


def reader_reason(reason: str) -> str:
    """A refusal reason as a reader should see it: Chinese, without file system paths."""
    return next((text for key, text in _READER_REASONS if key in reason), "文件无法解析，请检查格式后重试")


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
    # File systems allow 255 bytes a name (a Chinese character is 3), with room for the temp prefix.
    shortened = cleaned.encode()[:MAX_STEM_BYTES].decode(errors="ignore")
    return f"{shortened}{suffix.lower()}"


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
    article = article_from_bytes(data, target, article_id_for(target, corpus_dir))
    if target.exists() and target.read_bytes() != data:
        raise IngestError(f"'{name}': an article named {filename} already exists; rename the file")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    temporary = corpus_dir / f".{filename}.{uuid.uuid4().hex[:8]}.part"
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return article
