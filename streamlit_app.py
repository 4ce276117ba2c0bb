"""The chat app: ask questions about the news corpus and check every answer against its sources."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import streamlit as st

from rag import store
from rag.answer import Answer
from rag.build import BuildReport, build_index
from rag.config import Settings, load_settings
from rag.conversation import Conversation
from rag.errors import RagError
from rag.feedback import feedback_path, record_feedback
from rag.llm import LLMAnswerer
from rag.render import escape_markdown, highlight, plain_html
from rag.retrieve import SearchIndex, open_index
from rag.router import Router
from rag.upload import Upload, add_articles, reader_reason

EXTRACTIVE_MODE, LLM_MODE = "抽取式（离线）", "大模型"

st.set_page_config(page_title="新闻问答", page_icon="📰", layout="wide")


@st.cache_resource(show_spinner="正在加载索引和模型…")
def load_engine(index_dir: str, embedder: str, version: str) -> tuple[SearchIndex, Router]:
    """One index and router per process and index version, shared by all sessions."""
    del version  # part of the cache key only: a rebuilt index gets a fresh entry
    index = open_index(Path(index_dir), embedder)
    return index, Router(index)


def conversation(router: Router) -> Conversation:
    """This session's conversation (a new one after "新对话" or when the index was rebuilt)."""
    current = st.session_state.get("conversation")
    if current is None or current.router is not router:
        current = st.session_state.conversation = Conversation(router)
    return current


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A progress bar and the build callback that moves it, with rate and time left."""
    bar = st.progress(0.0, text=label)
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        remaining = (total - done) / rate if rate else 0.0
        bar.progress(
            done / max(total, 1),
            text=f"{label}：已处理 {done}/{total} 篇文章，{rate:.1f} 篇/秒，约剩 {remaining:.0f} 秒",
        )

    return progress


def run_build(config: Settings, label: str, rebuild: bool = False) -> None:
    """Build or update the whole index with a progress bar."""
    report_build(build_index(config, rebuild=rebuild, progress=progress_bar(label), log=lambda _: None))


def report_build(report: BuildReport) -> None:
    st.session_state.build_message = (
        f"索引：{report.articles} 篇文章，{report.chunks} 个段落，新向量化 {report.embedded_chunks} 个，"
        f"用时 {report.seconds:.1f} 秒。"
        + (f" 跳过 {len(report.skipped)} 个文件。" if report.skipped else "")
    )


def offer_build(config: Settings) -> None:
    st.title("新闻问答")
    st.warning(f"还没有索引（{config.index}）。可以从语料目录 {config.corpus} 建立。")
    if st.button("从语料建立索引", type="primary"):
        run_build(config, "正在建立索引")
        st.rerun()


def sidebar(index: SearchIndex, config: Settings) -> dict:
    """Corpus overview and search options; returns the options."""
    stats = index.stats()
    with st.sidebar:
        st.header("语料库")
        st.markdown(
            f"- 文章：**{stats['articles']}** 篇\n- 段落：**{stats['chunks']}** 个\n"
            f"- 日期：{stats['first_date'] or '—'} 至 {stats['last_date'] or '—'}\n"
            f"- 向量模型：`{escape_markdown(stats['embedder'])}`"
        )
        first = date.fromisoformat(stats["first_date"]) if stats["first_date"] else date(2000, 1, 1)
        last = date.fromisoformat(stats["last_date"]) if stats["last_date"] else date.today()
        use_dates = st.toggle("按日期筛选", key="use_dates")
        period = st.date_input(
            "日期范围",
            value=(first, last),
            min_value=first,
            max_value=last,
            disabled=not use_dates,
            key="period",
        )
        top_k = st.slider("检索段落数", 1, 10, config.top_k, key="top_k")
        modes = [EXTRACTIVE_MODE] + ([LLM_MODE] if config.llm_base_url and config.llm_model else [])
        mode = st.radio("回答方式", modes, key="mode")
        if st.button("新对话", use_container_width=True):
            st.session_state.messages = []
            st.session_state.pop("conversation", None)
            st.rerun()

        st.header("管理")
        uploads = st.file_uploader(
            "添加文章（.txt / .md / .html）",
            type=["txt", "md", "html"],
            accept_multiple_files=True,
            key="uploads",
        )
        if uploads and st.button("加入语料并更新索引"):
            add_uploads(uploads, config)
        if st.button("重建索引"):
            run_build(config, "正在重建索引", rebuild=True)
            st.rerun()
        if "build_message" in st.session_state:
            st.caption(st.session_state.build_message)
    since = until = None
    if use_dates and isinstance(period, tuple) and len(period) == 2:
        since, until = period
    return {"since": since, "until": until, "k": top_k, "mode": mode}


def add_uploads(uploads: list, config: Settings) -> None:
    """Copy uploaded files into the corpus and index them; refused ones are explained in Chinese."""
    progress = progress_bar(f"正在索引 {len(uploads)} 篇文章")
    try:
        report, refused = add_articles(
            config, [Upload(u.name, u.getvalue()) for u in uploads], progress=progress, log=lambda _: None
        )
    except RagError as exc:
        st.sidebar.error(f"未添加：{reader_reason(str(exc))}")
        return
    report_build(report)
    for name, reason in refused.items():
        st.sidebar.error(f"未添加《{name}》：{reader_reason(reason)}")
    added = [u.name for u in uploads if u.name not in refused]
    if added:
        st.sidebar.success("已添加：" + "、".join(added))


def show_sources(answer: dict, message_index: int, index: SearchIndex) -> None:
    """One expandable card per citation: title, date, source, the paragraph with its span marked."""
    if not answer["citations"]:
        return
    if not answer["answerable"]:
        st.caption("没有找到能回答这个问题的内容。以下是最接近的段落，仅供参考：")
    for citation in answer["citations"]:
        title = f"[{citation['n']}] {citation['title']}（{citation['date'] or '日期不详'}）"
        with st.expander(escape_markdown(title)):
            article = index.article(citation["article_id"])
            st.caption(
                escape_markdown(f"来源：{article['author'] or '未知'} · 文章编号：{citation['article_id']}")
            )
            if answer["answerable"]:
                st.html(highlight(citation["text"], citation["spans"]))
            else:
                st.html(plain_html(citation["text"]))
            if st.toggle("显示全文", key=f"full_{message_index}_{citation['n']}"):
                st.html(plain_html(article["text"]))


def show_feedback(answer: dict, message_index: int, config: Settings) -> None:
    rating = st.feedback("thumbs", key=f"feedback_{message_index}")
    recorded = st.session_state.setdefault("rated", set())
    if rating is not None and message_index not in recorded:
        record_feedback(feedback_path(config.index), rating, answer)
        recorded.add(message_index)
        st.caption("谢谢反馈！")


def show_message(message: dict, message_index: int, index: SearchIndex, config: Settings) -> None:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(escape_markdown(message["content"]))
            return
        answer = message["answer"]
        st.html(plain_html(answer["answer"]))
        if answer.get("standalone_question", answer["question"]) != answer["question"]:
            st.caption(escape_markdown(f"按上下文理解为：{answer['standalone_question']}"))
        if answer.get("notice"):
            st.info(escape_markdown(answer["notice"]))
        show_sources(answer, message_index, index)
        show_feedback(answer, message_index, config)


def ask(question: str, options: dict, router: Router, config: Settings) -> Answer:
    """Answer with the chosen mode; LLM tokens stream into the chat as they arrive."""
    chat = conversation(router)
    filters = {"k": options["k"], "since": options["since"], "until": options["until"]}
    if options["mode"] == LLM_MODE:
        standalone = chat.standalone(question)
        with st.chat_message("assistant"):
            placeholder, written = st.empty(), []

            def show(piece: str) -> None:
                written.append(piece)
                placeholder.html(plain_html("".join(written)))

            answer = LLMAnswerer.from_settings(router.answerer, config).ask(
                standalone, on_token=show, **filters
            )
        answer.standalone_question = standalone
        chat.remember(question, answer)
    else:
        answer = chat.ask(question, **filters)
        with st.chat_message("assistant"):
            st.html(plain_html(answer.answer))
    return answer


def main() -> None:
    config = load_settings()
    st.session_state.setdefault("messages", [])
    try:
        version = store.current_version(config.index)
    except RagError as exc:
        st.error(f"索引无法读取：{exc}")
        return
    if version is None:
        offer_build(config)
        return
    try:
        index, router = load_engine(str(config.index), config.embedder, version.name)
    except RagError as exc:
        st.error(f"索引无法加载：{exc}")
        return
    options = sidebar(index, config)
    st.title("新闻问答")
    st.caption("用中文提问，回答只来自语料中的文章，并注明出处和日期。")
    for number, message in enumerate(st.session_state.messages):
        show_message(message, number, index, config)

    question = st.chat_input("请输入问题，例如：2021智博会有多少家企业参展？")
    if not question:
        return
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    try:
        answer = ask(question, options, router, config)
    except RagError as exc:
        st.session_state.messages.pop()
        st.error(f"无法回答：{exc}")
        return
    payload = answer.to_dict()
    st.session_state.messages.append({"role": "assistant", "answer": payload})
    st.rerun()


main()
