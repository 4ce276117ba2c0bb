"""Segmented indexes: incremental adds write small segments, deletions are masked, BM25 stays exact."""

import json
import os
import shutil

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import IndexLoadError
from rag.index import segment_files, store
from rag.index.build import build_index
from rag.index.tokens import fold_text, text_hash
from rag.search.retrieve import open_index

from .conftest import SEEDS, live_segment

QUIET = {"log": lambda _: None}
QUESTIONS = ["东盟数字经济占GDP比重", "许科敏 世界青年发展论坛", "2021智博会有多少家企业参展", "林玉辉"]


def test_small_segments_search_like_one_segment(tmp_path, usem, seed_index):
    settings = Settings(corpus=SEEDS, index=tmp_path / "index", segment_chunks=12)
    report = build_index(settings, embedder=usem, **QUIET)
    index = open_index(settings.index, usem)
    assert (
        report.segments == len(index.version.segments) >= 3 and index.size == seed_index.size == report.chunks
    )
    for question in QUESTIONS:
        split = [(h.chunk_id, h.dense_score) for h in index.search(question, k=3)]
        whole = [(h.chunk_id, h.dense_score) for h in seed_index.search(question, k=3)]
        assert split[0] == whole[0], question
    assert index.article("002_c22cbfc4fcc6f316").title == seed_index.article("002_c22cbfc4fcc6f316").title


