"""Errors of the HTTP API: the OpenAI envelope `{"error": {message, type, code}}` with its status,
and Dify's `{"error_code", "error_msg"}` on `/retrieval`."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import IndexLoadError, QueryError, RagError, StorageError

DIFY_PATH = "/retrieval"
# Dify's documented codes for its external knowledge API.
DIFY_BAD_HEADER, DIFY_BAD_KEY, DIFY_NO_KNOWLEDGE = 1001, 1002, 2001
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 408: "body_timeout", 413: "body_too_large"}
# Parts of a validation error's location that name a type of a union, not a field.
_TYPE_PART = re.compile(r"^(str|int|float|bool|list|dict|date|none|null)$|\[")


class ApiError(Exception):
    """A request that cannot be served, with the status and the code a client can branch on."""

    def __init__(self, status: int, message: str, type_: str, code: str, dify_code: int | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.dify_code = dify_code

    @property
    def headers(self) -> dict[str, str] | None:
        if self.status == 401:
            return {"WWW-Authenticate": "Bearer"}
        return {"Retry-After": "1"} if self.status in (429, 503) else None


def invalid(message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, message, "invalid_request_error", code)


def error_response(path: str, error: ApiError) -> JSONResponse:
    """The error in the shape the caller's protocol expects (Dify's on its path)."""
    if path == DIFY_PATH:
        body: dict = {"error_code": error.dify_code or error.status, "error_msg": error.message}
    else:
        body = {"error": {"message": error.message, "type": error.type, "code": error.code}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def from_rag_error(exc: RagError) -> ApiError:
    """A package error as an API error: the caller's mistake is a 400, a missing article a 404."""
    message = str(exc)
    if isinstance(exc, QueryError) and message.startswith("unknown article_id"):
        return ApiError(404, message, "not_found_error", "article_not_found")
    if isinstance(exc, QueryError):
        return invalid(message)
    if isinstance(exc, StorageError):
        return ApiError(507, message, "server_error", "storage_unavailable")
    if isinstance(exc, IndexLoadError):
        return ApiError(503, message, "server_error", "index_unavailable")
    return invalid(message)


def validation_message(request: Request, exc: RequestValidationError) -> str:
    """The first problem of a request body, as a client can act on it."""
    first = exc.errors()[0] if exc.errors() else {}
    kind = first.get("type", "")
    if kind == "json_invalid":
        return f"body is not valid JSON (near character {first.get('ctx', {}).get('position', '?')})"
    if kind in ("model_attributes_type", "dict_type") and tuple(first.get("loc", ())) == ("body",):
        sent = request.headers.get("content-type", "none")
        return f"send a JSON object with 'Content-Type: application/json' (got content type {sent})"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body" and not _TYPE_PART.search(str(p)))
    message = first.get("msg", "invalid value")
    if "UploadFile" in message:
        return "file: send the article as a file in the multipart field 'file'"
    return f"{where}: {message}" if where else message


def install_handlers(app: FastAPI) -> None:
    """Every error the app can meet answered in the envelope, never with a traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request.url.path, exc)

    @app.exception_handler(RagError)
    async def _rag_error(request: Request, exc: RagError) -> JSONResponse:
        return error_response(request.url.path, from_rag_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request.url.path, invalid(validation_message(request, exc), "invalid_field"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            error = invalid("body is not UTF-8 JSON", "invalid_body")
        else:
            type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
            code = _HTTP_CODES.get(exc.status_code, "http_error")
            error = ApiError(exc.status_code, str(exc.detail), type_, code)
        return error_response(request.url.path, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        message = f"internal error ({type(exc).__name__}); see the server log"
        return error_response(request.url.path, ApiError(500, message, "server_error", "internal"))
