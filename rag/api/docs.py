"""The API's OpenAPI description as the API behaves: bearer keys where they are checked, and a bad
request as a 400 in the error envelope (FastAPI would describe a 422 it never sends)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

# Paths anyone may call: health and the API docs (with the docs' own scripts).
OPEN_PATHS = ("/healthz", "/docs", "/redoc", "/openapi.json", "/static-offline-docs")


def documented(app: FastAPI) -> dict:
    """The OpenAPI schema as the API behaves: bearer keys, and bad requests as 400 in the envelope."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        schema["components"].get("schemas", {}).pop("HTTPValidationError", None)
        schema["components"]["schemas"]["Error"] = ERROR_SCHEMA
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                operation["responses"].pop("422", None)
                operation["responses"]["400"] = {
                    "description": "a field is missing or wrong (the message names it)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                if not path.startswith(OPEN_PATHS):
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "string"},
            },
        }
    },
}
