"""End to end: the real Streamlit server in headless Debian Chromium, driven by Playwright."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect, sync_playwright

from .conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: without them Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOT = ROOT / "docs" / "app.png"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def server(seed_index_dir, corpus_copy, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    port = _free_port()
    env = {**os.environ, "RAG_INDEX": str(index_dir), "RAG_CORPUS": str(corpus_copy),
           "RAG_CONFIG": str(tmp_path / "absent.toml")}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode(errors="replace")[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_ask_in_a_real_browser_shows_answer_and_citation(server):
    assert os.access(CHROMIUM, os.X_OK), "install Debian's chromium (make browser)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server)
        box = page.get_by_placeholder("请输入问题", exact=False)
        expect(box).to_be_visible(timeout=60_000)
        box.fill("2021智博会有多少家企业参展？")
        box.press("Enter")
        answer = page.get_by_test_id("stChatMessage").filter(has_text="610余家").last
        expect(answer).to_be_visible(timeout=60_000)
        source = page.get_by_text("2021中国国际智能产业博览会开幕（2021-08-24）", exact=False).first
        expect(source).to_be_visible(timeout=30_000)
        source.click()
        highlighted = page.locator("mark").filter(has_text="610余家企业参展")
        expect(highlighted).to_be_visible(timeout=10_000)
        # Article text is plain text: no URL or address in it becomes a link.
        assert page.locator("[data-testid=stHtml] a").count() == 0
        page.wait_for_timeout(500)  # let the expander finish opening before the screenshot
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


BROWSER_SCREENSHOT = ROOT / "docs" / "articles.png"


def test_daily_use_in_a_real_browser(server, tmp_path):
    """A suggested question, the Markdown export, the cited article in the browser, an upload."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        page.goto(server)
        suggestion = page.get_by_role("button", name="许科敏说了什么？")
        expect(suggestion).to_be_visible(timeout=60_000)
        suggestion.click()
        expect(page.get_by_test_id("stChatMessage").filter(has_text="世界青年发展论坛").last).to_be_visible(
            timeout=60_000
        )
        markdown = page.get_by_role("button", name="Markdown")
        expect(markdown).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)  # the run that stored the answer re-renders the sidebar once more
        with page.expect_download(timeout=30_000) as download:
            markdown.click()
        exported = tmp_path / "export.md"
        download.value.save_as(exported)
        text = exported.read_text(encoding="utf-8")
        assert "## 问：许科敏说了什么？" in text and "《工信部总经济师许科敏" in text and "2022-07-24" in text

        page.get_by_text(
            "工信部总经济师许科敏：鼓励中国产品和解决方案对外服务（2022-07-24）", exact=False
        ).first.click()
        open_in_browser = page.get_by_role("button", name="在文章浏览中打开").first
        expect(open_in_browser).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)  # opening the card re-runs the page; a click during a run is lost
        open_in_browser.click()
        expect(page.get_by_role("heading", name="文章浏览")).to_be_visible(timeout=30_000)
        expect(page.locator("mark").filter(has_text="许科敏").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(BROWSER_SCREENSHOT), full_page=True)

        page.get_by_role("link", name="问答").click()
        upload = tmp_path / "新闻.txt"
        upload.write_text(
            "测试新闻标题\n2022年3月1日，测试市举办了首届量子计算博览会，共有88家企业参展。", encoding="utf-8"
        )
        page.locator("[data-testid=stSidebar] input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="加入语料并更新索引").click()
        expect(page.get_by_text("已添加：新闻.txt")).to_be_visible(timeout=60_000)
        expect(page.locator("[data-testid=stSidebar]").get_by_text("6", exact=True)).to_be_visible(
            timeout=30_000
        )
        browser.close()
    assert BROWSER_SCREENSHOT.stat().st_size > 10_000
