"""What every strategy reads: the index, its catalog, the fact answerer, cached article texts."""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.extractive import Answerer
from rag.answer.periods import Period
from rag.answer.sentences import Sentence, article_sentences, is_filler
from rag.index.aliases import spellings
from rag.index.tokens import normalise_text
from rag.search.catalog import ArticleRecord, Catalog
from rag.search.mentions import Mention
from rag.search.retrieve import SearchIndex

LEAD_CHARS = 400  # an article's opening that holds its title lines, caption and lead sentence


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

    def mentions(self, phrase: str, period: Period | None = None) -> list[Mention]:
        """The articles naming `phrase`, oldest first; those published in `period` when given."""
        return [m for m in self.catalog.mentions(phrase) if period is None or period.holds(m.article.day)]

    def record(self, article_id: str) -> ArticleRecord:
        found = self.catalog.by_id(article_id)
        if found is None:
            raise KeyError(article_id)
        return found

    def leads_with(self, article: ArticleRecord, phrase: str, words: list[str], needed: int) -> bool:
        """Whether the article's title, else its title and lead (its first sentence of news: no
        headline, caption or byline line), hold the phrase or `needed` of its words: what the
        article is about, not what it mentions in passing."""
        forms = [normalise_text(form) for form in spellings(phrase)]  # "G20" and "二十国集团"
        words = [normalise_text(w) for w in words]

        def names_it(text: str) -> bool:
            return any(form in text for form in forms) or sum(w in text for w in words) >= needed

        if names_it(normalise_text(article.title)):  # no article text read
            return True
        opening = self.text(article.article_id)[:LEAD_CHARS]  # the lead is there, not the whole text
        news = [s.text for s in article_sentences(opening) if not is_filler(s.text)]
        return names_it(normalise_text(" ".join([article.title, *news[:1]])))

    def words(self, text: str) -> list[str]:
        """Content words in precise mode (whole words), as answers are matched."""
        return self.index.tokenizer.words(text, search_mode=False)
