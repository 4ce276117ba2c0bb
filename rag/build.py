"""Corpus folder to a new index version, incrementally: unchanged files are not re-embedded."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from rag import store
from rag.calibration import BM25Parameters, load_calibration
from rag.chunk import chunk_paragraphs
from rag.config import Settings
from rag.dense import DenseIndex
from rag.embed import Embedder, fingerprint, load_embedder
from rag.embed_cache import EmbeddingCache
from rag.errors import IndexLoadError, IngestError
from rag.ingest import Article, article_from_bytes, content_hash, list_corpus_files, read_corpus_file
from rag.lexical import LexicalIndex
from rag.tokens import ChineseTokenizer

ProgressCallback = Callable[[int, int], None]
_EPOCH = date(1970, 1, 1)


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
    seconds: float = 0.0
    up_to_date: bool = False
    version: str = ""

    def summary(self) -> str:
        state = "up to date" if self.up_to_date else f"version {self.version}"
        return (
            f"{self.articles} articles, {self.chunks} chunks ({self.embedded_chunks} embedded; "
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped) in {self.seconds:.1f} s, {state}"
        )


@dataclass
class _ArticleChunks:
    """One article's rows for the new version: reused from the old one or freshly made."""

    article: dict
    chunks: list[dict]
    old_rows: list[int] | None = None  # rows in the previous vectors.npy, when reused


def embedding_identity(embedder: Embedder) -> dict:
    return {"name": embedder.name, "dim": int(embedder.dim), "fingerprint": fingerprint(embedder)}


def pipeline_settings(settings: Settings, tokenizer: ChineseTokenizer, bm25: BM25Parameters) -> dict:
    """Everything besides the embedder that changes chunk rows; a change forces re-chunking."""
    return {
        "chunk_max_chars": settings.chunk_max_chars,
        "chunk_min_chars": settings.chunk_min_chars,
        "tokenizer": tokenizer.settings(),
        "bm25": asdict(bm25),
    }


def article_row(article: Article) -> dict:
    return {
        "article_id": article.article_id,
        "title": article.title,
        "date": article.date.isoformat() if article.date else None,
        "display_date": article.display_date,
        "date_source": article.date_source,
        "author": article.author,
        "categories": json.dumps(article.categories, ensure_ascii=False),
        "source_path": article.source_path,
        "content_hash": article.content_hash,
        "text": article.text,
    }


def chunk_rows(article: Article, settings: Settings, tokenizer: ChineseTokenizer) -> list[dict]:
    """Chunk an article; BM25 tokens include the title so title words match every chunk."""
    text = article.text
    title_tokens = tokenizer(article.title)
    rows = []
    for number, span in enumerate(
        chunk_paragraphs(article.paragraphs, settings.chunk_max_chars, settings.chunk_min_chars)
    ):
        chunk_text = text[span.start : span.end]
        rows.append({
            "chunk_id": f"{article.article_id}#{number}",
            "paragraph": span.paragraph,
            "start": span.start,
            "end": span.end,
            "text": chunk_text,
            "tokens": " ".join(title_tokens + tokenizer(chunk_text)),
        })  # fmt: skip
    return rows


def _load_previous(index_dir: Path, identity: dict, pipeline: dict) -> tuple[dict, np.ndarray | None]:
    """Reusable rows of the live version: article_id -> _ArticleChunks, plus its vectors."""
    folder = store.current_version(index_dir)
    if folder is None:
        return {}, None
    try:
        manifest = store.read_manifest(folder)
        store.verify_files(folder, manifest)
    except IndexLoadError:
        return {}, None  # damaged: rebuild everything rather than reuse bad rows
    if manifest.get("embedder") != identity or manifest.get("pipeline") != pipeline:
        return {}, None
    files = store.VersionFiles(folder)
    db = store.open_metadata_db(files.metadata)
    previous: dict[str, _ArticleChunks] = {}
    try:
        by_num: dict[int, _ArticleChunks] = {}
        for row in db.execute(f"SELECT {', '.join(store.ARTICLE_COLUMNS)} FROM articles"):
            data = dict(row)
            entry = _ArticleChunks({k: v for k, v in data.items() if k != "num"}, [], [])
            previous[data["article_id"]] = by_num[data["num"]] = entry
        for row in db.execute(f"SELECT {', '.join(store.CHUNK_COLUMNS)} FROM chunks ORDER BY row"):
            data = dict(row)
            entry = by_num[data.pop("article_num")]
            entry.old_rows.append(data.pop("row"))
            entry.chunks.append(data)
    finally:
        db.close()
    return previous, store.load_array(files.vectors)


