"""The index directory (rag.index.store): versions made live atomically, what no version uses
removed, damaged manifests and moved segments named, every file hashed by `verify_index`."""

import json
import shutil

import pytest

from rag.errors import IndexLoadError
from rag.index import store


def test_two_builds_keep_the_live_and_the_previous_version(corpus_copy, tmp_path, usem):
    from rag.config import Settings
    from rag.index.build import build_index

    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    first = build_index(settings, embedder=usem, log=lambda _: None).version
    (corpus_copy / "extra.txt").write_text("新闻标题\n港口吞吐量增长三成。", encoding="utf-8")
    second = build_index(settings, embedder=usem, log=lambda _: None).version
    third_source = corpus_copy / "extra.txt"
    third_source.write_text("新闻标题\n港口吞吐量增长四成。", encoding="utf-8")
    third = build_index(settings, embedder=usem, log=lambda _: None).version
    assert store.current_version(settings.index).name == third
    versions = {p.name for p in (settings.index / store.VERSIONS).iterdir()}
    assert versions == {second, third} and first not in versions  # a reader of `second` can still open it
    used = {
        s.name for v in versions for s in store.read_manifest(settings.index / store.VERSIONS / v).segments
    }
    assert {p.name for p in (settings.index / store.SEGMENTS).iterdir()} == used


def test_a_damaged_manifest_names_its_field(seed_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    manifest_path = store.current_version(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["counts"]["chunks"] = "many"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="chunks"):
        store.read_manifest(manifest_path.parent)


def test_a_segment_in_another_folder_is_refused(seed_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    segment = next((index / store.SEGMENTS).iterdir())
    moved = segment.with_name("elsewhere")
    segment.rename(moved)
    with pytest.raises(IndexLoadError, match="moved or swapped"):
        store.read_segment(moved)


def test_verify_index_hashes_every_file_and_names_a_changed_one(seed_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    segments, files = store.verify_index(index)
    assert segments == 1 and files >= 6
    victim = next((index / store.SEGMENTS).iterdir()) / "chunk_day.npy"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match=r"chunk_day\.npy"):
        store.verify_index(index)


@pytest.mark.parametrize("name", ["", "../outside", ".hidden", "a/b"])
def test_segment_names_cannot_leave_the_index(tmp_path, name):
    with pytest.raises(IndexLoadError, match="invalid segment name"):
        store.segment_dir(tmp_path, name)
