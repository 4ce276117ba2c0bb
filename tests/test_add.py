"""Adding named files (uploads, `rag add`): only those files are read, whatever the corpus size."""

import os

import pytest

from rag.cli import main
from rag.config import Settings
from rag.index import plan
from rag.index.build import build_index
from rag.ingest.files import scan_corpus
from rag.search.retrieve import open_index

QUIET = {"log": lambda _: None}
NEW_ARTICLE = "新文章标题\n2022年1月3日，黄浦江边新开了一座图书馆，首日接待读者三千人次。"


@pytest.fixture()
def built(corpus_copy, tmp_path, usem) -> Settings:
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    return settings


def _no_scan(monkeypatch) -> None:
    def refuse(corpus):
        raise AssertionError(f"{corpus} was listed although only named files were to be indexed")

    monkeypatch.setattr(plan, "scan_corpus", refuse)


def test_added_file_is_indexed_without_listing_the_corpus(built, usem, monkeypatch):
    _no_scan(monkeypatch)
    path = built.corpus / "news" / "006_new.txt"
    path.parent.mkdir()
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(built, embedder=usem, files=[path], **QUIET)
    assert report.added == ["news/006_new"] and report.articles == 6 and report.segments == 2
    assert open_index(built.index, usem).search("黄浦江 图书馆", k=1)[0].article_id == "news/006_new"
    # the same file again: nothing to do
    assert build_index(built, embedder=usem, files=[path], **QUIET).up_to_date


def test_changed_file_replaces_its_old_copy(built, usem, monkeypatch):
    _no_scan(monkeypatch)
    edited = built.corpus / "003_f30a3f95d871ccd8.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("林玉辉", "王小明"), encoding="utf-8")
    report = build_index(built, embedder=usem, files=[edited], **QUIET)
    assert report.changed == ["003_f30a3f95d871ccd8"] and report.articles == 5
    index = open_index(built.index, usem)
    assert not any("林玉辉" in h.text for h in index.search("林玉辉", k=10))


def test_copy_of_an_indexed_article_and_files_outside_are_skipped(built, usem, monkeypatch, tmp_path):
    _no_scan(monkeypatch)
    copy = built.corpus / "copy.txt"
    copy.write_bytes((built.corpus / "003_f30a3f95d871ccd8.txt").read_bytes())
    outside = tmp_path / "outside.txt"
    outside.write_text(NEW_ARTICLE, encoding="utf-8")
    hidden = built.corpus / ".draft.txt"
    hidden.write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(built, embedder=usem, files=[copy, outside, hidden], **QUIET)
    assert report.up_to_date and report.articles == 5
    reasons = "\n".join(report.skipped)
    assert "copy.txt: same content as article 003_f30a3f95d871ccd8" in reasons
    assert "outside.txt: not inside the corpus folder" in reasons
    assert ".draft.txt: hidden" in reasons


def test_named_files_without_an_index_build_the_whole_corpus(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    report = build_index(settings, embedder=usem, files=[corpus_copy / "002_c22cbfc4fcc6f316.md"], **QUIET)
    assert report.articles == 5


def test_rag_add_copies_an_outside_file_into_the_corpus(built, tmp_path, capsys):
    outside = tmp_path / "新闻 稿.txt"
    outside.write_text(NEW_ARTICLE, encoding="utf-8")
    arguments = ["add", str(outside), "--corpus", str(built.corpus), "--index", str(built.index)]
    assert main(arguments) == 0
    assert "1 added" in capsys.readouterr().out
    assert (built.corpus / "新闻_稿.txt").read_text(encoding="utf-8") == NEW_ARTICLE
    assert main(arguments) == 0 and "up to date" in capsys.readouterr().out
    assert main(["add", str(tmp_path / "missing.txt"), "--corpus", str(built.corpus)]) == 2
    assert "missing.txt" in capsys.readouterr().err


def test_scan_lists_nested_files_in_order_and_skips_hidden_and_escaping_ones(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "b" / "c").mkdir(parents=True)
    (corpus / ".git").mkdir()
    outside.mkdir()
    for name in ["b/c/z.md", "b/a.txt", "a-b.html", "a.txt", ".hidden.txt", ".git/x.txt", "notes.pdf"]:
        (corpus / name).write_text("标题\n正文。", encoding="utf-8")
    (outside / "secret.txt").write_text("秘密\n正文。", encoding="utf-8")
    os.symlink(outside / "secret.txt", corpus / "escape.txt")
    os.symlink(corpus / "a.txt", corpus / "b" / "inside.txt")
    files = scan_corpus(corpus)
    assert [f.article_id for f in files] == ["a-b", "a", "b/a", "b/c/z", "b/inside"]
    assert all(f.size == len("标题\n正文。".encode()) and f.mtime_ns > 0 for f in files)
    assert files[3].path == corpus / "b" / "c" / "z.md"
