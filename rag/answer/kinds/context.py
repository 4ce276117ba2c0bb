"""What every strategy reads: the index, its catalog, the fact answerer, cached article texts."""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.extractive import Answerer
from rag.answer.sentences import Sentence, article_sentences
from rag.search.catalog import ArticleRecord, Catalog
from rag.search.retrieve import SearchIndex


@dataclass
class Context:
    """One loaded index version as the strategies see it."""

    index: SearchIndex
    catalog: Catalog
    answerer: Answerer

    def text(self, article_id: str) -> str:
        """The cleaned text of an article (from the index's bounded cache)."""
        return self.index.article_text(article_id)

    def texts(self, article_ids: list[str]) -> dict[str, str]:
        return {a: self.text(a) for a in article_ids}

    def sentences(self, article_id: str) -> list[Sentence]:
        return article_sentences(self.text(article_id))

    def record(self, article_id: str) -> ArticleRecord:
        found = self.catalog.by_id(article_id)
        if found is None:
            raise KeyError(article_id)
        return found

    def words(self, text: str) -> list[str]:
        """Content words in precise mode (whole words), as answers are matched."""
        return self.index.tokenizer.words(text, search_mode=False)
