"""Pure text cleaning: HTML body to paragraphs, boilerplate removal, repeated-body collapse."""

from __future__ import annotations

import re
import unicodedata

from bs4 import BeautifulSoup, Comment

# Tags whose content is never article text.
_DROP_TAGS = ("style", "script", "noscript", "iframe", "svg", "head", "template")
# Block elements end a paragraph; inline ones (a, span, font, b...) stay inside it, so
# `采取<a>线上线下</a>结合的方式` comes out whole.
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
    "table", "blockquote", "section", "article", "figure", "figcaption", "pre", "hr",
)  # fmt: skip
# Lines that are page furniture, not news: promotional QR text, editor credit, page junk.
_BOILERPLATE = re.compile(
    r"^(海量资讯、精准解读，尽在新浪财经APP|(责任)?编辑[:：\s]\s*\S{1,12}|我要收藏|\d*个赞|评论排行|"
    r"点击进入专题.*|扫描二维码.*|分享到[:：]?.*)$"
)
_SPACE = re.compile(r"[ \t\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset("br img hr meta link input source wbr area base col embed param track".split())
MAX_HTML_DEPTH = 500


def html_depth(html: str) -> int:
    """Deepest element nesting, in one linear scan (no tree is built)."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID_TAGS or self_closing:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def html_to_paragraphs(html: str) -> list[str]:
    """Extract the readable paragraphs of an HTML body.

    Inline markup (links, `<font>`, `<span>`) is flattened into the surrounding text,
    image captions are kept, styles/scripts/comments are dropped, entities are decoded.
    Pathologically deep markup (thousands of nested tags, which takes a tree builder
    minutes) is reduced to its text by dropping the tags.
    """
    if html_depth(html) > MAX_HTML_DEPTH:
        html = _TAG.sub(lambda m: "\n" if m.group(2).lower() in _BLOCK_TAGS else "", html)
    soup = BeautifulSoup(html, "lxml")
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return text_to_paragraphs(soup.get_text())


def text_to_paragraphs(text: str) -> list[str]:
    """Split plain text into cleaned, non-empty paragraphs without boilerplate lines."""
    paragraphs = []
    for line in text.splitlines():
        line = normalize_spaces(line)
        if line and not _BOILERPLATE.match(line):
            paragraphs.append(line)
    return paragraphs


def normalize_spaces(line: str) -> str:
    """Strip full-width/ideographic leading spaces and collapse inner runs of blanks."""
    return _SPACE.sub(" ", line).strip()


def drop_repeated_paragraphs(paragraphs: list[str]) -> list[str]:
    """Keep the first occurrence of each paragraph.

    Scraped pages often hold the body twice; a paragraph that reappears verbatim adds
    nothing and would take two search slots.
    """
    seen: set[str] = set()
    unique = []
    for paragraph in paragraphs:
        key = unicodedata.normalize("NFKC", paragraph)
        if key not in seen:
            seen.add(key)
            unique.append(paragraph)
    return unique
