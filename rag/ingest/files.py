"""The corpus folder as files: which files are articles, and the article id of each.

An id is the file's path relative to the corpus without its extension; files that differ only in
extension get ids that stay unique and stable (see `unique_ids`, `keep_held_ids`). Nothing here
reads a file's content: listing 100k files takes one directory walk and one `stat` each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError

CORPUS_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


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
