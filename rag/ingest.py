"""Corpus files to clean Article records: decoding, front matter, dates, both seed formats."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from rag.clean import drop_repeated_paragraphs, html_to_paragraphs, text_to_paragraphs
from rag.dates import DISPLAY_TZ, FIRST_YEAR, LAST_YEAR, parse_article_date
from rag.errors import IngestError

CORPUS_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
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
        warnings=tuple(warnings),
    )


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


def article_id_for(path: Path, corpus_dir: Path) -> str:
    """Stable id: the path relative to the corpus folder, without its extension.

    Files that differ only in extension (`X.txt`, `X.md`) share this base id; see `unique_ids`.
    """
    return path.relative_to(corpus_dir).with_suffix("").as_posix()


@dataclass(frozen=True)
class CorpusFile:
    """A file of the corpus folder as one directory walk sees it (no read of its content)."""

    location: str  # the path as a string: building 100k Path objects took longer than the walk
    article_id: str
    size: int
    mtime_ns: int
    clash: str = ""  # why the id is not the base id: another file has the same name stem
    base_id: str = ""  # the path without extension, shared by the files of a clash ("" if none)

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.location)[1]


def _suffix_rank(file: CorpusFile) -> tuple[int, str]:
    suffix = file.suffix.lower()
    return CORPUS_SUFFIXES.index(suffix) if suffix in CORPUS_SUFFIXES else len(CORPUS_SUFFIXES), file.suffix


def unique_ids(files: list[CorpusFile]) -> list[CorpusFile]:
    """The same files (same order) with article ids that are unique and stable.

    A file keeps its base id (path without extension) unless another file has the same
    stem; then the one whose extension comes first in CORPUS_SUFFIXES (.txt, .md, ...)
    keeps it and the others are known by their path with the extension (`X.md`), with
    the clash recorded. Nothing is merged: both articles are indexed.
    """
    groups: dict[str, list[CorpusFile]] = {}
    for file in files:
        groups.setdefault(file.article_id, []).append(file)
    taken = set(groups)
    renamed: dict[str, CorpusFile] = {}
    for base, group in groups.items():
        if len(group) < 2:
            continue
        owner, *others = sorted(group, key=_suffix_rank)
        renamed[owner.location] = dataclasses.replace(owner, base_id=base)
        for other in others:
            candidate = base + other.suffix
            while candidate in taken:  # `X.md.txt` already holds the id `X.md`
                candidate += "~"
            taken.add(candidate)
            renamed[other.location] = dataclasses.replace(
                other, article_id=candidate, clash=_clash_note(other, owner, candidate), base_id=base
            )
    return [renamed.get(file.location, file) for file in files]


def _clash_note(file: CorpusFile, owner: CorpusFile, article_id: str) -> str:
    return f"{file.location}: same name as {owner.location}; indexed as article '{article_id}'"


def keep_held_ids(files: list[CorpusFile], holds: Callable[[CorpusFile], bool]) -> list[CorpusFile]:
    """Clashing files with their ids swapped where the index already holds a non-owner under
    the base id: an article indexed as `X` (from X.md) keeps `X` when X.txt arrives later.

    Args:
        holds: whether the live index's article with the file's base id is this file.
    """
    by_base: dict[str, list[CorpusFile]] = {}
    for file in files:
        if file.base_id:
            by_base.setdefault(file.base_id, []).append(file)
    swapped: dict[str, CorpusFile] = {}
    for base, group in by_base.items():
        owner = next((f for f in group if f.article_id == base), None)
        holder = next((f for f in group if f.article_id != base and holds(f)), None)
        if owner is None or holder is None:
            continue
        taken = {f.article_id for f in group}
        renamed = base + owner.suffix
        while renamed in taken:
            renamed += "~"
        swapped[holder.location] = dataclasses.replace(holder, article_id=base, clash="")
        swapped[owner.location] = dataclasses.replace(
            owner, article_id=renamed, clash=_clash_note(owner, holder, renamed)
        )
    return [swapped.get(file.location, file) for file in files]


def scan_corpus(corpus_dir: Path) -> list[CorpusFile]:
    """Corpus files with size and mtime, in a stable order, from one walk of the folder.

    Hidden files and folders are skipped, symlinked folders are not entered, and a
    symlinked file counts only when it stays inside the corpus folder. One `stat` per
    file and no path arithmetic: 100k files are listed in well under a second.
    """
    if not corpus_dir.is_dir():
        raise IngestError(f"corpus folder not found: {corpus_dir}")
    root = corpus_dir.resolve()
    found: list[tuple[list[str], CorpusFile]] = []
    folders = [""]  # relative to corpus_dir, "/"-separated
    while folders:
        folder = folders.pop()
        with os.scandir(corpus_dir / folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                relative = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append(relative)
                    continue
                suffix = os.path.splitext(entry.name)[1]
                if suffix.lower() not in CORPUS_SUFFIXES:
                    continue
                if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(root):
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    continue  # vanished, or a dangling link
                if stat.S_ISREG(info.st_mode):
                    article_id = relative[: len(relative) - len(suffix)]
                    item = CorpusFile(entry.path, article_id, info.st_size, info.st_mtime_ns)
                    found.append((relative.split("/"), item))
    found.sort(key=lambda pair: pair[0])
    return unique_ids([item for _, item in found])


def corpus_group(path: Path, corpus_dir: Path) -> list[CorpusFile]:
    """A named file (an upload, `rag add`) first, then the files that share its name stem
    (`X.txt` beside `X.md`), with the ids `scan_corpus` would give them.

    One listing of the named file's folder (suffixes compared without case).

    Raises:
        IngestError: the named file is outside the corpus folder, hidden, of another
            suffix, or not a file.
    """
    named = _corpus_file(path, corpus_dir)
    stem = path.name[: len(path.name) - len(named.suffix)]
    siblings = []
    with os.scandir(path.parent) as entries:
        for entry in entries:
            name = entry.name
            if name != path.name and name.startswith(stem) and name[len(stem) :].lower() in CORPUS_SUFFIXES:
                with contextlib.suppress(IngestError):
                    siblings.append(_corpus_file(path.with_name(name), corpus_dir))
    return unique_ids([named, *siblings])


def corpus_file(path: Path, corpus_dir: Path) -> CorpusFile:
    """One named file with the id it has in the corpus (see `corpus_group`)."""
    return corpus_group(path, corpus_dir)[0]


def _corpus_file(path: Path, corpus_dir: Path) -> CorpusFile:
    """One named file, checked as `scan_corpus` would list it, with its base id.

    Raises:
        IngestError: outside the corpus folder, hidden, another suffix, or not a file.
    """
    absolute, root = Path(os.path.abspath(path)), Path(os.path.abspath(corpus_dir))
    if not absolute.is_relative_to(root) or not path.resolve().is_relative_to(corpus_dir.resolve()):
        raise IngestError(f"{path}: not inside the corpus folder {corpus_dir}")
    relative = absolute.relative_to(root)
    if any(part.startswith(".") for part in relative.parts) or path.suffix.lower() not in CORPUS_SUFFIXES:
        raise IngestError(f"{path}: hidden, or not a {'/'.join(CORPUS_SUFFIXES)} file")
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(f"{path}: not a regular file")
    article_id = relative.with_suffix("").as_posix()
    return CorpusFile(str(path), article_id, info.st_size, info.st_mtime_ns)


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
