"""Articles to paragraph chunks with character offsets; long paragraphs split at sentence ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at 。！？；!? (plus any closing quotes/brackets that follow it) or a newline;
# an ASCII ! or ? directly followed by a URL character (`signup?id=1`) does not end it.
_SENTENCE_END = re.compile(
    r"(?:[^。！？；!?\n]|[!?]+(?=[A-Za-z0-9=&%/#_-]))*(?:[。！？；!?]+[”’」』）)\"]*|\n|$)"
)
_CLAUSE_END = re.compile(r"[^，、,：:]*(?:[，、,：:]|$)")


@dataclass(frozen=True)
class ChunkSpan:
    """A chunk's place in its article: `text[start:end]` of the cleaned article text."""

    paragraph: int
    start: int
    end: int


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text`, covering it without gaps."""
    spans = []
    for match in _SENTENCE_END.finditer(text):
        if match.end() > match.start():
            spans.append((match.start(), match.end()))
    return spans


def _split_long(text: str, base: int, limit: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at clause marks, then hard at `limit` characters."""
    pieces = [(m.start(), m.end()) for m in _CLAUSE_END.finditer(text) if m.end() > m.start()]
    return [
        (base + s + offset, base + min(s + offset + limit, e))
        for s, e in _pack(pieces, limit)
        for offset in range(0, e - s, limit)
    ]


def _pack(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Greedily merge consecutive spans while the merged span stays within `limit`."""
    packed: list[tuple[int, int]] = []
    for start, end in spans:
        if packed and end - packed[-1][0] <= limit:
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed


def paragraph_spans(paragraph: str, max_chars: int) -> list[tuple[int, int]]:
    """Split a paragraph into pieces of at most `max_chars`, preferring sentence ends."""
    if len(paragraph) <= max_chars:
        return [(0, len(paragraph))]
    sentences: list[tuple[int, int]] = []
    for start, end in split_sentences(paragraph):
        if end - start > max_chars:
            sentences.extend(_split_long(paragraph[start:end], start, max_chars))
        else:
            sentences.append((start, end))
    return _pack(sentences, max_chars)


def chunk_paragraphs(paragraphs: list[str], max_chars: int, min_chars: int) -> list[ChunkSpan]:
    """Chunk an article given as paragraphs joined by newlines.

    Each paragraph becomes one chunk, a long one is split at sentence ends under
    `max_chars`, and a paragraph shorter than `min_chars` (a dateline, a caption) joins
    the chunk after it when the result still fits, so it is not a chunk of its own.
    Offsets index into `"\\n".join(paragraphs)`.
    """
    if max_chars < 20 or min_chars < 0:
        raise ValueError(f"chunk sizes out of range: max_chars={max_chars}, min_chars={min_chars}")
    chunks: list[ChunkSpan] = []
    pending: ChunkSpan | None = None
    offset = 0
    for number, paragraph in enumerate(paragraphs):
        for start, end in paragraph_spans(paragraph, max_chars):
            span = ChunkSpan(number, offset + start, offset + end)
            if pending is not None and span.end - pending.start <= max_chars:
                span = ChunkSpan(pending.paragraph, pending.start, span.end)
            elif pending is not None:
                chunks.append(pending)
            pending = None
            if span.end - span.start < min_chars:
                pending = span
            else:
                chunks.append(span)
        offset += len(paragraph) + 1
    if pending is not None:
        if chunks and pending.end - chunks[-1].start <= max_chars:
            chunks[-1] = ChunkSpan(chunks[-1].paragraph, chunks[-1].start, pending.end)
        else:
            chunks.append(pending)
    return chunks


def article_chunks(
    article_id: str, text: str, paragraphs: list[str], max_chars: int, min_chars: int
) -> list[dict]:
    """An article's chunk rows: id `<article_id>#<n>`, paragraph number, offsets into `text`, text."""
    return [
        {
            "chunk_id": f"{article_id}#{number}",
            "paragraph": span.paragraph,
            "start": span.start,
            "end": span.end,
            "text": text[span.start : span.end],
        }
        for number, span in enumerate(chunk_paragraphs(paragraphs, max_chars, min_chars))
    ]
