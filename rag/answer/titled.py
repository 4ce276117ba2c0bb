"""A person asked for by surname and post ("周省长", "陈董事长"), and who that is.

Readers name officials the way the news addresses them: "周省长在开幕式上讲了什么". The
passages found for the question say "省长周启明" or "周启明省长"; the person-tagged word
there that starts with the surname is the name the question means.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import pairwise

from rag.index.tokens import PERSON_FLAGS, SURNAMES, ChineseTokenizer
from rag.search.retrieve import SearchIndex

_POSTS = frozenset(
    "副省长 省长 副市长 市长 书记 部长 主任 董事长 总经理 局长 厅长 县长 区长 主席 总理 院长 校长 "
    "秘书长 总裁 行长 会长 社长 处长 司长 大使 总书记".split()
)

Tagger = Callable[[str], list[tuple[str, str]]]


def titled_people(question: str, tokenizer: ChineseTokenizer) -> list[tuple[int, str, str]]:
    """(offset, surname, post) of each "周省长" in the question. The surname must be a word of
    its own ("现任校长", "四川省长" name no one) that does not make one with the character before
    it ("这周省长" is this week's governor)."""
    found, offset = [], 0
    words = [word for word, _ in tokenizer.tagged(question)]
    for before, (surname, post) in zip(["", *words], pairwise(words), strict=False):
        joined = bool(before) and tokenizer.in_dictionary(before[-1] + surname)
        if surname in SURNAMES and post in _POSTS and not joined:
            found.append((offset, surname, post))
        offset += len(surname)
    return found


def named(surname: str, post: str, texts: Iterable[str], tagged: Tagger) -> str | None:
    """The full name the texts give a `surname` with this `post` ("省长周启明", "周启明省长"),
    when they give one more often than any other."""
    deputy = "" if post.startswith("副") else "(?<!副)"  # 省长 is not 副省长
    around = re.compile(
        rf"{deputy}(?:{post}){surname}[\u4e00-\u9fff]{{1,2}}|{surname}[\u4e00-\u9fff]{{1,2}}(?:{post})"
    )
    found: Counter[str] = Counter()
    for text in texts:
        for match in around.finditer(text):
            window = text[max(0, match.start() - 2) : match.end() + 2]
            found.update(
                word
                for word, flag in tagged(window)
                if flag in PERSON_FLAGS and word.startswith(surname) and 2 <= len(word) <= 3
            )
    ranked = found.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def spelled_out(index: SearchIndex, question: str) -> str:
    """The question with a person named by surname and post ("周省长") given the full name
    the passages found for it use ("周启明省长"), so every strategy knows whom it means."""
    titled = titled_people(question, index.tokenizer)
    if not titled:
        return question
    texts = [h.text for h in index.search(question, 10)]
    for offset, surname, post in reversed(titled):  # from the end: earlier offsets stay right
        if name := named(surname, post, texts, index.tokenizer.tagged):
            question = question[:offset] + name + question[offset + len(surname) :]
    return question
