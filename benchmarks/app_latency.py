"""Time from pressing Enter to a visible answer in the real app, in headless Chromium.

    python benchmarks/app_latency.py [--write]

Builds the seed index in a temporary folder, starts `streamlit run`, opens the page with
Playwright driving Debian's /usr/bin/chromium, and asks ten seed questions of every kind
one after another in one conversation, timing each from Enter to the answer's text on the
page. "Page ready" is the first load, when the question box shows (the server may still be
loading models and index: the first question waits for them, so "open → first answer"
counts the whole wait); "again" is a second tab once they are cached.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.config import Settings
from rag.index.build import build_index

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "2021智博会有多少家企业参展？",
    "谁宣读了李克强总理的贺信？",
    "华为2021年的营业收入是多少？",
    "肖亚庆在二十国集团数字部长会议上说了什么？",
    "苗圩提出的六点倡议是哪六点？",
    "语料里有哪些文章？",
    "许科敏在哪个论坛上讲话？",
    "东盟数字经济占GDP的比重是多少？",
    "蔡奇对北京数字贸易发展提了哪些要求？",
    "2021年发表了哪些报道？",
]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-app-") as folder:
        index_dir = Path(folder) / "index"
        build_index(Settings(corpus=ROOT / "seeds", index=index_dir), log=lambda _: None)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "RAG_INDEX": str(index_dir), "RAG_CONFIG": str(Path(folder) / "none.toml")}
        app = str(ROOT / "streamlit_app.py")
        command = ["run", app, "--server.port", str(port), "--server.headless", "true"]
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", *command],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.3)
            rows = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page()
                opened = time.perf_counter()
                page.goto(url)
                box = page.get_by_placeholder("请输入问题", exact=False)
                expect(box).to_be_visible(timeout=120_000)
                rows.append(("page ready (the question box visible)", time.perf_counter() - opened))
                answers = page.get_by_test_id("stChatMessage")
                times = []
                for number, question in enumerate(QUESTIONS):
                    box.fill(question)
                    started = time.perf_counter()
                    box.press("Enter")
                    expect(answers.nth(2 * number + 1).locator("[data-testid=stHtml]").first).to_be_visible(
                        timeout=60_000
                    )
                    times.append(time.perf_counter() - started)
                    if not number:  # the models may still be loading: the whole wait counts too
                        rows.append(("open → first answer visible (page, models, one question)",
                                     time.perf_counter() - opened))  # fmt: skip
                    rows.append((f"ask → answer text visible: {question}", times[-1]))
                rows.append(("first answer text: p50 over the ten", float(np.percentile(times, 50))))
                rows.append(("first answer text: p95 over the ten", float(np.percentile(times, 95))))
                second = browser.new_page()
                started = time.perf_counter()
                second.goto(url)
                expect(second.get_by_placeholder("请输入问题", exact=False)).to_be_visible(timeout=60_000)
                rows.append(("page ready again (a second tab, models cached)", time.perf_counter() - started))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    lines = [
        "## App: time to a visible answer (seed corpus, headless Chromium)",
        "",
        "| step | seconds |",
        "|---|---|",
    ]
    lines += [f"| {name} | {seconds:.2f} |" for name, seconds in rows]
    publish("app", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
