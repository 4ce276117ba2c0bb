"""Which corpus files a build must (re)index: unchanged files are not even read, a copy of
another file's content is indexed once, and `rag add` looks only at the files it is given."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Settings
from rag.errors import IngestError
from rag.index.live import LiveVersion
from rag.index.prepare import Job
from rag.index.report import BuildLog
from rag.ingest.articles import content_hash, read_corpus_file
from rag.ingest.files import CorpusFile, corpus_group, keep_held_ids, scan_corpus


@dataclass
class Plan:
    """The files a build prepares, and the live articles it keeps as they are."""

    jobs: list[Job] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # article ids unchanged since the live version


def plan_corpus(settings: Settings, live: LiveVersion, journal: BuildLog) -> Plan:
    """Which files to (re)index: a file whose size and mtime are unchanged is not read."""
    plan = Plan()
    seen_hashes: dict[str, str] = {}

    def held(file: CorpusFile) -> bool:  # unchanged since the live version indexed it as its base id
        known = live.articles.get(file.base_id)
        return known is not None and (known.source_size, known.source_mtime_ns) == (file.size, file.mtime_ns)

    for file in keep_held_ids(scan_corpus(settings.corpus), held):
        if file.clash:
            journal.warn(file.clash)
        try:
            known = live.articles.get(file.article_id)
            if known and (known.source_size, known.source_mtime_ns) == (file.size, file.mtime_ns):
                digest = known.content_hash
            else:
                digest = content_hash(read_corpus_file(file.path))
            if digest in seen_hashes:
                raise IngestError(f"{file.location}: same content as {seen_hashes[digest]}, indexed once")
            seen_hashes[digest] = file.location
            if known and known.content_hash == digest:
                plan.kept.add(file.article_id)
            else:
                plan.jobs.append(Job.of(file))
        except IngestError as exc:
            journal.skip(str(exc))
    return plan


def plan_files(
    settings: Settings, files: list[Path], live_of: Callable[..., LiveVersion], journal: BuildLog
) -> tuple[LiveVersion, Plan]:
    """Only the named files: each is read (they are few) and the live version is asked only
    for articles with their ids or contents (index lookups), so the cost of adding a file
    does not grow with the corpus. Nothing is removed."""
    candidates: dict[str, CorpusFile] = {}  # by content hash
    named = _named_with_siblings(files, settings.corpus, journal)
    bases = [f.base_id for f in named if f.base_id]
    digests: dict[str, str] = {}
    for file in named:
        with contextlib.suppress(IngestError):
            digests[file.location] = content_hash(read_corpus_file(file.path))
    if bases:
        held = live_of(only=(bases, [])).articles
        named = keep_held_ids(
            named, lambda f: f.base_id in held and held[f.base_id].content_hash == digests.get(f.location)
        )
    for file in named:
        try:
            digest = digests.get(file.location) or content_hash(read_corpus_file(file.path))
            if digest in candidates:
                first = candidates[digest].location
                raise IngestError(f"{file.location}: same content as {first}, indexed once")
            candidates[digest] = file
            if file.clash:
                journal.warn(file.clash)
        except IngestError as exc:
            journal.skip(str(exc))
    live = live_of(only=([f.article_id for f in candidates.values()], list(candidates)))
    # An id that now names other content (`X` moving from X.md to a new X.txt) holds nothing.
    moving = {
        f.article_id
        for digest, f in candidates.items()
        if f.article_id in live.articles and live.articles[f.article_id].content_hash != digest
    }
    holder = {k.content_hash: aid for aid, k in live.articles.items() if aid not in moving}
    plan = Plan()
    for digest, file in candidates.items():
        known = live.articles.get(file.article_id)
        if holder.get(digest, file.article_id) != file.article_id:
            journal.skip(f"{file.location}: same content as article {holder[digest]}, indexed once")
        elif not (known and known.content_hash == digest):
            plan.jobs.append(Job.of(file))
    return live, plan


def _named_with_siblings(files: list[Path], corpus: Path, journal: BuildLog) -> list[CorpusFile]:
    """The named files and the files sharing their name stems, once each, with unique ids."""
    found: dict[str, CorpusFile] = {}
    for path in files:
        try:
            for file in corpus_group(Path(path), corpus):
                found.setdefault(file.location, file)
        except IngestError as exc:
            journal.skip(str(exc))
    return list(found.values())
