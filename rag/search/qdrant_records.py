"""Articles and passages of an index migrated to Qdrant (`ArticleStore`): the articles
collection holds whole articles, the chunks collection their passages in reading order."""

from __future__ import annotations

import functools
from typing import Any

from rag.errors import QueryError
from rag.index.records import ARTICLE_TEXT_CACHE, ArticleRecord, ChunkRecord, IndexedArticle
from rag.search.qdrant import QdrantVersion, chunk_record

SCROLL_PAGE = 1000


class QdrantRecords:
    """`ArticleStore` over the migrated articles collection."""

    def __init__(self, version: QdrantVersion) -> None:
        self.version, self.client = version, version.client
        self.article_text = functools.lru_cache(maxsize=ARTICLE_TEXT_CACHE)(self._article_text)

    def _scroll(
        self, collection: str, query_filter: Any = None, payload: list[str] | bool = True
    ) -> list[Any]:
        points, offset = [], None
        while True:
            page, offset = self.client.scroll(
                collection, scroll_filter=self._seen(query_filter), limit=SCROLL_PAGE, offset=offset,
                with_payload=payload, with_vectors=False,
            )  # fmt: skip
            points += page
            if offset is None:
                return sorted(points, key=lambda p: int(p.id))

    def _seen(self, query_filter: Any) -> Any:
        """`query_filter` narrowed to the points this version sees."""
        from qdrant_client import models

        must = [*self.version.visible, *(query_filter.must if query_filter is not None else [])]
        return models.Filter(must=must) if must else None

    def _by_article(self, article_id: str) -> Any:
        from qdrant_client import models

        return models.Filter(
            must=[models.FieldCondition(key="article_id", match=models.MatchValue(value=article_id))]
        )

    def article(self, article_id: str) -> IndexedArticle:
        found = self._scroll(self.version.articles_collection, self._by_article(article_id))
        if not found:
            raise QueryError(f"unknown article_id '{article_id}'")
        data = found[0].payload
        return IndexedArticle(
            int(found[0].id), data["article_id"], data["title"], data["date"], data["published"],
            data["date_source"], data["author"], tuple(data["categories"]), data["source_path"], data["text"],
            data.get("url", ""),
        )  # fmt: skip

    def _article_text(self, article_id: str) -> str:
        return self.article(article_id).text

    def article_chunks(self, article_id: str) -> list[ChunkRecord]:
        return [
            chunk_record(p.payload)
            for p in self._scroll(self.version.chunks_collection, self._by_article(article_id))
        ]

    def category_names(self) -> list[str]:
        return self.version.state.categories

    def live_articles(self) -> list[ArticleRecord]:
        fields = ["article_id", "title", "date", "author"]
        return [
            ArticleRecord(p.payload["article_id"], p.payload["title"], p.payload["date"], p.payload["author"])
            for p in self._scroll(self.version.articles_collection, payload=fields)
        ]

    def article_ids(self) -> list[str]:
        return [a.article_id for a in self.live_articles()]

    def chunk_column(self, column: str) -> list[str]:
        if column not in ("chunk_id", "text", "title"):
            raise QueryError(f"unknown chunk column '{column}'. Valid: chunk_id, text, title")
        return [p.payload[column] for p in self._scroll(self.version.chunks_collection, payload=[column])]
