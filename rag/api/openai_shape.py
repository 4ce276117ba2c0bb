"""Answers in the OpenAI chat-completions shape: one completion, or the chunks of a stream."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

from rag.answer.answers import Answer

# Streamed pieces end after punctuation or a citation marker, so a client shows whole clauses.
_PIECE = re.compile(r".+?(?:\[\d+\]|[，,。；;！!？?：:\n]|$)", re.S)


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def answer_fields(answer: Answer) -> dict:
    """What this service adds to an assistant message: citations exactly as `rag ask --json`."""
    data = answer.to_dict()
    fields = {
        "references": data["citations"],
        "answerable": data["answerable"],
        "kind": data["kind"],
        "standalone_question": data["standalone_question"],
    }
    if answer.notice:
        fields["notice"] = answer.notice
    return fields


def usage(prompt: str, answer: Answer) -> dict:
    """Token counts are unknown for extractive answers: characters are counted instead."""
    prompt_chars, answer_chars = len(prompt), len(answer.answer)
    return {
        "prompt_tokens": prompt_chars,
        "completion_tokens": answer_chars,
        "total_tokens": prompt_chars + answer_chars,
        "unit": "characters",
    }


def completion(answer: Answer, model: str, prompt: str) -> dict:
    """A `chat.completion` object."""
    message = {"role": "assistant", "content": answer.answer, **answer_fields(answer)}
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage(prompt, answer),
        "timings_ms": answer.timings_ms,
    }


def pieces(text: str) -> list[str]:
    """The answer cut into clauses; joined they are exactly `text`."""
    return _PIECE.findall(text) if text else []


def stream_chunks(answer: Answer, model: str, prompt: str, with_usage: bool = False) -> Iterator[dict]:
    """`chat.completion.chunk` objects: the role, the content clause by clause, then the
    references and finish reason in the last chunk; with `with_usage` (OpenAI's
    `stream_options.include_usage`) one more chunk with no choices and the usage."""
    base = {
        "id": completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    yield {
        **base,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
    }
    for piece in pieces(answer.answer):
        yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": answer_fields(answer), "finish_reason": "stop"}]}
    if with_usage:
        yield {**base, "choices": [], "usage": usage(prompt, answer)}
