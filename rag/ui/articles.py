"""The article browser (`/articles`): every article with its date, source and size; filter by
date and title words, sort by any column, and read one with the spans cited in this chat marked."""

from __future__ import annotations

import streamlit as st

from rag.config import load_settings
from rag.index.records import IndexedArticle
from rag.search.catalog import Catalog
from rag.ui.engine import live_engine
from rag.ui.render import escape_markdown, highlight

OPEN_ARTICLE = "open_article"  # session key: the chat page's "在文章浏览中打开" sets it


def cited_spans(messages: list[dict], article_id: str) -> list[tuple[int, int]]:
    """Where this conversation's answers quoted the article, as offsets into its text."""
    return [
        (citation["article_start"] + start, citation["article_start"] + end)
        for message in messages if message["role"] == "assistant"
        for citation in message["answer"]["citations"] if citation["article_id"] == article_id
        for start, end in citation["spans"]
    ]  # fmt: skip


def articles_page() -> None:
    config = load_settings()
    engine = live_engine(config)
    st.title("文章浏览")
    if engine is None:
        st.warning("还没有索引。请在问答页建立索引。")
        return
    index, router = engine
    catalog: Catalog = router.catalog
    records, counts = catalog.articles(), catalog.chunk_counts()
    days = [day for r in records if (day := r.day) is not None]
    left, right = st.columns([2, 1])
    words = left.text_input("标题包含", key="browse_words", placeholder="例如：数字经济")
    period = None
    if days and right.toggle("按日期筛选", key="browse_use_dates"):
        chosen = right.date_input("日期范围", value=(min(days), max(days)), key="browse_period")
        period = chosen if isinstance(chosen, tuple) and len(chosen) == 2 else None
    since, until = period or (None, None)
    shown = sorted(catalog.find(words, since, until), key=lambda r: r.date, reverse=True)
    st.caption(f"共 {len(records)} 篇，显示 {len(shown)} 篇。勾选一行左侧的方框阅读全文；点击列名排序。")
    table = {
        "标题": [r.title for r in shown],
        "日期": [r.date or "日期不详" for r in shown],
        "来源": [r.author or "未知" for r in shown],
        "段落数": [counts.get(r.article_id, 0) for r in shown],
    }
    selection = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="browse_table"
    )
    rows = selection.selection.rows if selection else []
    chosen_id = shown[rows[0]].article_id if rows else st.session_state.get(OPEN_ARTICLE)
    if chosen_id and catalog.by_id(chosen_id):
        show_article(index.article(chosen_id), st.session_state.get("messages", []))


def show_article(article: IndexedArticle, messages: list[dict]) -> None:
    """The cleaned article with its record; spans this conversation cited are marked."""
    st.subheader(escape_markdown(article.title))
    details = [article.date or "日期不详", article.author or "来源未知"]
    if article.categories:
        details.append("、".join(article.categories))
    st.caption(escape_markdown(" · ".join(details) + f" · 文章编号 {article.article_id}"))
    if article.url:  # http(s) only: checked when the article was read
        st.link_button("打开原文网页", article.url)
    spans = cited_spans(messages, article.article_id)
    if spans:
        st.caption("标出的是本次对话引用过的句子。")
    st.html(highlight(article.text, spans))
