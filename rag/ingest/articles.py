"""Corpus files to clean Article records: decoding, front matter, dates, both seed formats."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from rag.errors import IngestError
from rag.ingest.clean import drop_repeated_paragraphs, html_to_paragraphs, text_to_paragraphs
from rag.ingest.dates import DISPLAY_TZ, FIRST_YEAR, LAST_YEAR, parse_article_date
from rag.ingest.files import corpus_file, scan_corpus

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_TEXT_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_LOOKS_HTML = re.compile(r"<(p|div|br|span|font|a|img|html|body)\b", re.I)
MAX_FILE_BYTES = 20_000_000
MAX_FRONT_MATTER_CHARS = 20_000
MAX_FRONT_MATTER_ALIASES = 20
# C0 controls but tab and newline, DEL and C1 controls: NUL bytes deep in a file, terminal escapes.
_CONTROL = dict.fromkeys([*(c for c in range(32) if chr(c) not in "\t\n\r"), *range(127, 160)])
# A date this far past the build is kept (an embargoed article, a clock) but reported.
FUTURE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Article:
    """One cleaned news article; `paragraphs` is the text the index is built from."""

    article_id: str
    title: str
    paragraphs: list[str]
    date: datetime | None = None
    date_source: str = "none"  # "front_matter", "text" or "none"
    author: str = ""
    categories: list[str] = field(default_factory=list)
    source_path: str = ""
    content_hash: str = ""
    url: str = ""  # the original web page, when the front matter names one (http/https only)
    warnings: tuple[str, ...] = ()  # what was doubtful but did not stop the article (a bad date)

    @property
    def display_date(self) -> str:
        """The article date as YYYY-MM-DD in Beijing time, or "" when unknown."""
        if self.date is None:
            return ""
        if self.date.tzinfo is None:
            return self.date.date().isoformat()
        return self.date.astimezone(DISPLAY_TZ).date().isoformat()

    @property
    def text(self) -> str:
        """The cleaned article body; chunk offsets point into this string."""
        return "\n".join(self.paragraphs)

    def row(self) -> dict:
        """The article as stored in an index's `articles` table (without its number)."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "display_date": self.display_date,
            "date_source": self.date_source,
            "author": self.author,
            "categories": json.dumps(self.categories, ensure_ascii=False),
            "source_path": self.source_path,
            "content_hash": self.content_hash,
            "url": self.url,
            "text": self.text,
        }


