"""Pure helpers that turn corpus text into safe Streamlit markdown."""

from __future__ import annotations

import re

# Every ASCII punctuation mark may be backslash-escaped in CommonMark; escaping them all
# means no link, image (remote fetch), HTML tag, emoji code or LaTeX from an article renders.
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """Text that Streamlit's markdown shows literally, line breaks kept."""
    escaped = _ASCII_PUNCTUATION.sub(r"\\\1", text)
    return escaped.replace("\n", "  \n")


def highlight(text: str, start: int, end: int) -> str:
    """Markdown of `text` with `text[start:end]` on a highlighted background."""
    start, end = max(0, start), min(len(text), end)
    if start >= end:
        return escape_markdown(text)
    return (
        escape_markdown(text[:start])
        + ":orange-background["
        + escape_markdown(text[start:end])
        + "]"
        + escape_markdown(text[end:])
    )
