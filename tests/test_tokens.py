"""Tokenizing Chinese (rag.index.tokens): folded text, content words, bigrams for unknown names,
the names and numbers an answer must hold, and the BM25 terms of a chunk."""

from rag.index.tokens import BIGRAM_PREFIX, ChineseTokenizer, chunk_terms, fold_text, normalise_text

TOKENIZER = ChineseTokenizer()


def test_full_width_and_case_fold_to_one_form():
    assert normalise_text("ＡＩ１２３ＧＤＰ") == "ai123gdp"
    assert fold_text("“数字经济”， 大会！") == fold_text("数字经济大会")


def test_tokens_hold_words_and_bigrams_of_every_cjk_run():
    tokens = TOKENIZER("坦沙迈出席论坛")
    assert "论坛" in tokens and BIGRAM_PREFIX + "坦沙" in tokens and BIGRAM_PREFIX + "沙迈" in tokens
    assert not any(t.startswith(BIGRAM_PREFIX) for t in ChineseTokenizer(bigrams=False)("坦沙迈出席论坛"))


def test_words_drop_stopwords_and_punctuation():
    words = TOKENIZER.words("他在会议上表示，数字经济的发展！")
    assert "数字" in words and "，" not in words and "的" not in words


def test_pointing_words_of_a_question_are_no_content():
    words = TOKENIZER.words("云岭那个零碳数据中心园区，白皮书里那届签约金额到底有多少")
    assert {"零碳", "园区", "白皮书"} <= set(words)
    assert not {"那个", "里", "那届", "到底"} & set(words)


def test_key_terms_are_names_and_numbers_of_two_digits_or_more():
    terms = TOKENIZER.key_terms("2025年上海的5个项目")
    assert "上海" in terms and any("2025" in t for t in terms) and "5" not in terms


def test_chunk_terms_put_the_title_before_each_chunk():
    terms = chunk_terms(TOKENIZER, "智博会开幕", ["企业参展", "签约项目"])
    title = TOKENIZER("智博会开幕")
    assert [t[: len(title)] for t in terms] == [title, title]
    assert terms[1][len(title) :] == TOKENIZER("签约项目")
