"""The Streamlit app driven by streamlit.testing.v1.AppTest on a real seed index."""

import shutil
import time
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture()
def app_env(seed_index_dir, corpus_copy, tmp_path, monkeypatch):
    """The app pointed at a private copy of the seed index and corpus."""
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    monkeypatch.setenv("RAG_INDEX", str(index_dir))
    monkeypatch.setenv("RAG_CORPUS", str(corpus_copy))
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "absent.toml"))
    return index_dir, corpus_copy


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def _assistant_texts(at: AppTest) -> list[str]:
    return [m.get("html")[0].proto.body for m in at.chat_message if m.name == "assistant"]


def _rebuild(at: AppTest) -> AppTest:
    """Rebuild from the sidebar (asked to confirm first) and wait until it is published."""
    next(b for b in at.sidebar.button if b.label == "重建索引…").click().run()
    next(b for b in at.sidebar.button if b.label == "确认重建").click().run()
    for _ in range(240):
        at.run()
        if any(c.value.startswith("索引：") for c in at.sidebar.caption):
            return at
        time.sleep(0.25)
    raise AssertionError("the rebuild did not finish")


def _corpus_html(at: AppTest) -> list[str]:
    """Every block of corpus text the page shows (answers, cited passages, full texts)."""
    return [block.proto.body for block in at.get("html")]


def test_question_gets_answer_with_cited_title_and_date(app_env):
    at = _ask(_app(), "2021智博会有多少家企业参展？")
    answer = _assistant_texts(at)[-1]
    assert "610余家" in answer and "[1]" in answer
    labels = [e.label for e in at.expander]
    assert any("2021中国国际智能产业博览会开幕" in label and "2021\\-08\\-24" in label for label in labels)
    assert any("<mark" in block and "610余家" in block for block in _corpus_html(at))


def test_follow_up_question_uses_the_previous_turn(app_env):
    at = _ask(_app(), "许科敏在哪个论坛上讲话？")
    at = _ask(at, "他还说了什么？")
    captions = " ".join(c.value for c in at.caption)
    assert "按上下文理解为" in captions and "许科敏" in captions
    assert len(_assistant_texts(at)) == 2


def test_unanswerable_question_is_refused_with_closest_passages(app_env):
    at = _ask(_app(), "华为2021年的营业收入是多少？")
    assert "资料中没有找到相关信息" in _assistant_texts(at)[-1]
    assert any("最接近的段落" in c.value for c in at.caption)
    assert len(at.expander) >= 1


def test_date_filter_restricts_sources(app_env):
    at = _app()
    at.toggle(key="use_dates").set_value(True).run()
    at.date_input(key="period").set_value((date(2020, 6, 12), date(2020, 12, 31))).run()
    at = _ask(at, "数字经济合作")
    labels = [e.label for e in at.expander]
    assert labels and all("2020" in label for label in labels)


def test_upload_adds_an_article_and_indexes_it(app_env):
    _, corpus = app_env
    at = _app()
    body = "测试新闻标题\n2022年3月1日，测试市举办了首届量子计算博览会，共有88家企业参展。".encode()
    at.sidebar.file_uploader[0].set_value(("new_article.txt", body, "text/plain")).run()
    next(b for b in at.sidebar.button if b.label == "加入语料并更新索引").click().run()
    assert not at.exception, at.exception
    assert (corpus / "new_article.txt").exists()
    at = _ask(at, "量子计算博览会有多少家企业参展？")
    assert "88家" in _assistant_texts(at)[-1]


