"""Corpus folder to a new index version, incrementally and in bounded memory.

Files whose size and mtime match the live version are not even read; changed and new
files are prepared (in worker processes for large builds) and streamed into new
segments of at most `segment_chunks` chunks; the old copies of changed or removed
articles are listed as deleted in the new version rather than rewritten. Small segments
left by many incremental builds are merged once there are more than a few of them.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.index import lock

from rag.index import store
from rag.calibration import BM25Parameters, load_calibration
from rag.config import Settings
from rag.ingest.files import CorpusFile, corpus_group, keep_held_ids, scan_corpus
from rag.index.embed import Embedder, embedding_identity, load_embedder
from rag.index.embed_cache import EmbeddingCache
from rag.errors import IngestError
from rag.ingest.articles import Article, content_hash, read_corpus_file
from rag.index.live import (
    Live,
    counted,
    dense_summary,
    live_articles,
    live_chunks,
    read_live_version,
    segment_list,
)
from rag.index.prepare import Job, PrepareConfig, prepare_all, worker_count
from rag.index.segment import PreparedArticle, Segment, SegmentWriter
from rag.index.tokens import ChineseTokenizer

ProgressCallback = Callable[[int, int], None]
# Segments below this share of `segment_chunks` count as small; more than MAX_SMALL_SEGMENTS
# of them are merged into one, so searches never visit a long tail of tiny segments.
SMALL_SEGMENT_SHARE = 0.1
MAX_SMALL_SEGMENTS = 4


@dataclass
class BuildReport:
    """What a build did; printed by `rag build` and shown in the app."""

    articles: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # indexed, but something was doubtful
    segments: int = 0
    merged: int = 0
    seconds: float = 0.0
    up_to_date: bool = False
    version: str = ""

    def summary(self) -> str:
        state = "up to date" if self.up_to_date else f"version {self.version}, {self.segments} segments"
        merged = f", {self.merged} small segments merged" if self.merged else ""
        warned = f", {len(self.warnings)} warnings" if self.warnings else ""
        return (
            f"{self.articles} articles, {self.chunks} chunks ({self.embedded_chunks} embedded; "
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped{warned}{merged}) in {self.seconds:.1f} s, {state}"
        )


def pipeline_settings(settings: Settings, tokenizer: ChineseTokenizer, bm25: BM25Parameters) -> dict:
    """Everything besides the embedder that changes chunk rows; a change forces a full rebuild."""
    return {
        "chunk_max_chars": settings.chunk_max_chars,
        "chunk_min_chars": settings.chunk_min_chars,
        "tokenizer": tokenizer.settings(),
        "bm25": asdict(bm25),
    }


@dataclass
class _Plan:
    jobs: list[Job] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # article ids unchanged since the live version


def _skip(report: BuildReport, log: Callable[[str], None], reason: str) -> None:
    report.skipped.append(reason)
    log(f"skipped: {reason}")


def _warn(report: BuildReport, log: Callable[[str], None], warning: str) -> None:
    report.warnings.append(warning)
    log(f"warning: {warning}")


def _plan(settings: Settings, live: Live, report: BuildReport, log: Callable[[str], None]) -> _Plan:
    """Which files to (re)index: a file whose size and mtime are unchanged is not read."""
    plan = _Plan()
    seen_hashes: dict[str, str] = {}

    def held(file: CorpusFile) -> bool:  # unchanged since the live version indexed it as its base id
        known = live.articles.get(file.base_id)
        return known is not None and (known.source_size, known.source_mtime_ns) == (file.size, file.mtime_ns)

    for file in keep_held_ids(scan_corpus(settings.corpus), held):
        if file.clash:
            _warn(report, log, file.clash)
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
            _skip(report, log, str(exc))
    return plan


def _plan_files(
    settings: Settings,
    files: list[Path],
    live_of: Callable[..., Live],
    report: BuildReport,
    log: Callable[[str], None],
) -> tuple[Live, _Plan]:
    """Only the named files: each is read (they are few) and the live version is asked only
    for articles with their ids or contents (index lookups), so the cost of adding a file
    does not grow with the corpus. Nothing is removed."""
    candidates: dict[str, CorpusFile] = {}  # by content hash
    named = _named_with_siblings(files, settings.corpus, report, log)
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
                _warn(report, log, file.clash)
        except IngestError as exc:
            _skip(report, log, str(exc))
    live = live_of(only=([f.article_id for f in candidates.values()], list(candidates)))
    # An id that now names other content (`X` moving from X.md to a new X.txt) holds nothing.
    moving = {
        f.article_id
        for digest, f in candidates.items()
        if f.article_id in live.articles and live.articles[f.article_id].content_hash != digest
    }
    holder = {k.content_hash: aid for aid, k in live.articles.items() if aid not in moving}
    plan = _Plan()
    for digest, file in candidates.items():
        known = live.articles.get(file.article_id)
        if holder.get(digest, file.article_id) != file.article_id:
            _skip(report, log, f"{file.location}: same content as article {holder[digest]}, indexed once")
        elif not (known and known.content_hash == digest):
            plan.jobs.append(Job.of(file))
    return live, plan


def _named_with_siblings(
    files: list[Path], corpus: Path, report: BuildReport, log: Callable[[str], None]
) -> list[CorpusFile]:
    """The named files and the files sharing their name stems, once each, with unique ids."""
    found: dict[str, CorpusFile] = {}
    for path in files:
        try:
            for file in corpus_group(Path(path), corpus):
                found.setdefault(file.location, file)
        except IngestError as exc:
            _skip(report, log, str(exc))
    return list(found.values())


def _work(
    settings: Settings,
    identity: dict,
    pipeline: dict,
    rebuild: bool,
    articles: Iterable[Article] | None,
    files: list[Path] | None,
    report: BuildReport,
    log: Callable[[str], None],
) -> tuple[Live, _Plan, list[str]]:
    """The live version to start from, the articles to prepare, and the article ids to remove."""
    if articles is not None:
        return Live(), _Plan(jobs=[Job(article=a) for a in articles]), []
    live_of = functools.partial(read_live_version, settings.index, identity, pipeline)
    if files is not None and not rebuild:
        live, plan = _plan_files(settings, files, live_of, report, log)
        if live.names:
            return live, plan, []
        report.skipped.clear()  # no index built this way yet: the whole corpus is built
    live = Live() if rebuild else live_of()
    plan = _plan(settings, live, report, log)
    gone = sorted(set(live.articles) - plan.kept - {job.article_id for job in plan.jobs})
    return live, plan, gone


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    tokenizer: ChineseTokenizer | None = None,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
    log: Callable[[str], None] | None = None,
    articles: Iterable[Article] | None = None,
    files: list[Path] | None = None,
) -> BuildReport:
    """Build or update the index at `settings.index` from the files in `settings.corpus`.

    Unchanged files keep their chunks and vectors; changed files are re-chunked and
    re-embedded; files gone from the corpus are dropped; a file that cannot be parsed
    is reported in `skipped` and its previously indexed copy, if any, stays. The new
    version replaces the old one atomically, so readers and crashes never see a
    half-written index. `progress(done, total)` counts articles prepared.

    Args:
        articles: index these parsed articles instead of reading `settings.corpus`
            (evaluation data sets, generated corpora); replaces the whole index.
        files: index only these files of `settings.corpus` (new or changed: an upload,
            `rag add`) without listing the folder; every other article stays as it is.
            Without a live index built the same way, the whole corpus is built.

    Raises:
        IngestError: the corpus folder does not exist, or nothing could be indexed.
        IndexLoadError: another build holds the lock.
        StorageError: the disk is full or the index folder cannot be written; the live
            version is unchanged, and after a full disk the build's cache is removed too.
    """
    try:
        return _build(settings, embedder, tokenizer, rebuild, progress, log, articles, files)
    except (OSError, sqlite3.OperationalError) as exc:
        problem = lock.storage_problem(exc, settings.index)
        if problem is None:
            raise
        raise problem from exc


def _build(
    settings: Settings,
    embedder: Embedder | None,
    tokenizer: ChineseTokenizer | None,
    rebuild: bool,
    progress: ProgressCallback | None,
    log: Callable[[str], None] | None,
    articles: Iterable[Article] | None,
    files: list[Path] | None,
) -> BuildReport:
    started = time.perf_counter()
    embedder = embedder or load_embedder(settings.embedder)
    tokenizer = tokenizer or ChineseTokenizer(
        user_dict=Path(settings.jieba_user_dict) if settings.jieba_user_dict else None
    )
    log = log or (lambda message: print(message, file=sys.stderr))
    identity = embedding_identity(embedder)
    calibration = load_calibration()
    pipeline = pipeline_settings(settings, tokenizer, calibration.bm25)
    report = BuildReport()
    index_dir = settings.index
    with lock.build_lock(index_dir):
        live, plan, gone = _work(settings, identity, pipeline, rebuild, articles, files, report, log)
        if live.names and not plan.jobs and not gone:
            report.up_to_date = True
            report.articles = live_articles(live)
            report.chunks = live_chunks(index_dir, live)
            report.segments = len(live.names)
            report.seconds = time.perf_counter() - started
            return report
        cache = EmbeddingCache(index_dir, identity)
        written: list[tuple[str, dict]] = []
        published = False
        try:
            config = PrepareConfig(
                corpus=settings.corpus,
                chunk_max_chars=settings.chunk_max_chars,
                chunk_min_chars=settings.chunk_min_chars,
                user_dict=settings.jieba_user_dict,
                embedder=embedder.name,
                cache_path=cache.path,
                identity=identity,
            )
            workers = worker_count(len(plan.jobs), settings.build_workers)
            prepared = prepare_all(plan.jobs, config, workers, tokenizer, embedder, cache)
            items = _accepted(prepared, live, report, log, progress, len(plan.jobs))
            written = _write_segments(index_dir, items, embedder.dim, calibration.bm25, settings)
            for article_id in gone:
                known = live.articles[article_id]
                live.deleted[known.segment].add(known.num)
            report.removed = gone
            segments = segment_list(index_dir, live, written)
            segments, report.merged = _merge_small(
                index_dir, segments, embedder.dim, tokenizer, calibration.bm25, settings
            )
            if not any(entry["live_chunks"] for entry in segments):
                raise IngestError(f"{settings.corpus}: no article could be indexed; nothing was changed")
            report.articles = sum(e["live_articles"] for e in segments)
            report.chunks = sum(e["live_chunks"] for e in segments)
            report.segments = len(segments)
            manifest = {
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "embedder": identity,
                "pipeline": pipeline,
                "counts": {"articles": report.articles, "chunks": report.chunks},
                "corpus": str(settings.corpus),
                "fusion": calibration.fusion.to_dict(),
                "dense": dense_summary(segments),
                "segments": [
                    {"name": e["name"], "deleted": sorted(e["deleted"]), "dense": e["dense"]}
                    for e in segments
                ],
            }
            report.version = store.publish_version(index_dir, manifest).name
            published = True
            cache.discard()  # its vectors now live in the new segments
        except BaseException as exc:
            if lock.is_disk_full(exc):
                cache.discard()  # a full disk stays full while the resume cache holds its space
            else:
                cache.close()  # kept, so that a build after a crash or Ctrl-C resumes
            if not published:
                for name, _ in written:
                    shutil.rmtree(store.segment_dir(index_dir, name), ignore_errors=True)
            raise
    report.seconds = time.perf_counter() - started
    return report


def _accepted(
    prepared: Iterator,
    live: Live,
    report: BuildReport,
    log: Callable[[str], None],
    progress: ProgressCallback | None,
    total: int,
) -> Iterator[PreparedArticle]:
    """Prepared articles to write; records added/changed, tombstones the old copy of a changed one."""
    for done, result in enumerate(prepared, start=1):
        if progress:
            progress(done, total)
        if result.item is None:
            _skip(report, log, result.error)
            continue
        for warning in result.warnings:
            _warn(report, log, warning)
        report.embedded_chunks += len(result.fresh_keys)
        article_id = result.item.article["article_id"]
        known = live.articles.get(article_id)
        if known is None:
            report.added.append(article_id)
        else:
            report.changed.append(article_id)
            live.deleted[known.segment].add(known.num)
        yield result.item


def _write_segments(
    index_dir: Path, items: Iterable[PreparedArticle], dim: int, bm25: BM25Parameters, settings: Settings
) -> list[tuple[str, dict]]:
    """Stream items into segments of at most `segment_chunks` chunks; returns (name, description)."""
    written: list[tuple[str, dict]] = []
    writer: SegmentWriter | None = None
    try:
        for item in items:
            if writer is None:
                writer = SegmentWriter(
                    store.new_staging_dir(index_dir), dim, bm25, settings.dense_exact_limit
                )
            writer.add(item)
            if writer.chunks >= settings.segment_chunks:
                written.append(_publish(index_dir, writer))
                writer = None
        if writer is not None and writer.articles:
            written.append(_publish(index_dir, writer))
            writer = None
    except BaseException:
        if writer is not None:
            writer.abort()
            shutil.rmtree(writer.folder, ignore_errors=True)
        for name, _ in written:
            shutil.rmtree(store.segment_dir(index_dir, name), ignore_errors=True)
        raise
    return written


def _publish(index_dir: Path, writer: SegmentWriter) -> tuple[str, dict]:
    description = writer.finish()
    name = store.publish_segment(index_dir, writer.folder, description)
    return name, store.read_segment(store.segment_dir(index_dir, name))


def _merge_small(
    index_dir: Path,
    segments: list[dict],
    dim: int,
    tokenizer: ChineseTokenizer,
    bm25: BM25Parameters,
    settings: Settings,
) -> tuple[list[dict], int]:
    """Rewrite the small segments as one when there are too many of them (live articles only)."""
    limit = max(1, int(settings.segment_chunks * SMALL_SEGMENT_SHARE))
    small = [e for e in segments if e["live_chunks"] < limit]
    if len(small) <= MAX_SMALL_SEGMENTS:
        return segments, 0

    def items() -> Iterator[PreparedArticle]:
        for entry in small:
            segment = Segment(store.segment_dir(index_dir, entry["name"]))
            live_nums = set(range(entry["description"]["articles"])) - entry["deleted"]
            yield from segment.prepared_articles(live_nums, tokenizer)

    merged = _write_segments(index_dir, items(), dim, bm25, settings)
    kept = [e for e in segments if e not in small]
    return kept + [
        counted(index_dir, {"name": n, "description": d, "deleted": set()}) for n, d in merged
    ], len(small)
