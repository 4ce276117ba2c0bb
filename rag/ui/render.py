"""Pure helpers that turn corpus text into safe Streamlit output.

Article text is shown as plain text: Streamlit's markdown turns `https://…`, `www.…` and
e-mail addresses into links even when every punctuation mark is escaped, so corpus text
goes out as escaped HTML (`st.html`, no markdown pass, no autolinking) and only the
app's own labels use markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

# Every ASCII punctuation mark may be backslash-escaped in CommonMark; escaping them all
# means no link syntax, image (remote fetch), HTML tag, emoji code or LaTeX renders.
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
MARK_STYLE = "background: rgba(255, 164, 33, 0.35); padding: 0 1px; border-radius: 2px"


def escape_markdown(text: str) -> str:
    """Text that Streamlit's markdown shows literally (for labels), line breaks kept."""
    escaped = _ASCII_PUNCTUATION.sub(r"\\\1", text)
    return escaped.replace("\n", "  \n")


def plain_html(text: str) -> str:
    """Corpus text as an HTML block that shows it verbatim: escaped, no links, line breaks kept."""
    return f'<div class="rag-text">{_lines(text)}</div>'


def highlight(text: str, spans: Sequence[Sequence[int]]) -> str:
    """`plain_html` of `text` with every `text[start:end]` of `spans` marked (overlaps merged)."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, cursor = [], 0
    for start, end in merged:
        pieces.append(
            _lines(text[cursor:start]) + f'<mark style="{MARK_STYLE}">{_lines(text[start:end])}</mark>'
        )
        cursor = end
    return f'<div class="rag-text">{"".join(pieces)}{_lines(text[cursor:])}</div>'


def _lines(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")