def test_bad_upload_changes_nothing(app_env):
    _, corpus = app_env
    before = sorted(p.name for p in corpus.iterdir())
    at = _app()
    at.sidebar.file_uploader[0].set_value(
        ("broken.md", b"---\ntitle: [oops\n---\n<p>x</p>", "text/markdown")
    ).run()
    next(b for b in at.sidebar.button if b.label == "加入语料并更新索引").click().run()
    errors = [e.value for e in at.sidebar.error]
    assert any("broken.md" in e and "未添加" in e and "YAML" in e for e in errors), errors
    assert not any(str(corpus) in e or "Error" in e for e in errors), errors
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_article_html_is_shown_escaped(app_env):
    _, corpus = app_env
    hostile = (
        "恶意标题<script>alert(1)</script>\n"
        '恶意正文提到了量子纠缠实验。<img src="http://example.com/x.png" onerror="alert(1)">'
        "[点我](javascript:alert(1)) ![远程](http://example.com/y.png)"
    )
    (corpus / "hostile.txt").write_text(hostile, encoding="utf-8")
    at = _app()
    at = _rebuild(at)
    at = _ask(at, "量子纠缠实验")
    labels = " ".join(md.value for md in at.markdown) + " ".join(e.label for e in at.expander)
    corpus_text = " ".join(_corpus_html(at))
    assert "量子纠缠" in corpus_text
    assert "<script>" not in labels + corpus_text and "<img" not in corpus_text
    assert "[点我](javascript:alert(1))" in corpus_text and "<a " not in corpus_text  # shown, not linked


def test_urls_in_article_text_are_plain_text_not_links(app_env):
    _, corpus = app_env
    (corpus / "links.txt").write_text(
        "链接测试\n光子芯片大会的报名网址是 https://example.com/signup?id=1 ，备用网址 www.example.org ，"
        "咨询邮箱 info@example.com 。",
        encoding="utf-8",
    )
    at = _app()
    at = _rebuild(at)
    at = _ask(at, "光子芯片大会的报名网址是什么？")
    corpus_text = " ".join(_corpus_html(at))
    assert "https://example.com/signup?id=1" in corpus_text and "<a " not in corpus_text
    assert not any("example.com" in md.value for md in at.markdown)  # never through markdown


def test_missing_index_offers_to_build(tmp_path, corpus_copy, monkeypatch):
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "empty-index"))
    monkeypatch.setenv("RAG_CORPUS", str(corpus_copy))
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "absent.toml"))
    at = _app()
    assert any("还没有索引" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "从语料建立索引").click().run()
    assert not at.exception, at.exception
    assert at.chat_input, "after building, the chat is available"