def decode_bytes(raw: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.

    Raises:
        IngestError: the bytes are binary or in none of these encodings.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{name}: invalid UTF-16 text ({exc.reason})") from exc
    # Stray NULs in text are crawler junk (removed like the other control characters); binary
    # data still fails to decode strictly once they are gone.
    had_nul = b"\x00" in raw[:8192]
    raw = raw.replace(b"\x00", b"") if had_nul else raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # A UTF-8 file with a few damaged bytes keeps its text (bad bytes become U+FFFD);
    # GB18030 would accept the bytes too, but turn the whole file into mojibake.
    repaired = raw.decode("utf-8-sig", errors="replace")
    if not had_nul and repaired.count("\ufffd") <= max(2, len(repaired) // 1000):
        return repaired
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        if had_nul:
            raise IngestError(f"{name}: binary file (NUL bytes), not text") from exc
        raise IngestError(f"{name}: not UTF-8 or GB18030 text (bad byte at {exc.start})") from exc


def parse_article(text: str, article_id: str, source_path: str = "") -> Article:
    """Parse one article in either corpus format.

    Hexo markdown: YAML front matter (title, categories, author, date) and an HTML body.
    Plain text: title on the first line, body after it (repeated bodies collapsed).

    Raises:
        IngestError: malformed front matter, or no text left after cleaning.
    """
    name = source_path or article_id
    text = text.lstrip("\ufeff").translate(_CONTROL)
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _load_front_matter(match.group(1), name)
        body = text[match.end() :]
        paragraphs = _body_paragraphs(body)
        title = str(meta.get("title") or "").strip() or (paragraphs[0] if paragraphs else "")
    else:
        paragraphs = _body_paragraphs(text)
        if not paragraphs:
            raise IngestError(f"{name}: no text after cleaning")
        title, paragraphs = paragraphs[0], paragraphs[1:]
    paragraphs = drop_repeated_paragraphs(paragraphs)
    if not paragraphs:
        raise IngestError(f"{name}: no body text after cleaning")

    warnings: list[str] = []
    date, date_source = _front_matter_date(meta.get("date"), name, warnings), "front_matter"
    if date is None:
        date, date_source = date_from_text("\n".join(paragraphs)), "text"
    if date is None:
        date_source = "none"
    elif date.astimezone(DISPLAY_TZ) > datetime.now(DISPLAY_TZ) + FUTURE_GRACE:
        warnings.append(f"{name}: date {date.isoformat()} is in the future; kept")
    categories = meta.get("categories") or []
    if isinstance(categories, str):
        categories = [categories]
    return Article(
        article_id=article_id,
        title=title,
        paragraphs=paragraphs,
        date=date,
        date_source=date_source,
        author=str(meta.get("author") or ""),
        categories=[str(c).strip() for c in categories],
        source_path=source_path,
        url=original_url(meta),
        warnings=tuple(warnings),
    )


URL_FIELDS = ("url", "link", "permalink", "source_url", "original_url", "original")


def original_url(meta: dict) -> str:
    """The first web address among the front matter's link fields (never `javascript:` and the like)."""
    for key in URL_FIELDS:
        value = str(meta.get(key) or "").strip()
        if value.lower().startswith(("http://", "https://")) and " " not in value and len(value) <= 2000:
            return value
    return ""


class _FrontMatterLoader(yaml.SafeLoader):
    """The safe loader, except that dates stay text: YAML's own timestamp parsing raises on
    `2021-02-30` and builds datetimes that overflow in Beijing time (`9999-12-31 23:00 +00:00`);
    `parse_article_date` reads every form and reports a bad one."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_front_matter(block: str, name: str) -> dict:
    """Parse YAML with the safe loader: no tags that construct objects, no code.

    Front matter is a handful of short fields; a large block or many aliases is a
    "billion laughs" attempt and is refused before anything expands.
    """
    if len(block) > MAX_FRONT_MATTER_CHARS or block.count("*") > MAX_FRONT_MATTER_ALIASES:
        raise IngestError(f"{name}: front matter is too large or uses too many YAML aliases")
    try:
        meta = yaml.load(block, Loader=_FrontMatterLoader)  # a SafeLoader subclass: no object tags
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise IngestError(f"{name}: front matter is not valid YAML: {exc}") from exc
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise IngestError(f"{name}: front matter must be a mapping, got {type(meta).__name__}")
    for key in ("title", "author"):
        if meta.get(key) is not None and not isinstance(meta[key], str | int | float):
            raise IngestError(f"{name}: front matter field '{key}' must be text")
    return meta


def _body_paragraphs(body: str) -> list[str]:
    if _LOOKS_HTML.search(body):
        return html_to_paragraphs(body)
    return text_to_paragraphs(body)


def _front_matter_date(value: object, name: str, warnings: list[str]) -> datetime | None:
    """The front matter date; a bad one is reported in `warnings` and skipped, never fatal."""
    if value is None or value == "":
        return None
    try:
        return parse_article_date(value)
    except ValueError as exc:
        warnings.append(f"{name}: front matter field 'date' ignored: {exc}")
        return None


def date_from_text(text: str) -> datetime | None:
    """The first full Chinese date in the text (`2020年6月12日`), at midnight Beijing time."""
    for match in _TEXT_DATE.finditer(text):
        year, month, day = (int(g) for g in match.groups())
        if not FIRST_YEAR <= year <= LAST_YEAR:
            continue
        try:
            return datetime(year, month, day, tzinfo=DISPLAY_TZ)
        except ValueError:
            continue
    return None


def read_corpus_file(path: Path) -> bytes:
    """The raw bytes of one regular file, refusing empty and oversized files.

    The file is opened without blocking and checked on the open descriptor, so a FIFO,
    a device (`/dev/zero` behind a symlink) or a file swapped in after a check is refused
    instead of hanging; at most MAX_FILE_BYTES + 1 bytes are ever read, whatever `stat` said.

    Raises:
        IngestError: unreadable, not a regular file, empty or too large, naming the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IngestError(f"{path}: not a regular file")
        try:
            raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise IngestError(f"{path}: over the {MAX_FILE_BYTES} byte limit")
    if not raw.strip():
        raise IngestError(f"{path}: empty file")
    return raw


def article_from_bytes(raw: bytes, path: Path, article_id: str) -> Article:
    """Decode and parse one corpus file; `content_hash` is the SHA-256 of its bytes."""
    article = parse_article(decode_bytes(raw, str(path)), article_id, str(path))
    return dataclasses.replace(article, content_hash=content_hash(raw))


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_article(path: Path, corpus_dir: Path) -> Article:
    """Read and parse one corpus file (IngestError names the file on failure)."""
    return article_from_bytes(read_corpus_file(path), path, corpus_file(path, corpus_dir).article_id)


def iter_articles(corpus_dir: Path, errors: list[str] | None = None) -> Iterator[Article]:
    """Yield each parsable article; a bad file is reported in `errors` and skipped."""
    for file in scan_corpus(corpus_dir):
        try:
            yield article_from_bytes(read_corpus_file(file.path), file.path, file.article_id)
        except IngestError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
