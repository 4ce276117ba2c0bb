"""Pure helpers that turn corpus text into safe Streamlit output.

Article text is shown as plain text: Streamlit's markdown turns `https://…`, `www.…` and
e-mail addresses into links even when every punctuation mark is escaped, so corpus text
goes out as escaped HTML (`st.html`, no markdown pass, no autolinking) and only the
app's own labels use markdown.
"""

from __future__ import annotations

import html
import re

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


def highlight(text: str, start: int, end: int) -> str:
    """`plain_html` of `text` with `text[start:end]` marked."""
    start, end = max(0, start), min(len(text), end)
    if start >= end:
        return plain_html(text)
    marked = f'<mark style="{MARK_STYLE}">{_lines(text[start:end])}</mark>'
    return f'<div class="rag-text">{_lines(text[:start])}{marked}{_lines(text[end:])}</div>'


def _lines(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")