def test_llm_mode_streams_from_the_configured_endpoint(app_env, monkeypatch):
    from .openai_server import FakeChatServer

    with FakeChatServer() as server:
        monkeypatch.setenv("RAG_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("RAG_LLM_MODEL", "fake")
        monkeypatch.setenv("RAG_LLM_API_KEY", "sk-never-shown")
        at = _app()
        at.sidebar.radio(key="mode").set_value("大模型").run()
        at = _ask(at, "2021智博会有多少家企业参展？")
        assert "610余家" in _assistant_texts(at)[-1]
        assert server.requests and server.requests[0]["body"]["stream"] is True
        shown = [*(md.value for md in at.markdown), *(c.value for c in at.caption), *_corpus_html(at)]
        everything = " ".join(shown)
        assert "sk-never-shown" not in everything


def test_impossible_period_in_a_question_is_answered_not_an_error(app_env):
    at = _ask(_app(), "0000年有什么新闻？")
    assert _assistant_texts(at) and not at.error


def test_empty_page_suggests_questions_that_ask_when_clicked(app_env):
    at = _app()
    suggestions = [b for b in at.button if b.key and b.key.startswith("suggest_")]
    labels = [b.label for b in suggestions]
    assert 4 <= len(labels) <= 6 and "语料里有哪些文章？" in labels
    assert any("许科敏" in label for label in labels)  # from the newest article
    next(b for b in suggestions if "许科敏" in b.label).click().run()
    assert not at.exception, at.exception
    assert "许科敏" in _assistant_texts(at)[-1]
    assert not [b for b in at.button if b.key and b.key.startswith("suggest_")]


def test_answers_can_be_copied_and_the_conversation_exported(app_env):
    at = _ask(_app(), "2021智博会有多少家企业参展？")
    copied = " ".join(code.value for code in at.code)  # the copy popover's text, with its sources
    assert "610余家" in copied and "[1] 《中国—上海合作组织" in copied and "（2021-08-24）" in copied
    downloads = at.get("download_button")
    assert {d.proto.label for d in downloads} == {"Markdown", "JSON"}


def test_refusal_under_a_date_filter_offers_to_search_everything(app_env):
    at = _app()
    at.toggle(key="use_dates").set_value(True).run()
    at.date_input(key="period").set_value((date(2020, 6, 12), date(2020, 12, 31))).run()
    at = _ask(at, "2021智博会有多少家企业参展？")
    assert "资料中没有找到相关信息" in _assistant_texts(at)[-1]
    assert any("只在 2020-06-12 至 2020-12-31" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "在全部文章中搜索").click().run()
    assert not at.exception, at.exception
    assert "610余家" in _assistant_texts(at)[-1]
    assert at.toggle(key="use_dates").value is False


def test_questions_are_capped_and_a_refused_one_is_kept_with_a_chinese_reason(app_env):
    at = _ask(_app(), "问" * 520)
    assert any("520 个字" in e.value and "500" in e.value for e in at.error)
    assert at.text_area(key="draft_text").value == "问" * 520
    next(b for b in at.button if b.label == "重新提问").click().run()  # asked again as edited: still long
    assert any("520 个字" in e.value for e in at.error)
    at = _ask(_app(), "\x00\x01\x02")  # nothing left after control characters are removed
    assert any("问题是空的" in e.value for e in at.error)
    assert at.text_area(key="draft_text").value == "\x00\x01\x02"
    assert not _assistant_texts(at)


def test_llm_mode_is_shown_disabled_until_configured(app_env):
    at = _app()
    mode = at.sidebar.radio(key="mode")
    assert mode.options == ["抽取式（离线）", "大模型"] and mode.disabled
    assert "RAG_LLM_BASE_URL" in str(mode.proto.captions)


def test_upload_refreshes_the_counts_and_clears_the_uploader(app_env):
    at = _app()
    assert any("**5** 篇" in md.value for md in at.sidebar.markdown)
    body = "测试新闻标题\n2022年3月1日，测试市举办了首届量子计算博览会，共有88家企业参展。".encode()
    at.sidebar.file_uploader[0].set_value(("new_article.txt", body, "text/plain")).run()
    next(b for b in at.sidebar.button if b.label == "加入语料并更新索引").click().run()
    assert any("**6** 篇" in md.value for md in at.sidebar.markdown)
    assert any("已添加：new_article.txt" in s.value for s in at.sidebar.success)
    assert not at.sidebar.file_uploader[0].value


def test_rebuild_asks_first(app_env):
    at = _app()
    next(b for b in at.sidebar.button if b.label == "重建索引…").click().run()
    assert any("重新向量化全部 5 篇文章" in w.value for w in at.sidebar.warning)
    next(b for b in at.sidebar.button if b.label == "取消").click().run()
    assert any(b.label == "重建索引…" for b in at.sidebar.button)


def test_cited_article_opens_in_the_browser_with_the_span_marked(app_env):
    at = _ask(_app(), "2021智博会有多少家企业参展？")
    next(b for b in at.button if b.label == "在文章浏览中打开").click().run()
    assert not at.exception, at.exception
    assert any(t.value == "文章浏览" for t in at.title)
    marked = [block for block in _corpus_html(at) if "<mark" in block]
    assert marked and "610余家" in marked[0] and "在线发布活动" in marked[0]


def test_the_conversation_survives_a_rebuild(app_env):
    at = _ask(_app(), "2021智博会有多少家企业参展？")
    at = _rebuild(at)
    at = _ask(at, "那篇文章是哪天发的？")
    assert "2021年8月24日" in _assistant_texts(at)[-1]


def test_full_text_marks_the_cited_span(app_env):
    at = _ask(_app(), "2021智博会有多少家企业参展？")
    next(t for t in at.toggle if t.label == "显示全文").set_value(True).run()
    marked = [block for block in _corpus_html(at) if "<mark" in block]
    assert len(marked) == 2 and "610余家" in marked[1] and len(marked[1]) > len(marked[0])
