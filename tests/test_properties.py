"""Property-based: random corpora (front matter, dates, HTML nesting, encodings, control
characters) never make a build raise, and no article is silently lost."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.config import Settings
from rag.index.build import build_index
from rag.search.retrieve import open_index

QUIET = {"log": lambda _: None}
HAN = st.sampled_from(list("数字经济城市发展会议项目市民参观合作创新企业开放交流建设服务科技文化"))
CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\u0085", "\r", "\t"])
DATES = st.one_of(
    st.none(),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}"),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.integers(min_value=-(10**12), max_value=10**13),
    st.sampled_from(["2021-02-30", "2021-13-45", "9999-12-31 23:00:00 +00:00", "0000-00-00", "明天", ""]),
    st.text(max_size=20),
)
TAGS = st.sampled_from(["div", "p", "span", "b", "section", "font", "a"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])


@st.composite
def text_runs(draw) -> str:
    """Chinese text with control characters and stray markup mixed in."""
    pieces = draw(
        st.lists(st.one_of(st.text(HAN, min_size=1, max_size=12), CONTROL, st.just("&amp;<")), max_size=8)
    )
    return "".join(pieces)


@st.composite
def html_body(draw, marker: str) -> str:
    depth = draw(st.integers(0, 40))
    opened = [draw(TAGS) for _ in range(depth)]
    inner = f"<p>{marker} 项目在本市正式启动，吸引了众多市民参观。{draw(text_runs())}</p>"
    closing = "".join(f"</{tag}>" for tag in reversed(opened)) if draw(st.booleans()) else ""  # or unclosed
    return "".join(f"<{tag}>" for tag in opened) + inner + closing + draw(text_runs())


@st.composite
def article_file(draw, number: int) -> tuple[str, str, str]:
    """(file name, text, encoding) of one article that must be indexed and findable by its marker."""
    marker = f"zqmark{number}x"
    encoding = draw(ENCODINGS)
    if draw(st.booleans()):
        meta = {
            "title": draw(st.text(HAN, min_size=1, max_size=20)),
            "categories": draw(st.lists(st.text(HAN))),
        }
        date = draw(DATES)
        if date is not None:
            meta["date"] = date
        front = yaml.safe_dump(meta, allow_unicode=True)
        text = f"\n---\n{front}---\n{draw(html_body(marker))}"
        name = f"a{number}.md"
    else:
        title = draw(st.text(HAN, min_size=1, max_size=20))
        body = f"{marker} 项目在本市正式启动，吸引了众多市民参观。{draw(text_runs())}"
        text = f"{title}\n{body}\n{body}\n{draw(text_runs())}"
        name = f"a{number}.txt"
    return name, text, encoding


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same 25 corpora every run: CI never fails on a corpus nobody can replay
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(files=st.integers(1, 4).flatmap(lambda n: st.tuples(*(article_file(i) for i in range(n)))))
def test_random_corpora_build_and_every_article_is_searchable(usem, files):
    folder = Path(tempfile.mkdtemp(prefix="rag-prop-"))
    try:
        corpus = folder / "corpus"
        corpus.mkdir()
        for name, text, encoding in files:
            (corpus / name).write_bytes(text.encode(encoding, errors="replace"))
        report = build_index(Settings(corpus=corpus, index=folder / "index"), embedder=usem, **QUIET)
        assert not report.skipped, report.skipped
        assert report.articles == len(files)
        index = open_index(folder / "index", usem)
        for number, (name, _, _) in enumerate(files):
            hits = index.search(f"zqmark{number}x", k=1)
            assert hits and hits[0].article_id == Path(name).stem, (name, hits)
            text = index.article(Path(name).stem).text
            assert not any(ord(c) < 32 and c not in "\n\t" for c in text)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