def test_adding_one_article_writes_one_small_segment_and_keeps_the_rest(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    first = json.loads((store.current_version(settings.index) / "manifest.json").read_text(encoding="utf-8"))
    (corpus_copy / "006_new.txt").write_text(
        "新文章标题\n2022年1月3日，黄浦江边新开了一座图书馆。", encoding="utf-8"
    )
    report = build_index(settings, embedder=usem, **QUIET)
    assert report.added == ["006_new"] and report.embedded_chunks == 1
    manifest = store.read_manifest(store.current_version(settings.index))
    assert manifest.segments[0].name == first["segments"][0]["name"]  # old segment reused
    assert len(manifest.segments) == 2
    assert open_index(settings.index, usem).search("黄浦江 图书馆", k=1)[0].article_id == "006_new"


def test_changed_article_old_copy_is_never_returned(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    edited = corpus_copy / "003_f30a3f95d871ccd8.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("林玉辉", "王小明"), encoding="utf-8")
    report = build_index(settings, embedder=usem, **QUIET)
    assert report.changed == ["003_f30a3f95d871ccd8"] and report.articles == 5
    index = open_index(settings.index, usem)
    assert index.manifest.segments[0].deleted  # the old copy is listed, not rewritten
    texts = [h.text for h in index.search("林玉辉", k=10)]
    assert texts and not any("林玉辉" in t for t in texts)
    assert "王小明" in index.article("003_f30a3f95d871ccd8").text
    assert index.stats()["articles"] == 5


def test_many_small_additions_are_merged(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index", segment_chunks=1000)
    build_index(settings, embedder=usem, **QUIET)  # 50 chunks: already a small segment (< 100)
    reports = []
    for n in range(4):
        (corpus_copy / f"1{n}_note.txt").write_text(
            f"短讯{n}\n第{n}条新闻：港口吞吐量增长{n}成。", encoding="utf-8"
        )
        reports.append(build_index(settings, embedder=usem, **QUIET))
    assert [r.segments for r in reports[:3]] == [2, 3, 4] and reports[2].merged == 0
    report = reports[-1]  # a fifth small segment: all five are merged into one
    assert report.merged == 5 and report.segments == 1 and report.articles == 9
    index = open_index(settings.index, usem)
    assert (
        len(index.version.segments) == 1 and index.search("港口吞吐量增长3成", k=1)[0].article_id == "13_note"
    )
    merged = index.version.segments[0]  # the merge kept every chunk's sentence vectors
    assert all(len(merged.sentences(row).bounds) for row in range(merged.size))
    # The merge reused stored term counts: BM25 scores equal those of a fresh build.
    fresh = Settings(corpus=corpus_copy, index=tmp_path / "fresh", segment_chunks=1000)
    build_index(fresh, embedder=usem, **QUIET)
    fresh_index = open_index(fresh.index, usem)
    for question in QUESTIONS:
        scores = {}
        for built in (index, fresh_index):
            tokens = built.tokenizer(question)
            ids = built.records.chunk_column("chunk_id")
            scores[built.folder] = dict(zip(ids, built.backend.lexical.scores(tokens).round(5), strict=True))
        assert scores[index.folder] == scores[fresh_index.folder]
    versions = list((settings.index / store.VERSIONS).iterdir())
    used = {e.name for v in versions for e in store.read_manifest(v).segments}
    assert len(versions) == 2  # the live one and the one it replaced (readers may still hold it)
    assert {p.name for p in (settings.index / store.SEGMENTS).iterdir()} == used  # the rest are deleted


def test_unchanged_files_are_not_read_again(corpus_copy, tmp_path, usem, monkeypatch):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)

    def no_reading(path):
        raise AssertionError(f"{path} was read although unchanged")

    monkeypatch.setattr("rag.index.plan.read_corpus_file", no_reading)
    assert build_index(settings, embedder=usem, **QUIET).up_to_date


def test_touched_but_identical_file_is_not_reindexed(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    os.utime(corpus_copy / "000_2deaa8aae2986475.txt")
    assert build_index(settings, embedder=usem, **QUIET).up_to_date


def test_changed_file_that_no_longer_parses_keeps_its_indexed_copy(tmp_path, usem):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("\n---\ntitle: 港口\n---\n<p>港口吞吐量增长三成。</p>", encoding="utf-8")
    (corpus / "b.txt").write_text("图书馆\n黄浦江边新开了一座图书馆。", encoding="utf-8")
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    (corpus / "a.md").write_text("\n---\ntitle: [broken\n---\n<p>x</p>", encoding="utf-8")
    report = build_index(settings, embedder=usem, **QUIET)
    assert len(report.skipped) == 1 and "a.md" in report.skipped[0] and report.articles == 2
    assert open_index(settings.index, usem).search("港口吞吐量", k=1)[0].article_id == "a"


def test_worker_processes_build_the_same_index(tmp_path, usem, seed_index):
    settings = Settings(corpus=SEEDS, index=tmp_path / "index", build_workers=2)
    build_index(settings, embedder=usem, **QUIET)
    parallel = open_index(settings.index, usem)
    assert parallel.records.chunk_column("chunk_id") == seed_index.records.chunk_column("chunk_id")
    np.testing.assert_allclose(parallel.version.all_vectors(), seed_index.version.all_vectors(), atol=1e-4)
    for question in QUESTIONS:
        assert parallel.search(question, k=1)[0].chunk_id == seed_index.search(question, k=1)[0].chunk_id


def test_quick_open_trusts_untouched_large_files_and_verify_hashes_them(
    seed_index_dir, tmp_path, usem, monkeypatch
):
    import shutil

    from .conftest import live_segment

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)  # copytree keeps mtimes
    vectors = live_segment(index_dir) / "vectors.npy"
    stat = vectors.stat()
    data = bytearray(vectors.read_bytes())
    data[-4:] = b"\x00\x00\x80\x7f"
    vectors.write_bytes(bytes(data))
    os.utime(vectors, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # bit rot: same size, same mtime
    monkeypatch.setattr(segment_files, "ALWAYS_HASH_BYTES", 0)  # treat every file as large
    open_index(index_dir, usem)  # quick check: sizes and mtimes only
    with pytest.raises(IndexLoadError, match=r"vectors\.npy.*checksum"):
        store.verify_index(index_dir)
    with pytest.raises(IndexLoadError, match=r"vectors\.npy"):
        open_index(index_dir, usem, full_verify=True)


def test_a_reprint_is_shown_once_by_the_text_hashes_the_build_stores(tmp_path, usem):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    original = (corpus / "001_79559e53e2614f5a.txt").read_text(encoding="utf-8")
    reprint = original.replace("工信部总经济师许科敏：", "转载：").replace("，", ",")  # half-width commas
    (corpus / "reprint.txt").write_text(reprint, encoding="utf-8")
    index_dir = tmp_path / "index"
    build_index(Settings(corpus=corpus, index=index_dir), embedder=usem, **QUIET)
    folder = live_segment(index_dir)
    assert (folder / "chunk_text_hash.npy").is_file()
    index = open_index(index_dir, usem)
    (segment,) = index.version.segments
    texts = index.records.chunk_column("text")
    stored = segment.chunk_text_hash.tolist()
    assert stored == [text_hash(t) for t in texts] == segment._hashed_texts().tolist()
    assert len(set(stored)) < len(texts)  # the reprint's chunks hash alike
    hits = index.search("许科敏在世界青年发展论坛上说了什么", 10)
    folded = [fold_text(h.text) for h in hits]
    assert {h.article_id for h in hits} >= {"001_79559e53e2614f5a"} and len(folded) == len(set(folded))
