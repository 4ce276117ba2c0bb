"""Questions to offer on an empty chat page, drawn from the corpus itself."""

from __future__ import annotations

from collections.abc import Callable

from rag.search.catalog import ArticleRecord

GENERAL = ("语料里有哪些文章？", "最近有哪些报道？")


def suggested_questions(
    articles: list[ArticleRecord], people: Callable[[str], list[str]], count: int = 5
) -> list[str]:
    """`count` questions: the collection in general, then one per newest article.

    An article whose title names a person asks what that person said; any other asks
    what the article is about, by its title, so every suggestion names its own subject.

    Args:
        articles: the catalog's articles (any order).
        people: person names in a text (the router's, so they match how questions are read).
    """
    newest = sorted((a for a in articles if a.date), key=lambda a: a.date, reverse=True)
    questions = list(GENERAL[: max(0, min(len(GENERAL), count - 1))]) if articles else []
    for article in newest + [a for a in articles if not a.date]:
        if len(questions) >= count:
            break
        names = people(article.title)
        question = f"{names[0]}说了什么？" if names else f"《{article.title}》主要讲了什么？"
        if question not in questions:
            questions.append(question)
    return questions
