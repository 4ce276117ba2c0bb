"""Corpus folder to a new index version, incrementally and in bounded memory.

Files whose size and mtime match the live version are not even read; changed and new
files are prepared (in worker processes for large builds) and streamed into new
segments of at most `segment_chunks` chunks; the old copies of changed or removed
articles are listed as deleted in the new version rather than rewritten. Small segments
left by many incremental builds are merged once there are more than a few of them.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypedDict, Unpack

from rag.calibration import BM25Parameters, Calibration, load_calibration
from rag.config import Settings
from rag.errors import IngestError
from rag.index import lock, store
from rag.index.embed import Embedder, embedding_identity, load_embedder
from rag.index.embed_cache import EmbeddingCache
from rag.index.live import LiveVersion, SegmentEntry, dense_summary, read_live_version, segment_list
from rag.index.manifest import Manifest
from rag.index.plan import Plan, plan_corpus, plan_files
from rag.index.prepare import Job, Models, PrepareConfig, PrepareResult, prepare_all, worker_count
from rag.index.qdrant_layout import refuse_pending_migration
from rag.index.report import BuildLog, BuildReport
from rag.index.segment import PreparedArticle
from rag.index.tokens import ChineseTokenizer
from rag.index.writer import SegmentSpec, merge_small, remove_segments, write_segments
from rag.ingest.articles import Article

ProgressCallback = Callable[[int, int], None]

__all__ = ["BuildOptions", "BuildReport", "build_index", "pipeline_settings"]


class BuildOptions(TypedDict, total=False):
    """Keyword options of `build_index` (all optional)."""

    embedder: Embedder  # default: the model named by settings.embedder
    tokenizer: ChineseTokenizer  # default: jieba with settings.jieba_user_dict
    rebuild: bool  # ignore the live version and build everything again
    progress: ProgressCallback  # progress(done, total) per article prepared
    log: Callable[[str], None]  # default: print to stderr
    articles: Iterable[Article]  # index these parsed articles instead of the corpus folder
    files: list[Path]  # index only these files of the corpus folder
    ray: str  # "auto" (a local Ray instance) or a cluster address: prepare articles on Ray
    discard_pending: bool  # Qdrant index: delete newer generations no build of this folder wrote


def pipeline_settings(settings: Settings, tokenizer: ChineseTokenizer, bm25: BM25Parameters) -> dict:
    """Everything besides the embedder that changes chunk rows; a change forces a full rebuild."""
    return {
        "chunk_max_chars": settings.chunk_max_chars,
        "chunk_min_chars": settings.chunk_min_chars,
        "tokenizer": tokenizer.settings(),
        "bm25": asdict(bm25),
        "article_fields": 2,  # 2: the original URL is stored; older indexes are rebuilt to get it
    }


def build_index(settings: Settings, **options: Unpack[BuildOptions]) -> BuildReport:
    """Build or update the index at `settings.index` from the files in `settings.corpus`.

    Unchanged files keep their chunks and vectors; changed files are re-chunked and
    re-embedded; files gone from the corpus are dropped; a file that cannot be parsed
    is reported in `skipped` and its previously indexed copy, if any, stays. The new
    version replaces the old one atomically, so readers and crashes never see a
    half-written index. See `BuildOptions`: `articles` replaces the whole index with
    parsed articles (evaluation sets, generated corpora); `files` indexes only these
    files (an upload, `rag add`) without listing the folder, and builds the whole corpus
    when no live index was built the same way.

    Raises:
        IngestError: the corpus folder does not exist, or nothing could be indexed.
        BuildLocked: another build holds the lock.
        StorageError: the disk is full or the index folder cannot be written; the live
            version is unchanged, and after a full disk the build's cache is removed too.
    """
    refuse_pending_migration(settings.index)  # before any model loads
    try:
        if store.is_remote(store.current_version(settings.index)):
            from rag.index.qdrant_build import QdrantBuild  # only with the optional qdrant extra

            return QdrantBuild(settings, options).run()
        return Build(settings, options).run()
    except (OSError, sqlite3.OperationalError) as exc:
        problem = lock.storage_problem(exc, settings.index)
        if problem is None:
            raise
        raise problem from exc


@dataclass(frozen=True)
class _Tools:
    """What every step of one build uses, decided once at its start."""

    embedder: Embedder
    tokenizer: ChineseTokenizer
    identity: dict
    calibration: Calibration
    pipeline: dict


class Build:
    """One build into local segments: plan, prepare, write segments, merge, publish a version."""

    def __init__(self, settings: Settings, options: BuildOptions) -> None:
        self.settings, self.options = settings, options
        self.started = time.perf_counter()
        embedder = options.get("embedder") or load_embedder(settings.embedder)
        tokenizer = options.get("tokenizer") or ChineseTokenizer(
            user_dict=Path(settings.jieba_user_dict) if settings.jieba_user_dict else None
        )
        calibration = load_calibration()
        self.tools = _Tools(embedder, tokenizer, embedding_identity(embedder), calibration,
                            pipeline_settings(settings, tokenizer, calibration.bm25))  # fmt: skip
        self.report = BuildReport()
        self.journal = BuildLog(self.report, options.get("log") or (lambda m: print(m, file=sys.stderr)))
        self.spec = SegmentSpec(
            embedder.dim, calibration.bm25, settings.dense_exact_limit, settings.segment_chunks
        )

    def run(self) -> BuildReport:
        index_dir = self.settings.index
        with lock.build_lock(index_dir):
            live, plan, gone = self._start_point()
            if live.segments and not plan.jobs and not gone:
                store.remove_leftovers(index_dir)  # a build killed after its swap left its staging
                self.report.up_to_date = True
                self.report.articles, self.report.chunks = live.article_count(), live.chunk_count(index_dir)
                self.report.segments = len(live.segments)
            else:
                self._write_version(live, plan, gone)
        self.report.seconds = time.perf_counter() - self.started
        return self.report

    def _start_point(self) -> tuple[LiveVersion, Plan, list[str]]:
        """The live version to start from, the articles to prepare, and the article ids to remove."""
        articles, files = self.options.get("articles"), self.options.get("files")
        if articles is not None:
            return LiveVersion(), Plan(jobs=[Job(article=a) for a in articles]), []
        rebuild = self.options.get("rebuild", False)
        if files is not None and not rebuild:
            live, plan = plan_files(self.settings, files, self._live, self.journal)
            if self._built_alike(live):
                return live, plan, []
            self.report.skipped.clear()  # no index built this way yet: the whole corpus is built
        live = LiveVersion() if rebuild else self._live()
        plan = plan_corpus(self.settings, live, self.journal)
        gone = sorted(set(live.articles) - plan.kept - {job.article_id for job in plan.jobs})
        return live, plan, gone

    def _live(self, only: tuple[list[str], list[str]] | None = None) -> LiveVersion:
        """The live version's articles (all, or those with these ids or content hashes)."""
        return read_live_version(self.settings.index, self.tools.identity, self.tools.pipeline, only)

    def _built_alike(self, live: LiveVersion) -> bool:
        """Whether a live version built with these settings exists (else everything is built)."""
        return bool(live.segments)

    def _write_version(self, live: LiveVersion, plan: Plan, gone: list[str]) -> None:
        index_dir = self.settings.index
        cache = EmbeddingCache(index_dir, self.tools.identity)
        written: list[tuple[str, dict]] = []
        published = False
        try:
            items = self._to_write(self._prepared(plan.jobs, cache), live, len(plan.jobs))
            written = write_segments(index_dir, items, self.spec)
            for article_id in [*self.report.changed, *gone]:
                live.delete(live.articles[article_id])
            self.report.removed = gone
            segments, self.report.merged = merge_small(
                index_dir, segment_list(index_dir, live, written), self.spec, self.tools.tokenizer
            )
            if not any(entry.live_chunks for entry in segments):
                raise IngestError(f"{self.settings.corpus}: no article could be indexed; nothing was changed")
            self.report.version = store.publish_version(index_dir, self._manifest(segments)).name
            published = True
            cache.discard()  # its vectors now live in the new segments
        except BaseException as exc:
            if lock.is_disk_full(exc):
                cache.discard()  # a full disk stays full while the resume cache holds its space
            else:
                cache.close()  # kept, so that a build after a crash or Ctrl-C resumes
            if not published:
                remove_segments(index_dir, written)
            raise

    def _prepared(self, jobs: list[Job], cache: EmbeddingCache) -> Iterator[PrepareResult]:
        settings, tools = self.settings, self.tools
        config = PrepareConfig(
            corpus=settings.corpus,
            chunk_max_chars=settings.chunk_max_chars,
            chunk_min_chars=settings.chunk_min_chars,
            user_dict=settings.jieba_user_dict,
            embedder=tools.embedder.name,
            cache_path=cache.path,
            identity=tools.identity,
            ray_address=self.options.get("ray", ""),
        )
        workers = worker_count(len(jobs), settings.build_workers)
        return prepare_all(jobs, config, workers, Models(tools.tokenizer, tools.embedder), cache)

    def _to_write(
        self, prepared: Iterator[PrepareResult], live: LiveVersion, total: int
    ) -> Iterator[PreparedArticle]:
        """Prepared articles to write; counts the added and the changed (whose old copies go)."""
        progress = self.options.get("progress")
        for done, result in enumerate(prepared, start=1):
            if progress:
                progress(done, total)
            if result.item is None:
                self.journal.skip(result.error)
                continue
            for warning in result.warnings:
                self.journal.warn(warning)
            self.report.embedded_chunks += len(result.fresh_keys)
            article_id = result.item.article["article_id"]
            (self.report.changed if article_id in live.articles else self.report.added).append(article_id)
            yield result.item

    def _manifest(self, segments: list[SegmentEntry]) -> Manifest:
        """The new version's manifest (rag.index.schema); fills in the report's counts."""
        report, tools = self.report, self.tools
        report.articles = sum(e.live_articles for e in segments)
        report.chunks = sum(e.live_chunks for e in segments)
        report.segments = len(segments)
        return Manifest(
            embedder=tools.identity,
            pipeline=tools.pipeline,
            articles=report.articles,
            chunks=report.chunks,
            segments=tuple(e.manifest_entry() for e in segments),
            fusion=tools.calibration.fusion.to_dict(),
            dense=dense_summary(segments),
            corpus=str(self.settings.corpus),
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
