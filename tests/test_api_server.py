"""`rag serve` as a real process on a free port, called with the official `openai` client and httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from rag.config import Settings
from rag.index.build import build_index

pytestmark = pytest.mark.slow

KEY = "sk-live-7c1e5d0b9a"
QUESTION = "2021智博会有多少家企业参展？"
RAG = str(Path(sys.executable).with_name("rag"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [RAG, "serve", *args], env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT
    )


def wait_healthy(base: str, process: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rag serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"rag serve did not answer /healthz in {timeout_s} s: {log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory, usem) -> Iterator[tuple[str, Settings, Path]]:
    """A server over its own index (a corpus copy), so a test may add an article to it."""
    import shutil

    from .conftest import SEEDS

    root = tmp_path_factory.mktemp("served")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    settings = Settings(corpus=corpus, index=root / "index")
    build_index(settings, embedder=usem, log=lambda _: None)
    port, log = free_port(), root / "serve.log"
    process = start(
        ["--index", str(settings.index), "--corpus", str(corpus), "--port", str(port)],
        {"RAG_API_KEYS": KEY, "RAG_API_BODY_TIMEOUT_S": "2"},
        log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log)
        yield base, settings, log
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server[0]}/v1", api_key=KEY, max_retries=0)


def test_openai_client_plain_question(client):
    assert [m.id for m in client.models.list()] == ["extractive"]
    reply = client.chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": QUESTION}]
    )
    message = reply.choices[0].message
    assert "610" in message.content and "[1]" in message.content
    references = message.model_extra["references"]
    assert references[0]["title"].startswith("中国—上海合作组织") and references[0]["date"] == "2021-08-24"
    assert message.model_extra["answerable"] is True


def test_openai_client_stream_equals_the_plain_answer(client):
    plain = client.chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": QUESTION}]
    )
    stream = client.chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == plain.choices[0].message.content
    assert (
        chunks[-1].choices[0].delta.model_extra["references"]
        == plain.choices[0].message.model_extra["references"]
    )


def test_openai_client_follow_up_conversation(client):
    first = "肖亚庆在二十国集团数字部长会议上说了什么？"
    answer = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": first}])
    messages = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": answer.choices[0].message.content},
        {"role": "user", "content": "那篇文章是哪天发的？"},
    ]
    follow_up = client.chat.completions.create(model="extractive", messages=messages).choices[0].message
    assert "2021-08-05" in follow_up.content or "2021年8月5日" in follow_up.content


def test_openai_client_filters_in_extra_body(client):
    reply = client.chat.completions.create(
        model="extractive",
        messages=[{"role": "user", "content": "数字经济合作"}],
        extra_body={"until": "2020-12-31", "k": 3},
    )
    references = reply.choices[0].message.model_extra["references"]
    assert references and all(r["date"] <= "2020-12-31" for r in references)


def test_wrong_key_is_an_authentication_error(server):
    wrong = openai.OpenAI(base_url=f"{server[0]}/v1", api_key="sk-wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


def test_dify_request_with_a_date_condition(server):
    body = {
        "knowledge_id": "news",
        "query": "数字经济",
        "retrieval_setting": {"top_k": 4, "score_threshold": 0.2},
        "metadata_condition": {
            "logical_operator": "and",
            "conditions": [{"name": "date", "comparison_operator": "after", "value": "2021-08-01"}],
        },
    }
    response = httpx.post(f"{server[0]}/retrieval", json=body, headers={"Authorization": f"Bearer {KEY}"})
    records = response.json()["records"]
    assert response.status_code == 200 and 0 < len(records) <= 4
    assert all(r["metadata"]["date"] > "2021-08-01" and r["score"] >= 0.2 for r in records)


def test_rag_add_is_served_without_restart_and_no_key_is_logged(server):
    base, settings, log = server
    new = settings.corpus.parent / "ev.txt"
    new.write_text(
        "新能源汽车下乡活动启动\n\n2022年7月20日，新能源汽车下乡活动在江苏启动，共有36家车企参加。\n"
    )
    added = subprocess.run(
        [RAG, "add", str(new), "--index", str(settings.index), "--corpus", str(settings.corpus)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    headers = {"Authorization": f"Bearer {KEY}"}
    deadline = time.monotonic() + 15
    while httpx.get(f"{base}/healthz").json()["articles"] != 6 and time.monotonic() < deadline:
        time.sleep(0.3)
    hits = httpx.post(f"{base}/v1/search", json={"query": "新能源汽车下乡"}, headers=headers).json()["hits"]
    assert hits[0]["title"] == "新能源汽车下乡活动启动"
    assert KEY not in log.read_text() and "sk-wrong-key" not in log.read_text()


def test_listening_beyond_loopback_without_keys_warns(seed_index_dir, tmp_path):
    log = tmp_path / "serve.log"
    process = start(
        ["--index", str(seed_index_dir), "--host", "0.0.0.0", "--port", str(free_port())], {}, log
    )
    try:
        deadline = time.monotonic() + 30
        while "warning" not in log.read_text() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert "without API keys" in log.read_text()
    finally:
        process.terminate()
        process.wait(20)


def test_serving_a_missing_index_is_one_error_line(tmp_path):
    result = subprocess.run(
        [RAG, "serve", "--index", str(tmp_path / "none"), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_workers_share_the_settings(seed_index_dir, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    process = start(
        ["--index", str(seed_index_dir), "--port", str(port), "--workers", "2"], {"RAG_API_KEYS": KEY}, log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log)
        assert httpx.post(f"{base}/v1/search", json={"query": "数字经济"}).status_code == 401
        headers = {"Authorization": f"Bearer {KEY}"}
        assert httpx.post(f"{base}/v1/search", json={"query": "数字经济"}, headers=headers).json()["hits"]
    finally:
        process.terminate()
        process.wait(20)


def test_a_body_that_stops_arriving_is_answered_408(server):
    host, port = server[0].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as connection:
        connection.sendall(
            b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {KEY}\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        started = time.monotonic()
        reply = b""
        while b"body_timeout" not in reply and (chunk := connection.recv(4096)):
            reply += chunk  # the headers and the body may come in two segments
    assert reply.startswith(b"HTTP/1.1 408") and b"body_timeout" in reply
    assert time.monotonic() - started < 10
