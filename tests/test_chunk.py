from rag.index.chunk import chunk_paragraphs, paragraph_spans, split_sentences

from .conftest import SEEDS


def test_sentences_split_after_chinese_terminators_and_quotes():
    text = "他说：“好。”然后走了！真的吗？是；不是"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "他说：“好。”",
        "然后走了！",
        "真的吗？",
        "是；",
        "不是",
    ]


def test_long_paragraph_splits_at_sentence_ends_under_limit():
    paragraph = "".join(f"第{i}句话说了一些内容。" for i in range(40))
    spans = paragraph_spans(paragraph, 60)
    assert all(e - s <= 60 for s, e in spans)
    assert "".join(paragraph[s:e] for s, e in spans) == paragraph
    assert all(paragraph[e - 1] == "。" for s, e in spans)


def test_sentence_longer_than_limit_is_split_not_truncated():
    paragraph = "数字经济" * 100  # 400 characters, no punctuation at all
    spans = paragraph_spans(paragraph, 120)
    assert "".join(paragraph[s:e] for s, e in spans) == paragraph
    assert max(e - s for s, e in spans) <= 120


def test_short_paragraph_joins_next_and_offsets_point_into_article_text():
    paragraphs = [
        "来源：重庆日报",
        "8月23日，论坛在重庆开幕。" * 3,
        "另一段较长的内容，讲了很多事情，足够成为独立的一块。" * 2,
    ]
    text = "\n".join(paragraphs)
    chunks = chunk_paragraphs(paragraphs, max_chars=300, min_chars=20)
    assert len(chunks) == 2
    assert text[chunks[0].start : chunks[0].end].startswith("来源：重庆日报\n8月23日")
    assert chunks[0].paragraph == 0 and chunks[1].paragraph == 2
    assert text[chunks[1].start : chunks[1].end] == paragraphs[2]


def test_seed_chunks_respect_limit():
    from rag.ingest.articles import iter_articles

    for article in iter_articles(SEEDS):
        for span in chunk_paragraphs(article.paragraphs, 300, 40):
            assert 0 < span.end - span.start <= 300
