"""Pure: an article's sentences with offsets, and which of them are filler, not news.

Filler is what a page carries around the story: the "原标题：" line, "来源：" and bylines
("本报讯（记者…）", "记者 X 摄"), photo captions ("图为…"), bullet lines that repeat the body.
It is never quoted as an answer unless the question asks for a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.index.chunk import split_sentences

_FILLER = re.compile(
    r"^\s*(?:原标题[:：]|来源[:：]|文章来源|转自|记者[\s\u3000]*\S{1,4}[\s\u3000]*(?:摄|报道)|"
    r"图为|图片来源|（图|\(图|责任编辑|编辑[:：]|●|■|▲|◆|【|关键词[:：])"
    r"|(?:记者|通讯员)[\s\u3000]*\S{1,4}[\s\u3000]*摄[。]?\s*$|^\S{0,12}(?:新闻|日报|晚报|网)记者[\s\u3000]*\S{2,4}\s*$"
)


# A dateline opening the lead: "本报讯（记者 刘畅）", "新华社北京8月5日电（记者 X）", "（记者 X）".
_DATELINE = re.compile(
    r"^\s*(?:本报讯|本报[^\s（(]{0,8}电|新华社[^\s（(]{0,12}电|中新[网社][^\s（(]{0,12}电)?\s*[（(](?:记者|通讯员)[^）)]{0,30}[）)]\s*"
    r"|^\s*(?:本报讯|新华社[^\s（(]{0,12}电)\s*"
)


def after_dateline(sentence: str) -> int:
    """Where the news starts in a lead sentence: after "本报讯（记者 X）" and the like (0 if none)."""
    match = _DATELINE.match(sentence)
    return match.end() if match and match.end() < len(sentence) else 0


_CAPTION = re.compile(
    r"(?:记者|通讯员|摄影)[\s\u3000]*[\u4e00-\u9fff]{2,4}[\s\u3000]*摄[。）)]?\s*$|^\s*图为"
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
        if _CAPTION.search(paragraph):  # a photo caption repeats the story; it is not the story
            offset += len(paragraph) + 1
            continue
        for start, end in split_sentences(paragraph):
            start += after_dateline(paragraph[start:end])
            piece = paragraph[start:end]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                sentences.append(
                    Sentence(offset + start + lead, offset + start + lead + len(stripped), number, stripped)
                )
        offset += len(paragraph) + 1
    return sentences


# A subheading: names and verbs separated by spaces, no sentence end ("刘鹤宣读贺信并致辞 陈敏尔致辞").
_SUBHEADING = re.compile(r"^[^。！？!?]*[\u4e00-\u9fff][ \u3000]+[\u4e00-\u9fff][^。！？!?]*$")


_PUNCTUATED = re.compile(r"[。！？!?；;，,：:、]")


def is_filler(sentence: str) -> bool:
    """Headline, source, byline, caption and subheading lines (see the module docstring)."""
    text = sentence.strip()
    headline = len(text) <= 40 and not _PUNCTUATED.search(text)  # "习近平向…致贺信", a line of its own
    return bool(_FILLER.search(text) or _SUBHEADING.match(text)) or headline or len(text) < 6
