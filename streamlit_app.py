"""The chat app: ask questions about the news corpus and check every answer against its sources.

Two pages: the chat (`/`) and the article browser (`/articles`, rag/ui/articles.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date

import streamlit as st

from rag.answer.answers import Answer
from rag.answer.conversation import Conversation
from rag.answer.router import Router
from rag.config import Settings, load_settings
from rag.errors import QueryError, RagError
from rag.eval.feedback import feedback_path, record_feedback
from rag.index.add import add_articles
from rag.index.build import build_index
from rag.index.report import BuildReport
from rag.ingest.upload import Upload, reader_reason
from rag.search.query import SearchFilters
from rag.search.retrieve import SearchIndex
from rag.ui.articles import OPEN_ARTICLE, articles_page
from rag.ui.engine import live_engine, live_version, progress_text, rebuild_of, start_rebuild
from rag.ui.export import conversation_json, conversation_markdown
from rag.ui.render import escape_markdown, highlight, plain_html
from rag.ui.suggest import suggested_questions

EXTRACTIVE_MODE, LLM_MODE = "抽取式（离线）", "大模型"
EMBEDDED_PER_S = 300  # chunks a second on 2 cores (docs/BENCHMARKS.md), for the rebuild estimate
PENDING = "pending_question"  # a question to ask on this run: a suggestion, or "search everything"
_TOO_LONG = re.compile(r"query has (\d+) characters; the limit is (\d+)")

st.set_page_config(page_title="新闻问答", page_icon="📰", layout="wide")


def conversation(router: Router) -> Conversation:
    """This session's conversation (a new one after "新对话"; the same turns over a new index version)."""
    current = st.session_state.get("conversation")
    if current is None or current.router is not router:
        fresh = Conversation(router)
        if current is not None:  # a rebuilt or extended index: the chat on screen is still the context
            fresh.turns = current.turns
        current = st.session_state.conversation = fresh
    return current


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A progress bar and the build callback that moves it, with rate and time left."""
    bar = st.progress(0.0, text=label)
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=progress_text(label, done, total, time.monotonic() - started))

    return progress


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
        progress = progress_bar("正在建立索引")
        report_build(build_index(config, progress=progress, log=lambda _: None))
        st.rerun()


def llm_configured(config: Settings) -> bool:
    return bool(config.llm_base_url and config.llm_model)


def sidebar(index: SearchIndex, config: Settings) -> dict:
    """Corpus overview, search options, export and management; returns the options."""
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
        # No min/max: any range may be chosen (Streamlit's out-of-range error would be English).
        period = st.date_input("日期范围", value=(first, last), disabled=not use_dates, key="period")
        top_k = st.slider("检索段落数", 1, 10, config.top_k, key="top_k")
        configured = llm_configured(config)
        mode = st.radio(
            "回答方式",
            [EXTRACTIVE_MODE, LLM_MODE],
            captions=[
                "离线，逐句引自原文",
                "已配置" if configured else "未配置：设置 RAG_LLM_BASE_URL 和 RAG_LLM_MODEL",
            ],
            disabled=not configured,
            key="mode",
        )
        if st.button("新对话", use_container_width=True):
            st.session_state.messages = []
            st.session_state.pop("conversation", None)
            st.rerun()
        export_buttons()
        manage(config, stats)
    since = until = None
    if use_dates and isinstance(period, tuple) and len(period) == 2:
        since, until = period
    return {"since": since, "until": until, "k": top_k, "mode": mode if configured else EXTRACTIVE_MODE}


def export_buttons() -> None:
    messages = st.session_state.messages
    if not any(m["role"] == "assistant" for m in messages):
        return
    st.header("导出对话")
    left, right = st.columns(2)
    left.download_button("Markdown", conversation_markdown(messages), "新闻问答.md", "text/markdown")
    right.download_button("JSON", conversation_json(messages), "新闻问答.json", "application/json")


def manage(config: Settings, stats: dict) -> None:
    """Uploads, and a rebuild that asks first and then runs in the background."""
    st.header("管理")
    uploads = st.file_uploader(
        "添加文章（.txt / .md / .html，每个文件不超过 20 MB）",
        type=["txt", "md", "html"],
        accept_multiple_files=True,
        key=f"uploads_{st.session_state.get('upload_round', 0)}",
    )
    if uploads and st.button("加入语料并更新索引"):
        add_uploads(uploads, config)
    rebuild = rebuild_of(config)
    if rebuild is not None and rebuild.running:
        st.caption("正在后台重建索引…")
    elif st.session_state.get("confirm_rebuild"):
        minutes = max(stats["chunks"] / EMBEDDED_PER_S / 60, 0.1)
        st.warning(f"重建会重新向量化全部 {stats['articles']} 篇文章，约 {minutes:.1f} 分钟；可继续提问。")
        left, right = st.columns(2)
        if left.button("确认重建", type="primary"):
            st.session_state.confirm_rebuild = False
            start_rebuild(config)
            st.rerun()
        if right.button("取消"):
            st.session_state.confirm_rebuild = False
            st.rerun()
    elif st.button("重建索引…"):
        st.session_state.confirm_rebuild = True
        st.rerun()
    if "build_message" in st.session_state:
        st.caption(st.session_state.build_message)


def add_uploads(uploads: list, config: Settings) -> None:
    """Copy uploaded files into the corpus and index them; refused ones are explained in Chinese."""
    progress = progress_bar(f"正在索引 {len(uploads)} 篇文章")
    try:
        report, refused = add_articles(
            config, [Upload(u.name, u.getvalue()) for u in uploads], progress=progress, log=lambda _: None
        )
    except RagError as exc:
        st.session_state.upload_notes = [("error", f"未添加：{reader_reason(str(exc))}")]
        return
    report_build(report)
    notes = [("error", f"未添加《{name}》：{reader_reason(reason)}") for name, reason in refused.items()]
    added = [u.name for u in uploads if u.name not in refused]
    if added:
        notes.append(("success", "已添加：" + "、".join(added)))
    # A fresh uploader (the files do not stay to be added again) and the new counts.
    st.session_state.upload_notes = notes
    st.session_state.upload_round = st.session_state.get("upload_round", 0) + 1
    st.rerun()


@st.fragment(run_every=1.0)
def rebuild_progress(config: Settings) -> None:
    """At the top of the page while a rebuild runs; the app reloads once it is published."""
    rebuild = rebuild_of(config)
    if rebuild is None or st.session_state.get("rebuild_seen") is rebuild:
        return
    if rebuild.running:
        st.progress(rebuild.done / max(rebuild.total, 1), text=rebuild.status())
        return
    st.session_state.rebuild_seen = rebuild
    if rebuild.error:
        st.session_state.build_message = f"重建失败：{rebuild.error}"
    elif rebuild.report is not None:
        report_build(rebuild.report)
    st.rerun(scope="app")


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
                escape_markdown(f"来源：{article.author or '未知'} · 文章编号：{citation['article_id']}")
            )
            if answer["answerable"]:
                st.html(highlight(citation["text"], citation["spans"]))
            else:
                st.html(plain_html(citation["text"]))
            if st.toggle("显示全文", key=f"full_{message_index}_{citation['n']}"):
                shift = citation["article_start"]
                spans = [(shift + a, shift + b) for a, b in citation["spans"]] if answer["answerable"] else []
                st.html(highlight(article.text, spans))
            if article.url:  # http(s) only: checked when the article was read
                st.link_button("打开原文网页", article.url)
            if st.button("在文章浏览中打开", key=f"open_{message_index}_{citation['n']}"):
                st.session_state[OPEN_ARTICLE] = citation["article_id"]
                st.switch_page(ARTICLES_PAGE)


def show_feedback(answer: dict, message_index: int, config: Settings) -> None:
    rating = st.feedback("thumbs", key=f"feedback_{message_index}")
    recorded = st.session_state.setdefault("rated", set())
    if rating is not None and message_index not in recorded:
        record_feedback(feedback_path(config.index), rating, answer)
        recorded.add(message_index)
        st.caption("谢谢反馈！")


def search_everything(question: str) -> None:
    """ "在全部文章中搜索": the date filter off, the question asked again."""
    st.session_state.use_dates = False
    st.session_state[PENDING] = question


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
        period = message.get("period")
        if not answer["answerable"] and period:
            st.caption(f"只在 {period[0]} 至 {period[1]} 的文章中找过。")
            st.button("在全部文章中搜索", key=f"everything_{message_index}", on_click=search_everything,
                      args=(answer["question"],))  # fmt: skip
        show_sources(answer, message_index, index)
        with st.popover("复制回答"):
            st.code(copy_text(answer), language=None, wrap_lines=True)
        show_feedback(answer, message_index, config)


def copy_text(answer: dict) -> str:
    """The answer with its numbered sources, as a reader pastes it elsewhere."""
    sources = [f"[{c['n']}] 《{c['title']}》（{c['date'] or '日期不详'}）" for c in answer["citations"]]
    if not sources:
        return answer["answer"]
    heading = "来源：" if answer["answerable"] else "最接近的段落："
    return answer["answer"] + "\n\n" + heading + "\n" + "\n".join(sources)


def ask(question: str, options: dict, router: Router, config: Settings) -> Answer:
    """Answer with the chosen mode; LLM tokens stream into the chat as they arrive."""
    chat = conversation(router)
    filters = SearchFilters.parse(options["since"], options["until"])
    if options["mode"] == LLM_MODE:
        with st.chat_message("assistant"):
            placeholder, written = st.empty(), []

            def show(piece: str) -> None:
                written.append(piece)
                placeholder.html(plain_html("".join(written)))

            answer = chat.ask_model(question, config, options["k"], filters, on_token=show)
    else:
        answer = chat.ask(question, options["k"], filters)
        with st.chat_message("assistant"):
            st.html(plain_html(answer.answer))
    return answer


def reader_error(exc: RagError) -> str:
    """Why a question could not be asked, in Chinese."""
    too_long = _TOO_LONG.search(str(exc))
    if too_long:
        return f"问题有 {too_long.group(1)} 个字，最多 {too_long.group(2)} 个字，请缩短后再问。"
    if isinstance(exc, QueryError) and "empty" in str(exc):
        return "问题是空的，请输入问题。"
    return f"无法回答：{exc}"


def welcome(router: Router) -> None:
    """The empty page: what this is, and questions the corpus can answer."""
    st.markdown(
        "用中文提问新闻里的事实、人物讲话、清单、时间线或比较，也可以问语料本身（有哪些报道、几篇）。"
        "每个回答都注明出处文章的标题和日期；语料里没有的，会直说没有找到。"
    )
    st.caption("试试这些问题：")
    suggestions = suggested_questions(router.catalog.articles(), router.people)
    columns = st.columns(min(len(suggestions), 3) or 1)
    for number, question in enumerate(suggestions):
        if columns[number % len(columns)].button(question, key=f"suggest_{number}", use_container_width=True):
            st.session_state[PENDING] = question


def chat_page() -> None:
    config = load_settings()
    st.session_state.setdefault("messages", [])
    if live_version(config) is None:
        offer_build(config)
        return
    st.title("新闻问答")
    st.caption("用中文提问，回答只来自语料中的文章，并注明出处和日期。")
    # The input comes before the models load (a second or two on the first visit): the
    # reader types while they do, and a question sent meanwhile is answered once they are in.
    # No max_chars: a pasted text over it vanished without a word; the reason comes in Chinese instead.
    typed = st.chat_input("请输入问题，例如：2021智博会有多少家企业参展？")
    engine = live_engine(config)
    if engine is None:  # removed while loading
        offer_build(config)
        return
    index, router = engine
    rebuild_progress(config)
    options = sidebar(index, config)
    for kind, text in st.session_state.pop("upload_notes", []):
        getattr(st.sidebar, kind)(text)
    if not st.session_state.messages:
        welcome(router)
    for number, message in enumerate(st.session_state.messages):
        show_message(message, number, index, config)
    if "draft" in st.session_state:
        draft = st.text_area("你的问题（可修改后重新提问）", value=st.session_state.draft, key="draft_text")
        if st.button("重新提问"):
            st.session_state[PENDING] = draft
            del st.session_state.draft
            st.rerun()

    question = typed or st.session_state.pop(PENDING, None)
    if not question:
        return
    st.session_state.pop("draft", None)
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    try:
        answer = ask(question, options, router, config)
    except RagError as exc:
        st.session_state.messages.pop()
        st.session_state.draft = question
        st.session_state.ask_error = reader_error(exc)
        st.rerun()
    message = {"role": "assistant", "answer": answer.to_dict()}
    if options["since"] and options["until"]:
        message["period"] = (options["since"].isoformat(), options["until"].isoformat())
    st.session_state.messages.append(message)
    st.rerun()


def show_ask_error() -> None:
    if "ask_error" in st.session_state:
        st.error(st.session_state.pop("ask_error"))


CHAT_PAGE = st.Page(chat_page, title="问答", icon=":material/chat:", url_path="chat", default=True)
ARTICLES_PAGE = st.Page(articles_page, title="文章浏览", icon=":material/article:", url_path="articles")
navigation = st.navigation([CHAT_PAGE, ARTICLES_PAGE])
show_ask_error()
navigation.run()
