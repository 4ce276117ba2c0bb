from datetime import UTC
from pathlib import Path

import pytest

from rag.errors import IngestError
from rag.ingest.articles import iter_articles, parse_article, read_article

from .conftest import SEEDS


@pytest.fixture(scope="module")
def seeds() -> dict:
    return {a.article_id: a for a in iter_articles(SEEDS)}


def test_all_five_seeds_parse(seeds):
    assert sorted(seeds) == [
        "000_2deaa8aae2986475", "001_79559e53e2614f5a", "002_c22cbfc4fcc6f316",
        "003_f30a3f95d871ccd8", "004_0a1dfa763c39606a",
    ]  # fmt: skip


def test_front_matter_fields(seeds):
    article = seeds["000_2deaa8aae2986475"]
    assert article.title == "肖亚庆出席2021年二十国集团数字部长会议：大力发展数字经济，携手实现可持续性复苏"
    assert article.author == "新浪财经"
    assert article.categories == ["金融", "新浪财经", "新浪财经－国內"]
    assert article.date.utcoffset() is not None
    assert article.date.astimezone(UTC).isoformat() == "2021-08-05T14:49:40+00:00"
    assert article.date_source == "front_matter"


def test_display_date_is_beijing_time(seeds):
    # 23:54 GMT on 27 May is already 28 May in Beijing.
    assert seeds["004_0a1dfa763c39606a"].display_date == "2021-05-28"
    assert seeds["000_2deaa8aae2986475"].display_date == "2021-08-05"


def test_seed_body_cleaning(seeds):
    assert "采取线上线下结合的方式" in seeds["002_c22cbfc4fcc6f316"].text
    assert "八月二十三日，中国—上海合作组织数字经济产业论坛" in seeds["002_c22cbfc4fcc6f316"].text
    for article in seeds.values():
        assert "海量资讯、精准解读" not in article.text
        assert "责任编辑" not in article.text
        assert "appendQr" not in article.text and "&#123;" not in article.text
        assert not any(p.startswith(("\u3000", " ")) for p in article.paragraphs)


def test_plain_text_title_dedup_and_junk(seeds):
    article = seeds["003_f30a3f95d871ccd8"]
    assert article.title == "2020年中国-东盟数字经济合作年开幕"
    assert article.text.count("东盟秘书长林玉辉表示") == 1
    assert article.paragraphs[-1].startswith("中央网信办")
    assert "我要收藏" not in article.text and "评论排行" not in article.text


def test_date_from_text_when_no_front_matter(seeds):
    article = seeds["003_f30a3f95d871ccd8"]
    assert article.display_date == "2020-06-12"
    assert article.date_source == "text"


def test_article_without_any_date():
    article = parse_article("标题\n没有日期的正文。", "x")
    assert article.date is None and article.display_date == "" and article.date_source == "none"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_encodings_are_read(tmp_path: Path, encoding):
    source = (SEEDS / "000_2deaa8aae2986475.txt").read_text(encoding="utf-8")
    path = tmp_path / "a.txt"
    path.write_bytes(source.encode(encoding))
    article = read_article(path, tmp_path)
    assert article.title.startswith("肖亚庆出席2021年二十国集团数字部长会议")
    assert article.display_date == "2021-08-05"


def test_article_id_keeps_subfolders(tmp_path: Path):
    (tmp_path / "2021" / "08").mkdir(parents=True)
    path = tmp_path / "2021" / "08" / "news.md"
    path.write_text("标题\n正文。", encoding="utf-8")
    assert read_article(path, tmp_path).article_id == "2021/08/news"


def test_bad_files_are_named_and_skipped(tmp_path: Path):
    (tmp_path / "good.txt").write_text("好标题\n正文内容。", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xd8\xfe" * 20)
    (tmp_path / "bad_yaml.md").write_text("---\ntitle: [unclosed\n---\n<p>x</p>", encoding="utf-8")
    errors: list[str] = []
    articles = list(iter_articles(tmp_path, errors))
    assert [a.article_id for a in articles] == ["good"]
    assert len(errors) == 3
    assert any("empty.txt" in e and "empty" in e for e in errors)
    assert any("image.txt" in e and "binary file" in e for e in errors)
    assert any("bad_yaml.md" in e and "YAML" in e for e in errors)


def test_yaml_python_tags_are_refused_not_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    text = f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n<p>正文</p>"
    with pytest.raises(IngestError, match="YAML"):
        parse_article(text, "evil")
    assert not marker.exists()


HEXO_WITH_URL = """
---
title: 港口吞吐量增长三成
author: 新华社
date: 2022-01-03T08:00:00+08:00
{field}: {value}
---
<p>2022年1月3日，港口吞吐量比上年增长三成，创历史新高。</p>
"""


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("url", "https://news.example.cn/2022/01/03/port.html", "https://news.example.cn/2022/01/03/port.html"),
     ("link", "http://example.cn/a", "http://example.cn/a"),
     ("url", "javascript:alert(1)", ""), ("url", "ftp://example.cn/a", ""), ("title2", "https://x.cn", "")],
)  # fmt: skip
def test_the_original_url_comes_from_the_front_matter_and_only_as_a_web_address(
    tmp_path, usem, field, value, expected
):
    from rag.config import Settings
    from rag.index.build import build_index
    from rag.search.retrieve import open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "port.md").write_text(HEXO_WITH_URL.format(field=field, value=value), encoding="utf-8")
    build_index(Settings(corpus=corpus, index=tmp_path / "index"), embedder=usem, log=lambda _: None)
    assert open_index(tmp_path / "index", usem).article("port").url == expected
