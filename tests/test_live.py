"""The live version as a build sees it (rag.index.live): what it holds, reused only when built
the same way, and the segment entries of the next version with their live counts."""

from rag.calibration import load_calibration
from rag.config import Settings
from rag.index import store
from rag.index.build import build_index, pipeline_settings
from rag.index.embed import embedding_identity
from rag.index.live import SegmentEntry, read_live_version, segment_list
from rag.index.tokens import ChineseTokenizer

from .conftest import SEEDS

QUIET = {"log": lambda _: None}


def _identity_and_pipeline(settings, usem):
    return embedding_identity(usem), pipeline_settings(settings, ChineseTokenizer(), load_calibration().bm25)


def test_live_version_lists_every_article_with_its_file(tmp_path, usem):
    settings = Settings(corpus=SEEDS, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    live = read_live_version(settings.index, *_identity_and_pipeline(settings, usem))
    assert len(live.articles) == live.article_count() == 5 and live.chunk_count(settings.index) == 50
    known = live.articles["003_f30a3f95d871ccd8"]
    assert known.segment == 0 and known.source_size == (SEEDS / "003_f30a3f95d871ccd8.txt").stat().st_size


def test_another_pipeline_means_nothing_is_reused(tmp_path, usem):
    settings = Settings(corpus=SEEDS, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    identity, pipeline = _identity_and_pipeline(settings, usem)
    changed = {**pipeline, "chunk_max_chars": pipeline["chunk_max_chars"] + 1}
    assert not read_live_version(settings.index, identity, changed).segments
    assert read_live_version(settings.index, identity, pipeline).segments


def test_segment_entries_count_what_stays_live(tmp_path, usem):
    settings = Settings(corpus=SEEDS, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    live = read_live_version(settings.index, *_identity_and_pipeline(settings, usem))
    gone = live.articles["003_f30a3f95d871ccd8"]
    live.delete(gone)
    [entry] = segment_list(settings.index, live, [])
    description = store.read_segment(store.segment_dir(settings.index, entry.name))
    assert entry == SegmentEntry.of(settings.index, entry.name, description, {gone.num})
    assert entry.live_articles == 4 and 0 < entry.live_chunks < 50
    assert entry.manifest_entry().to_json() == {
        "name": entry.name,
        "deleted": [gone.num],
        "dense": description["dense"],
    }
    live.segments[gone.segment].deleted = set(range(5))
    assert segment_list(settings.index, live, []) == []  # a segment with nothing live is dropped
