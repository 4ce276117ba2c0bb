"""Builds straight into an index that lives in Qdrant (`rag build`, `rag add`, uploads): the
same plan and preparation as a local build, Ray included; the new articles' points are
written as the next generation, the replaced and removed ones retired, and a new version
published (rag.index.qdrant_layout explains generations). Readers of the live version see
nothing change until then; a build that dies is taken back by the next one."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator

from rag.errors import IndexLoadError, IngestError
from rag.index import lock, store
from rag.index import qdrant_generations as generations
from rag.index.build import Build
from rag.index.embed_cache import EmbeddingCache
from rag.index.live import LiveVersion
from rag.index.plan import Plan
from rag.index.qdrant_layout import read_state
from rag.index.qdrant_target import QdrantTarget
from rag.index.report import BuildReport
from rag.index.segment import PreparedArticle


class QdrantBuild(Build):
    """A build whose live version lives in Qdrant: plan and prepare as locally, then write
    points instead of segments."""

    def run(self) -> BuildReport:
        index_dir = self.settings.index
        with lock.build_lock(index_dir):
            folder = store.current_version(index_dir)
            assert folder is not None  # build_index chose this build for a remote live version
            self.target = target = QdrantTarget(self.settings, folder)
            self._check_dimension()
            force = self.options.get("discard_pending", False)
            if warning := generations.check_head(target, index_dir, force):
                self.journal.warn(warning)
            if taken := generations.take_back(target, index_dir, force):
                self.journal.log(
                    f"took back {taken} points an unfinished build left (after generation "
                    f"{target.live_generation})"
                )
            live, plan, gone = self._start_point()
            if not plan.jobs and not gone and not self.options.get("rebuild"):
                self.report.up_to_date = True
                self.report.articles, self.report.chunks = self.target.articles, self.target.manifest.chunks
                self._clean_up(generations.collections_in_use(index_dir))  # what a failed clean-up left
                generations.write_head(target, generations.Head(target.live_generation))  # no build under way
            else:
                self._write_points(live, plan, gone)
        self.report.seconds = time.perf_counter() - self.started
        return self.report

    def _check_dimension(self) -> None:
        held, built = int(self.target.manifest.embedder["dim"]), int(self.tools.identity["dim"])
        if held != built:
            raise IngestError(
                f"{self.settings.index}: the Qdrant collection holds {held}-d vectors, the embedder makes "
                f"{built}-d ones; build a local index with it and `rag migrate` that"
            )

    def _built_alike(self, live: LiveVersion) -> bool:
        manifest = self.target.manifest
        return (manifest.embedder, manifest.pipeline) == (self.tools.identity, self.tools.pipeline)

    def _live(self, only: tuple[list[str], list[str]] | None = None) -> LiveVersion:
        # Built another way (chunking, tokenizer, model): everything is built again.
        return self.target.live(only) if self._built_alike(LiveVersion()) else LiveVersion()

    def _write_points(self, live: LiveVersion, plan: Plan, gone: list[str]) -> None:
        target, index_dir = self.target, self.settings.index
        # A rebuild, parsed articles (which replace the index) or other settings: all goes.
        replaces = self.options.get("rebuild") or "articles" in self.options or not self._built_alike(live)
        cache = EmbeddingCache(index_dir, self.tools.identity)
        before = generations.collections_in_use(index_dir)
        generations.begin(index_dir, target.state, target.generation, target.writer)
        building = generations.Head(
            target.live_generation,
            generations.folder_label(index_dir),
            generations.folder_identity(index_dir),
        )
        generations.write_head(target, building)
        try:
            if replaces:
                target.start_over()
            items = self._to_write(self._prepared(plan.jobs, cache), live, len(plan.jobs))
            for batch in _batches(items, self.settings.segment_chunks):
                target.add(batch, self.tools.calibration.bm25)
            target.retire(None if replaces else [*self.report.changed, *gone])
            self.report.removed = gone
            if not target.state.chunk_counts:
                raise IngestError(f"{self.settings.corpus}: no article could be indexed; nothing was changed")
            self.report.version = target.publish(index_dir, {
                "embedder": self.tools.identity, "pipeline": self.tools.pipeline,
                "fusion": self.tools.calibration.fusion.to_dict(), "corpus": str(self.settings.corpus),
            })  # fmt: skip
        except BaseException as exc:
            cache.discard() if lock.is_disk_full(exc) else cache.close()
            if not (isinstance(exc, Exception) and self._went_live(exc)):
                if isinstance(exc, Exception):  # after Ctrl-C or a crash, the next build takes it back
                    with contextlib.suppress(Exception):
                        generations.take_back(target, index_dir)
                        generations.write_head(target, generations.Head(target.live_generation))
                raise
        generations.finished(index_dir)
        self.report.articles, self.report.chunks = target.articles, target.chunks
        cache.discard()
        try:
            generations.write_head(target, generations.Head(target.generation))
        except Exception as exc:  # the next build of this folder records it
            self.journal.warn(f"Qdrant does not yet know this version is the newest ({exc})")
        self._clean_up(before)

    def _went_live(self, exc: Exception) -> bool:
        """Whether this build's version is live though publishing it raised `exc` (a failed
        fsync after the switch): then it stays, with a warning, and nothing is taken back."""
        folder = store.current_version(self.settings.index)
        if folder is None or not store.is_remote(folder):
            return False
        try:
            state = read_state(folder)[0]
        except IndexLoadError:
            return False
        if (state.chunks, state.generation) != (self.target.state.chunks, self.target.generation):
            return False
        self.report.version = folder.name
        self.journal.warn(f"the new version is live, but publishing it ended with an error ({exc})")
        return True

    def _clean_up(self, before: set[str]) -> None:
        """Delete what no kept version sees; the new version is live whatever happens here."""
        target = self.target
        try:
            generations.collect_garbage(target, self.settings.index, before)
        except Exception as exc:
            self.journal.warn(f"points no version sees stay in Qdrant until the next build ({exc})")


def _batches(items: Iterable[PreparedArticle], chunks: int) -> Iterator[list[PreparedArticle]]:
    """Consecutive articles holding about `chunks` chunks together (at least one article)."""
    iterator, batch, held = iter(items), [], 0
    for item in iterator:
        batch.append(item)
        held += len(item.chunks)
        if held >= chunks:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch
