"""What an index's JSON files must look like: the manifest of a version and a segment's
description, checked on every open, by `rag verify` and by builds (a tampered or truncated file
is refused naming the field, never trusted)."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from rag.errors import IndexDamaged
from rag.index.manifest import ManifestSegment

FORMAT_VERSION = 3  # 3: segment.json names its own folder; manifests checked against a schema

_COUNT = {"type": "integer", "minimum": 0}
_DENSE = {
    "type": "object",
    "required": ["kind", "recall_at_10"],
    "properties": {"kind": {"enum": ["flat", "hnsw"]}, "recall_at_10": {"type": "number"}},
}
MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["format_version", "embedder", "pipeline", "counts", "segments"],
    "properties": {
        "embedder": {
            "type": "object",
            "required": ["name", "dim", "fingerprint"],
            "properties": {"name": {"type": "string"}, "dim": {"type": "integer", "minimum": 1}},
        },
        "pipeline": {
            "type": "object",
            "required": ["tokenizer"],
            "properties": {"tokenizer": {"type": "object"}},
        },
        "counts": {
            "type": "object",
            "required": ["articles", "chunks"],
            "properties": {"articles": _COUNT, "chunks": _COUNT},
        },
        "format_version": {"const": FORMAT_VERSION},
        "fusion": {"type": "object", "additionalProperties": {"type": "number"}},
        "segments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "deleted", "dense"],
                "properties": {
                    "name": {"type": "string", "pattern": r"^[^./][^/]*$"},
                    "deleted": {"type": "array", "items": _COUNT, "uniqueItems": True},
                    "dense": _DENSE,
                },
            },
        },
    },
}
_FILE_RECORD = {
    "type": "object",
    "required": ["bytes", "sha256"],
    "properties": {
        "bytes": _COUNT,
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "mtime_ns": {"type": "integer"},
    },
}
SEGMENT_SCHEMA = {
    "type": "object",
    "required": ["format_version", "name", "articles", "chunks", "dense", "files"],
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        "name": {"type": "string"},
        "articles": {"type": "integer", "minimum": 1},
        "chunks": _COUNT,
        "dense": _DENSE,
        "files": {"type": "object", "minProperties": 1, "additionalProperties": _FILE_RECORD},
    },
}


def checked(data: dict, schema: dict, path: Path) -> dict:
    """`data` when it matches `schema`, else an IndexLoadError naming the first wrong field."""
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if problem is not None:
        field_path = problem.json_path.removeprefix("$.") if problem.path else "top level"
        raise IndexDamaged(f"{path}: field '{field_path}' is invalid ({problem.message})")
    return data


def check_deleted(entry: ManifestSegment, description: dict, path: Path) -> None:
    """Deleted article numbers of a manifest entry must exist in the segment they name.

    Raises:
        IndexLoadError: naming the manifest and the segment.
    """
    wrong = [n for n in entry.deleted if n >= description["articles"]]
    if wrong or len(entry.deleted) >= description["articles"]:
        raise IndexDamaged(
            f"{path}: segment {entry.name} lists deleted articles it does not have "
            f"({wrong[:3] or 'all of them'})"
        )
