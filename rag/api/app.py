"""The HTTP API: OpenAI-compatible chat with citations, search, Dify retrieval, the article table.

`create_app(settings)` loads the models and index once; `rag serve` runs it on uvicorn.
Handlers are plain functions, so FastAPI runs them in its thread pool while the event
loop keeps accepting (and refusing, when the gate is full) requests.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sse_starlette import EventSourceResponse
from starlette.datastructures import UploadFile as StarletteUploadFile

from rag.answer.answers import Answer
from rag.api import dify
from rag.api.docs import OPEN_PATHS, documented
from rag.api.engine import Engine, Scope
from rag.api.errors import DIFY_NO_KNOWLEDGE, ApiError, install_handlers, invalid
from rag.api.openai_shape import completion, stream_chunks
from rag.api.schemas import EXTRACTIVE, LLM, ChatRequest, RetrievalRequest, SearchRequest
from rag.api.security import BodyLimit, Gate, KeyCheck, TidyPath, parse_keys
from rag.config import Settings
from rag.index.add import add_articles
from rag.index.embed import Embedder
from rag.ingest.articles import MAX_FILE_BYTES
from rag.ingest.files import article_id_for
from rag.ingest.upload import Upload, reader_reason, safe_name
from rag.search.query import Hit, SearchTuning
from rag.search.retrieve import SearchIndex

UPLOAD_PATH = "/v1/articles"
UPLOAD_OVERHEAD = 64_000  # multipart boundaries and headers around one file
MAX_ARTICLES_PAGE = 200
WORK_THREADS = 4


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """The API over `settings.index` (opened now; reopened when a new version is published)."""
    engine = Engine(settings, embedder)
    keys = parse_keys(settings.api_keys)
    gate = Gate(settings.api_max_concurrent)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        # A few threads do the work; more would only take turns at the GIL, each request slower.
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORK_THREADS
        yield

    app = FastAPIOffline(  # the API docs' scripts are served from the package, not a CDN
        lifespan=lifespan,
        title="Chinese news question answering",
        version="1.0",
        description="Answers with citations from a corpus of Chinese news articles. "
        "OpenAI-compatible chat, search, Dify external knowledge retrieval.",
    )
    install_handlers(app)
    app.openapi = lambda: documented(app)  # type: ignore[method-assign]
    # Outermost last: CORS answers preflights, paths are tidied, the key is checked, then the body.
    app.add_middleware(
        BodyLimit,
        limit_for=lambda path: (
            MAX_FILE_BYTES + UPLOAD_OVERHEAD if path == UPLOAD_PATH else settings.api_max_body_bytes
        ),
        timeout_s=settings.api_body_timeout_s,
    )
    app.add_middleware(KeyCheck, keys=keys, open_paths=OPEN_PATHS, key_always=("POST", UPLOAD_PATH))
    app.add_middleware(TidyPath)
    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )  # fmt: skip

    def busy_slot():
        with gate.slot():
            yield

    guarded = [Depends(busy_slot)]

    _answer_routes(app, engine, settings, guarded)
    _article_routes(app, engine, guarded)
    return app


def _answer_routes(app: FastAPI, engine: Engine, settings: Settings, guarded: list) -> None:
    """Health, models, chat completions, search and Dify retrieval."""

    @app.head("/healthz", include_in_schema=False)  # uptime checkers often send HEAD
    @app.get("/healthz", summary="index version, counts and model (no key needed)")
    def healthz() -> dict:
        loaded = engine.current()
        return {"status": "ok", **loaded.index.stats(), "knowledge_id": settings.api_knowledge_id}

    @app.get("/v1/models", summary="the answer modes")
    def models() -> dict:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "rag"}
                                           for m in _modes(settings)]}  # fmt: skip

    @app.post("/v1/chat/completions", dependencies=guarded, summary="answer the last user message")
    def chat_completions(body: ChatRequest):
        mode = _mode(body, settings)
        if body.messages[-1].role != "user" or not body.messages[-1].text.strip():
            raise invalid("messages: the last message must be a user message with text", "invalid_messages")
        _check_conversation(body, settings)
        questions = _user_questions(body, settings)
        scope = Scope(body.k, body.search_filters(), body.as_of)
        if mode == LLM:
            chat = engine.conversation(questions[:-1], scope)
            answer = chat.ask_model(questions[-1], settings, scope.k, scope.filters)
            engine.remember(chat, questions, scope)
        else:
            answer = engine.ask(questions, scope)
        prompt = "\n".join(m.text for m in body.messages)
        if body.stream:
            with_usage = body.stream_options is not None and body.stream_options.include_usage
            return _event_stream(answer, mode, prompt, with_usage)
        return completion(answer, mode, prompt)

    @app.post("/v1/search", dependencies=guarded, summary="the best passages, as `rag search --json`")
    def search(body: SearchRequest) -> dict:
        loaded = engine.current()
        tuning = SearchTuning(max_query_chars=settings.max_query_chars)
        hits = loaded.index.search(body.query, body.k or settings.top_k, body.search_filters(), tuning)
        return {"hits": [hit.to_dict() for hit in hits]}

    @app.post("/retrieval", dependencies=guarded, summary="Dify External Knowledge API")
    def retrieval(body: RetrievalRequest) -> dict:
        if body.knowledge_id != settings.api_knowledge_id:
            raise ApiError(404, f"knowledge base '{body.knowledge_id}' does not exist", "not_found_error",
                           "knowledge_not_found", DIFY_NO_KNOWLEDGE)  # fmt: skip
        loaded = engine.current()
        top_k = body.retrieval_setting.top_k
        best: dict[str, Hit] = {}
        for branch in dify.branches(body.metadata_condition, loaded.index.category_names()):
            tuning = SearchTuning(max_query_chars=settings.max_query_chars)
            found = loaded.index.search(body.query, top_k, branch.search_filters(), tuning)
            for hit in found:
                if hit.chunk_id not in best or hit.score > best[hit.chunk_id].score:
                    best[hit.chunk_id] = hit
        ranked = sorted(best.values(), key=lambda h: -h.score)[:top_k]
        records = [_record(h) for h in ranked]
        return {"records": [r for r in records if r["score"] >= body.retrieval_setting.score_threshold]}


def _article_routes(app: FastAPI, engine: Engine, guarded: list) -> None:
    """The article table, one article, and uploads."""

    @app.get("/v1/articles", dependencies=guarded, summary="the article table, newest first")
    def list_articles(
        since: Annotated[date | None, Query(description="YYYY-MM-DD")] = None,
        until: Annotated[date | None, Query(description="YYYY-MM-DD")] = None,
        q: Annotated[str | None, Query(max_length=200, description="words of the title")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_ARTICLES_PAGE)] = 20,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict:
        if since and until and since > until:
            raise invalid(f"since ({since}) is later than until ({until})", "invalid_field")
        records = engine.current().catalog.find(q or "", since, until)
        newest_first = sorted(records, key=lambda r: (r.date != "", r.date), reverse=True)
        page = newest_first[offset : offset + limit]
        return {
            "total": len(records),
            "offset": offset,
            "limit": limit,
            "articles": [{"article_id": r.article_id, "title": r.title, "date": r.date, "author": r.author}
                         for r in page],
        }  # fmt: skip

    @app.get(
        "/v1/articles/{article_id:path}", dependencies=guarded, summary="one article, its text and chunks"
    )
    def get_article(article_id: str) -> dict:
        index = engine.current().index
        return _article(index, article_id)

    @app.post(
        UPLOAD_PATH, status_code=201, dependencies=guarded, summary="add one article file (needs a key)"
    )
    async def upload_article(request: Request) -> JSONResponse:
        form = await request.form(max_files=2, max_fields=10)
        files = [v for v in form.getlist("file") if isinstance(v, StarletteUploadFile)]
        if len(files) != 1:
            raise invalid(
                "file: send exactly one article file in the multipart field 'file'", "invalid_field"
            )
        name, data = files[0].filename or "", await files[0].read(MAX_FILE_BYTES + 1)
        return await anyio.to_thread.run_sync(_add_upload, engine, Upload(name, data))


def _add_upload(engine: Engine, upload: Upload) -> JSONResponse:
    """Index one uploaded file; 201 with its record, 200 when the corpus already had it."""
    settings = engine.settings
    report, refused = add_articles(settings, [upload], wait_s=10.0, embedder=engine.embedder)
    if refused:
        raise ApiError(400, reader_reason(refused[upload.name]), "invalid_request_error", "article_refused")
    index = engine.current(force=True).index
    indexed = report.added + report.changed
    article_id = (
        indexed[0] if indexed else article_id_for(settings.corpus / safe_name(upload.name), settings.corpus)
    )
    article = _article(index, article_id, with_chunks=False)
    status = "added" if report.added else "changed" if report.changed else "unchanged"
    body = {"status": status, "index_version": index.name, **article}
    return JSONResponse(body, status_code=201 if indexed else 200)


def _modes(settings: Settings) -> list[str]:
    return [EXTRACTIVE, LLM] if settings.llm_base_url and settings.llm_model else [EXTRACTIVE]


def _mode(body: ChatRequest, settings: Settings) -> str:
    mode = body.mode or body.model
    if mode not in (EXTRACTIVE, LLM):
        message = f"model '{mode}' does not exist; GET /v1/models lists them"
        raise ApiError(404, message, "invalid_request_error", "model_not_found")
    if mode not in _modes(settings):
        raise invalid(
            "llm mode is not configured: set RAG_LLM_BASE_URL and RAG_LLM_MODEL", "llm_not_configured"
        )
    return mode


def _check_conversation(body: ChatRequest, settings: Settings) -> None:
    if len(body.messages) > settings.api_max_messages:
        raise invalid(f"messages: {len(body.messages)} messages; the limit is {settings.api_max_messages}",
                      "too_many_messages")  # fmt: skip
    total = sum(len(m.text) for m in body.messages)
    if total > settings.api_max_conversation_chars:
        raise invalid(
            f"messages: {total} characters in all; the limit is {settings.api_max_conversation_chars}",
            "conversation_too_long",
        )


def _user_questions(body: ChatRequest, settings: Settings) -> list[str]:
    """The user turns that can be asked: earlier ones without text (an image) or over the
    question limit were never answerable, so they are left out rather than failing the chat."""
    texts = [m.text.strip() for m in body.messages if m.role == "user"]
    earlier = [t for t in texts[:-1] if t and len(t) <= settings.max_query_chars]
    return [*earlier, texts[-1]]


def _event_stream(answer: Answer, model: str, prompt: str, with_usage: bool) -> EventSourceResponse:
    """The answer as server-sent `chat.completion.chunk` events, then `[DONE]`."""

    def events():
        for chunk in stream_chunks(answer, model, prompt, with_usage):
            yield {"data": json.dumps(chunk, ensure_ascii=False)}
        yield {"data": "[DONE]"}

    return EventSourceResponse(events(), ping=15)


def _record(hit: Hit) -> dict:
    """A Dify record: the passage, a score in 0-1, its title, and where it came from."""
    return {
        "content": hit.text,
        "score": round(min(1.0, max(0.0, hit.score)), 6),
        "title": hit.title,
        "metadata": {
            "article_id": hit.article_id,
            "chunk_id": hit.chunk_id,
            "date": hit.date,
            "paragraph": hit.paragraph,
            "start": hit.start,
            "end": hit.end,
        },
    }


def _article(index: SearchIndex, article_id: str, with_chunks: bool = True) -> dict:
    record = index.article(article_id)
    article: dict[str, object] = {
        "article_id": record.article_id,
        "title": record.title,
        "date": record.date,
        "date_source": record.date_source,
        "author": record.author,
        "categories": list(record.categories),
        "url": record.url,
        "text": record.text,
    }
    if with_chunks:
        article["chunks"] = [
            {"chunk_id": c.chunk_id, "paragraph": c.paragraph, "start": c.start, "end": c.end, "text": c.text}
            for c in index.article_chunks(article_id)
        ]
    return article