def corpus_fingerprint(articles: list[dict]) -> str:
    digest = hashlib.sha256()
    for row in sorted(articles, key=lambda r: r["article_id"]):
        digest.update(f"{row['article_id']}\0{row['content_hash']}\n".encode())
    return digest.hexdigest()


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    tokenizer: ChineseTokenizer | None = None,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
    log: Callable[[str], None] | None = None,
    articles: Iterable[Article] | None = None,
) -> BuildReport:
    """Build or update the index at `settings.index` from the files in `settings.corpus`.

    Unchanged files keep their chunks and vectors; changed files are re-chunked and
    re-embedded; files gone from the corpus are dropped; a file that cannot be parsed
    is reported in `skipped` and left out. The new version replaces the old one
    atomically, so readers and crashes never see a half-written index.

    Args:
        articles: index these parsed articles instead of reading `settings.corpus`
            (evaluation data sets, generated corpora).

    Raises:
        IngestError: the corpus folder does not exist.
        IndexLoadError: another build holds the lock.
    """
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
    with store.build_lock(index_dir):
        previous, old_vectors = ({}, None) if rebuild else _load_previous(index_dir, identity, pipeline)
        if articles is None:
            entries = _collect_articles(settings, tokenizer, previous, report, log)
        else:
            entries = [_ArticleChunks(article_row(a), chunk_rows(a, settings, tokenizer)) for a in articles]
            report.added = [e.article["article_id"] for e in entries]
        report.removed = sorted(set(previous) - {e.article["article_id"] for e in entries})
        report.articles = len(entries)
        report.chunks = sum(len(e.chunks) for e in entries)
        fingerprint_now = corpus_fingerprint([e.article for e in entries])
        if not entries:
            raise IngestError(f"{settings.corpus}: no article could be indexed; nothing was changed")
        if previous and not (report.added or report.changed or report.removed):
            report.up_to_date = True
            report.seconds = time.perf_counter() - started
            return report
        cache = EmbeddingCache(index_dir, identity)
        try:
            vectors = _vectors_for(entries, old_vectors, embedder, report, progress, cache)
        finally:
            cache.close()
        staged = store.new_version_dir(index_dir)
        try:
            dense = _write_version(staged, entries, vectors, calibration.bm25, settings.dense_exact_limit)
            manifest = {
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "embedder": identity,
                "pipeline": pipeline,
                "counts": {"articles": report.articles, "chunks": report.chunks},
                "corpus": str(settings.corpus),
                "corpus_fingerprint": fingerprint_now,
                "fusion": calibration.fusion.to_dict(),
                "dense": {**dense.describe(), "recall_at_10": round(dense.recall_at_10(vectors), 4)},
            }
            report.version = store.publish_version(index_dir, staged, manifest).name
            cache.discard()  # its vectors now live in the new version
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
    report.seconds = time.perf_counter() - started
    return report


