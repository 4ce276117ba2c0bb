"""Pure: an article's sentences with offsets, and which of them are filler, not news.

Filler is what a page carries around the story: the "原标题：" line, "来源：" and bylines
("本报讯（记者…）", "记者 X 摄"), photo captions ("图为…"), bullet lines that repeat the body.
It is never quoted as an answer unless the question asks for a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.chunk import split_sentences

_FILLER = re.compile(
    r"^\s*(?:原标题[:：]|来源[:：]|文章来源|转自|本报讯|本报记者|新华社|记者[\s\u3000]*\S{1,4}[\s\u3000]*(?:摄|报道)|"
    r"图为|图片来源|（图|\(图|责任编辑|编辑[:：]|●|■|▲|◆|【|关键词[:：])"
    r"|(?:记者|通讯员)[\s\u3000]*\S{1,4}[\s\u3000]*摄[。]?\s*$|^\S{0,12}(?:新闻|日报|晚报|网)记者[\s\u3000]*\S{2,4}\s*$"
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article's text: `text[start:end]` of the article, and its paragraph."""

    start: int
    end: int
    paragraph: int
    text: str


def article_sentences(text: str) -> list[Sentence]:
    """Every non-blank sentence of an article's cleaned text (paragraphs are its lines)."""
    sentences: list[Sentence] = []
    offset = 0
    for number, paragraph in enumerate(text.split("\n")):
        for start, end in split_sentences(paragraph):
            piece = paragraph[start:end]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                sentences.append(
                    Sentence(offset + start + lead, offset + start + lead + len(stripped), number, stripped)
                )
        offset += len(paragraph) + 1
    return sentences


def is_filler(sentence: str) -> bool:
    """Headline, source, byline and caption lines (see the module docstring)."""
    return bool(_FILLER.search(sentence)) or len(sentence.strip()) < 6
