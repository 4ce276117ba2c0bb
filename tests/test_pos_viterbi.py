"""jieba's part-of-speech HMM decoded with numpy (rag.index.pos_viterbi) gives jieba's own
scores and tags: on every corpus line and on random text."""

import jieba.posseg as posseg
from hypothesis import given, settings
from hypothesis import strategies as st
from jieba.posseg.viterbi import viterbi as jieba_viterbi

from rag.index.pos_viterbi import PosHmm
from rag.index.tokens import ChineseTokenizer

from .conftest import FIXTURES, SEEDS

MODEL = PosHmm(posseg.start_P, posseg.trans_P, posseg.emit_P, posseg.char_state_tab_P)
TABLES = (posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P)
# Common characters, rare ones (outside the emission tables) and a name-like mix.
ALPHABET = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会"
ALPHABET += "圩铖氪燊㭎" + "周启明许科敏"


def corpus_lines() -> list[str]:
    files = [*SEEDS.glob("*.txt"), *(FIXTURES / "news").glob("*.md"), *(FIXTURES / "news").glob("*.txt")]
    return [line for path in files for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_same_scores_and_states_on_every_run_of_corpus_characters():
    blocks = sorted({b for line in corpus_lines() for b in posseg.re_han_detail.findall(line)})
    assert len(blocks) > 1000
    for block in blocks:
        assert MODEL.decode(block) == jieba_viterbi(block, *TABLES), block


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=12))
def test_same_as_jieba_on_random_text(text):
    assert MODEL.decode(text) == jieba_viterbi(text, *TABLES)


def test_the_tokenizer_tags_with_it_and_tags_as_jieba_does(monkeypatch):
    tokenizer = ChineseTokenizer()
    text = "省长周启明和坦沙迈在临海市出席了开幕式"
    ours = tokenizer.tagged(text)
    assert isinstance(getattr(posseg.viterbi, "__self__", None), PosHmm)  # installed
    monkeypatch.setattr(posseg, "viterbi", jieba_viterbi)
    assert ours == [(p.word, p.flag) for p in posseg.dt.cut(text)]