def _collect_articles(
    settings: Settings,
    tokenizer: ChineseTokenizer,
    previous: dict[str, _ArticleChunks],
    report: BuildReport,
    log: Callable[[str], None],
) -> list[_ArticleChunks]:
    entries: list[_ArticleChunks] = []
    seen_hashes: dict[str, str] = {}
    for path in list_corpus_files(settings.corpus):
        try:
            raw = read_corpus_file(path)
            digest = content_hash(raw)
            if digest in seen_hashes:
                raise IngestError(f"{path}: same content as {seen_hashes[digest]}, indexed once")
            old = previous.get(path.relative_to(settings.corpus).with_suffix("").as_posix())
            if old is not None and old.article["content_hash"] == digest:
                entry = old
            else:
                article = article_from_bytes(raw, path, settings.corpus)
                entry = _ArticleChunks(article_row(article), chunk_rows(article, settings, tokenizer))
                (report.changed if old is not None else report.added).append(article.article_id)
            seen_hashes[digest] = str(path)
            entries.append(entry)
        except IngestError as exc:
            report.skipped.append(str(exc))
            log(f"skipped: {exc}")
    return entries


def _vectors_for(
    entries: list[_ArticleChunks],
    old_vectors: np.ndarray | None,
    embedder: Embedder,
    report: BuildReport,
    progress: ProgressCallback | None,
    cache: EmbeddingCache,
) -> np.ndarray:
    """Vectors in row order: copied for reused articles, embedded in batches for the rest.

    Each embedded batch is written to `cache` at once, so a build that is killed and run
    again picks up where it stopped instead of embedding everything again.
    """
    texts = [c["text"] for e in entries if e.old_rows is None for c in e.chunks]
    keys = [cache.key(t) for t in texts]
    cached = cache.get_many(keys, embedder.dim)
    fresh = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    missing = []
    for i, key in enumerate(keys):
        if key in cached:
            fresh[i] = cached[key]
        else:
            missing.append(i)
    report.embedded_chunks = len(missing)
    batch = 256
    for start in range(0, len(missing), batch):
        rows = missing[start : start + batch]
        fresh[rows] = embedder.encode([texts[i] for i in rows])
        cache.put_many([keys[i] for i in rows], fresh[rows])
        if progress:
            progress(min(start + batch, len(missing)), len(missing))
    parts, cursor = [], 0
    for entry in entries:
        if entry.old_rows is None:
            parts.append(fresh[cursor : cursor + len(entry.chunks)])
            cursor += len(entry.chunks)
        else:
            parts.append(np.asarray(old_vectors[entry.old_rows], dtype=np.float32))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _day_number(display_date: str | None) -> int:
    if not display_date:
        return int(store.NO_DAY)
    return (date.fromisoformat(display_date) - _EPOCH).days


def _write_version(
    folder: Path, entries: list[_ArticleChunks], vectors: np.ndarray, bm25: BM25Parameters, exact_limit: int
) -> DenseIndex:
    files = store.VersionFiles(folder)
    db = store.create_metadata_db(files.metadata)
    chunk_article, chunk_day, tokens = [], [], []
    row = 0
    with db:
        for num, entry in enumerate(entries):
            article = {**entry.article, "num": num}
            db.execute(
                f"INSERT INTO articles ({', '.join(store.ARTICLE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(store.ARTICLE_COLUMNS))})",
                [article[c] for c in store.ARTICLE_COLUMNS],
            )
            day = _day_number(article["display_date"])
            for chunk in entry.chunks:
                values = {**chunk, "row": row, "article_num": num}
                db.execute(
                    'INSERT INTO chunks (row, chunk_id, article_num, paragraph, start, "end", text, tokens) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [values[c] for c in store.CHUNK_COLUMNS],
                )
                chunk_article.append(num)
                chunk_day.append(day)
                tokens.append(chunk["tokens"].split())
                row += 1
    db.close()
    if len(vectors) != row:
        raise IndexLoadError(f"internal error: {len(vectors)} vectors for {row} chunks")
    store.save_array(files.vectors, vectors)
    store.save_array(files.chunk_article, np.asarray(chunk_article, dtype=np.int32))
    store.save_array(files.chunk_day, np.asarray(chunk_day, dtype=np.int32))
    dense = DenseIndex.build(vectors, exact_limit)
    dense.save(files.dense)
    LexicalIndex.build(tokens, bm25.k1, bm25.b).save(files.bm25)
    return dense
