"""Builds straight into a migrated index (qdrant-client's local mode): added, changed and removed
articles give the same index and ranking as a local build of the same corpus; readers of the
previous version see it unchanged; a build that dies is taken back by the next one; uploads
work; what cannot be done says so in one line."""

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError, IndexLoadError, IngestError
from rag.eval.question_sets import load_questions
from rag.index import store
from rag.index.add import add_articles
from rag.index.build import build_index
from rag.index.qdrant_connect import shared_client
from rag.ingest.upload import Upload
from rag.search import qdrant_migrate
from rag.search.qdrant import verify_collections
from rag.search.qdrant_migrate import CollectionSpec, migrate
from rag.search.retrieve import SearchIndex, open_index

from .conftest import SEEDS

NEWS = SEEDS.parent / "tests" / "fixtures" / "news"
QUIET = {"log": lambda _: None}
CHANGED = "002_c22cbfc4fcc6f316.txt"
REMOVED = "000_2deaa8aae2986475.txt"
NEW_PARAGRAPH = "\n\n天问一号火星探测器着陆于乌托邦平原南部预选着陆区，着陆过程历时约九分钟。\n"


class Pair:
    """The same corpus indexed locally and, after one migration, in Qdrant."""

    def __init__(self, root: Path, usem) -> None:
        self.corpus, self.usem = root / "corpus", usem
        shutil.copytree(SEEDS, self.corpus, ignore=shutil.ignore_patterns("*.jsonl"))
        self.local = Settings(corpus=self.corpus, index=root / "local")
        self.remote = Settings(corpus=self.corpus, index=root / "remote", qdrant_path=":memory:")
        build_index(self.local, embedder=usem, **QUIET)
        migrate(self.open(self.local).records, self.remote.index, self.client, CollectionSpec(root.name))

    @property
    def client(self):
        return shared_client(self.remote)

    def open(self, settings: Settings) -> SearchIndex:
        return open_index(settings.index, self.usem, settings=settings)

    def build(self, settings: Settings, **options):
        return build_index(settings, embedder=self.usem, **QUIET, **options)

    def edit_corpus(self) -> None:
        """One article added, one changed, one removed."""
        shutil.copy(NEWS / "003_f756138d35171f23.md", self.corpus)
        changed = self.corpus / CHANGED
        changed.write_text(changed.read_text(encoding="utf-8") + NEW_PARAGRAPH, encoding="utf-8")
        (self.corpus / REMOVED).unlink()

    def points(self) -> int:
        """Every point in the chunks collection, whichever version sees it."""
        state = json.loads((store.current_version(self.remote.index) / store.REMOTE_STATE).read_text())
        return int(self.client.count(state["chunks"], exact=True).count)


def _same_ranking(remote: SearchIndex, local: SearchIndex, question: str) -> bool:
    """The same top 10 with the same scores within float noise (Qdrant's and FAISS's inner
    products differ in the last bits, so a rounded score may fall either side of a digit)."""
    ours, theirs = remote.search(question, 10), local.search(question, 10)
    return [h.chunk_id for h in ours] == [h.chunk_id for h in theirs] and all(
        abs(a.score - b.score) < 2e-4 and abs(a.lexical_score - b.lexical_score) < 1e-3
        for a, b in zip(ours, theirs, strict=True)
    )


@pytest.fixture()
def pair(tmp_path, usem) -> Pair:
    return Pair(tmp_path, usem)


@pytest.mark.slow
def test_added_changed_and_removed_articles_rank_as_in_a_local_build(pair):
    pair.edit_corpus()
    remote_report, local_report = pair.build(pair.remote), pair.build(pair.local)
    for field in ("added", "changed", "removed", "articles", "chunks", "embedded_chunks"):
        assert getattr(remote_report, field) == getattr(local_report, field), field
    assert (remote_report.added, remote_report.changed, remote_report.removed) == (
        ["003_f756138d35171f23"], ["002_c22cbfc4fcc6f316"], ["000_2deaa8aae2986475"],
    )  # fmt: skip
    remote, local = pair.open(pair.remote), pair.open(pair.local)
    assert verify_collections(remote.folder, pair.remote) == (local_report.chunks, local_report.articles)
    assert remote.stats() | {"version": "", "segments": 0} == local.stats() | {"version": "", "segments": 0}
    questions = [q.question for q in load_questions(SEEDS / "questions.jsonl")] + ["天问一号在哪里着陆"]
    for question in questions:
        assert _same_ranking(remote, local, question), question
    assert remote.search("天问一号在哪里着陆", 1)[0].article_id == "002_c22cbfc4fcc6f316"
    assert "000_2deaa8aae2986475" not in remote.records.article_ids()
    assert [c.text for c in remote.records.article_chunks(CHANGED[:-4])] == [
        c.text for c in local.records.article_chunks(CHANGED[:-4])
    ]
    assert pair.build(pair.remote).up_to_date


@pytest.mark.slow
def test_readers_of_the_previous_version_see_its_articles_unchanged(pair):
    """Every passage a reader of the replaced version finds is one of that version's; only the
    lexical scores move a little, as Qdrant's IDF counts the whole collection (docs/SCALING.md)."""
    before = pair.open(pair.remote)
    questions = [q.question for q in load_questions(SEEDS / "questions.jsonl")] + ["天问一号在哪里着陆"]
    old_passages = {(c.chunk_id, c.text) for a in before.records.article_ids()
                    for c in before.records.article_chunks(a)}  # fmt: skip
    pair.edit_corpus()
    pair.build(pair.remote)
    assert {(h.chunk_id, h.text) for q in questions for h in before.search(q, 10)} <= old_passages
    assert "000_2deaa8aae2986475" in before.records.article_ids()
    assert all(NEW_PARAGRAPH.strip() not in c.text for c in before.records.article_chunks(CHANGED[:-4]))
    assert verify_collections(before.folder, pair.remote) == (50, 5)


@pytest.mark.slow
def test_a_build_that_dies_is_taken_back_by_the_next(pair):
    live = store.current_version(pair.remote.index)
    pair.edit_corpus()
    for name in ("001_e919ef32ccfff083.txt", "004_cf3f7041fdd14ac9.txt"):
        shutil.copy(NEWS / name, pair.corpus)
    small = dataclasses.replace(pair.remote, segment_chunks=5)
    old = pair.open(pair.local).records.chunk_counts()

    def dies(done: int, total: int) -> None:
        if done == 3:  # points of the first batches are in Qdrant by now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pair.build(small, progress=dies)
    assert store.current_version(pair.remote.index) == live
    assert pair.points() > 50  # the dead build's points are there, unseen
    assert verify_collections(live, pair.remote) == (50, 5)
    report = pair.build(small)
    local = pair.build(pair.local)
    assert (report.articles, report.chunks) == (local.articles, local.chunks)
    remote = pair.open(pair.remote)
    assert verify_collections(remote.folder, pair.remote) == (local.chunks, local.articles)
    # Kept: the live points and those the previous version still sees; nothing of the dead build.
    assert pair.points() == local.chunks + old[CHANGED[:-4]] + old[REMOVED[:-4]]


@pytest.mark.slow
def test_a_second_build_drops_points_no_kept_version_sees(pair):
    pair.edit_corpus()
    pair.build(pair.remote)
    (pair.corpus / "001_79559e53e2614f5a.txt").unlink()
    report = pair.build(pair.remote)
    # The first build's retired points are gone; the second's stay for the version it replaced.
    removed = pair.open(pair.local).records.chunk_counts()["001_79559e53e2614f5a"]
    assert pair.points() == report.chunks + removed


@pytest.mark.slow
def test_uploads_and_a_rebuild_go_into_qdrant(pair):
    text = (NEWS / "004_cf3f7041fdd14ac9.txt").read_bytes()
    report, refused = add_articles(pair.remote, [Upload("会展.txt", text)], embedder=pair.usem, **QUIET)
    assert not refused and len(report.added) == 1 and report.articles == 6
    remote = pair.open(pair.remote)
    assert report.added[0] in remote.records.article_ids()
    rebuilt = pair.build(pair.remote, rebuild=True)
    assert (rebuilt.articles, len(rebuilt.added), rebuilt.removed) == (6, 6, [])
    assert verify_collections(pair.open(pair.remote).folder, pair.remote) == (rebuilt.chunks, 6)


@pytest.mark.slow
def test_what_a_build_into_qdrant_cannot_do_says_so(pair):
    live = store.current_version(pair.remote.index)
    for path in pair.corpus.iterdir():
        path.unlink()
    shutil.copy(SEEDS / "questions.jsonl", pair.corpus / "notes.jsonl")
    with pytest.raises(IngestError, match="no article could be indexed"):
        pair.build(pair.remote)
    assert store.current_version(pair.remote.index) == live
    assert pair.points() == 50  # nothing of the failed build is left
    assert verify_collections(live, pair.remote) == (50, 5)
    # A version migrated before generations existed is refused with the fix.
    state = json.loads((live / store.REMOTE_STATE).read_text())
    (live / store.REMOTE_STATE).write_text(json.dumps({k: v for k, v in state.items() if k != "generation"}))
    with pytest.raises(IngestError, match="rag migrate"):
        pair.build(pair.remote)


@pytest.mark.slow
def test_a_failure_after_publishing_keeps_the_new_version(pair, monkeypatch):
    from rag.index import qdrant_generations

    def unreachable(*args):
        raise ConfigError("cannot reach Qdrant at RAG_QDRANT_URL=http://q:6333: timed out")

    pair.edit_corpus()
    monkeypatch.setattr(qdrant_generations, "collect_garbage", unreachable)
    report = pair.build(pair.remote)
    assert any("until the next build" in w for w in report.warnings)
    monkeypatch.undo()
    local = pair.build(pair.local)
    assert verify_collections(pair.open(pair.remote).folder, pair.remote) == (local.chunks, local.articles)
    assert pair.build(pair.remote).up_to_date


@pytest.mark.slow
def test_a_rebuild_counts_again_from_the_points(pair):
    live = store.current_version(pair.remote.index)
    state = json.loads((live / store.REMOTE_STATE).read_text())
    state["chunk_counts"]["001_79559e53e2614f5a"] += 7  # counts gone wrong somehow
    (live / store.REMOTE_STATE).write_text(json.dumps(state))
    rebuilt = pair.build(pair.remote, rebuild=True)
    assert (rebuilt.articles, rebuilt.chunks) == (5, 50)
    assert verify_collections(pair.open(pair.remote).folder, pair.remote) == (50, 5)
    assert (
        pair.open(pair.remote).records.version.state.chunk_counts
        == pair.open(pair.local).records.chunk_counts()
    )


@pytest.mark.slow
def test_generations_no_build_of_this_folder_wrote_are_not_taken_back(pair, tmp_path):
    """A copy of the index folder (an old backup) must not delete what the original wrote."""
    copy = tmp_path / "copy"
    shutil.copytree(pair.remote.index, copy)
    pair.edit_corpus()
    pair.build(pair.remote)
    with pytest.raises(IngestError, match="published from another copy"):
        pair.build(dataclasses.replace(pair.remote, index=copy))
    with pytest.raises(IngestError, match="published from another copy"):  # nothing published is discarded
        pair.build(dataclasses.replace(pair.remote, index=copy), discard_pending=True)
    with pytest.raises(IndexLoadError, match="out of date"):
        verify_collections(store.current_version(copy), pair.remote)
    remote = pair.open(pair.remote)
    assert verify_collections(remote.folder, pair.remote) == (remote.stats()["chunks"], 5)


@pytest.mark.slow
def test_collections_of_versions_no_longer_kept_are_dropped_by_builds(pair, tmp_path):
    first = {c.name for c in pair.client.get_collections().collections}
    (pair.corpus / REMOVED).unlink()
    pair.build(pair.local)  # a new local version, migrated again into the same folder
    migrate(pair.open(pair.local).records, pair.remote.index, pair.client, CollectionSpec(tmp_path.name))
    for name in ("001_e919ef32ccfff083.txt", "004_cf3f7041fdd14ac9.txt"):
        shutil.copy(NEWS / name, pair.corpus)
        pair.build(pair.remote)
    now = {c.name for c in pair.client.get_collections().collections}
    mine = {n for n in first if n.startswith(tmp_path.name)}
    assert mine and not mine & now  # the first migration's collections are gone


@pytest.mark.slow
def test_a_wrong_qdrant_and_an_interrupted_migration_are_one_line(pair, tmp_path, monkeypatch):
    elsewhere = dataclasses.replace(pair.remote, qdrant_path=str(tmp_path / "empty-qdrant"))
    with pytest.raises(IngestError, match="has no collection"):
        pair.build(elsewhere)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    half = dataclasses.replace(pair.remote, index=tmp_path / "half")
    monkeypatch.setattr(qdrant_migrate, "_copy_articles", interrupted)
    with pytest.raises(KeyboardInterrupt):
        migrate(pair.open(pair.local).records, half.index, pair.client, CollectionSpec("half"))
    with pytest.raises(IndexLoadError, match="migration into Qdrant was interrupted"):
        pair.build(half)


@pytest.mark.slow
def test_a_copy_taken_during_a_build_never_takes_back_the_originals_points(pair, tmp_path):
    pair.edit_corpus()

    def dies(done: int, total: int) -> None:
        raise KeyboardInterrupt

    small = dataclasses.replace(pair.remote, segment_chunks=1)
    with pytest.raises(KeyboardInterrupt):
        pair.build(small, progress=lambda d, t: dies(d, t) if d == 2 else None)
    copy = dataclasses.replace(pair.remote, index=tmp_path / "copy")
    shutil.copytree(pair.remote.index, copy.index)  # with the dead build's marker
    pair.build(pair.remote)  # takes its own points back, publishes the next generation
    (pair.corpus / "001_79559e53e2614f5a.txt").unlink()
    with pytest.raises(IngestError, match="published from another copy"):
        pair.build(copy)
    remote = pair.open(pair.remote)
    assert verify_collections(remote.folder, pair.remote) == (remote.stats()["chunks"], 5)


@pytest.mark.slow
def test_an_error_after_the_switch_leaves_the_new_version_live(pair, monkeypatch):
    pair.edit_corpus()
    real = store.publish_version

    def switched_then_failed(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store, "publish_version", switched_then_failed)
    report = pair.build(pair.remote)
    monkeypatch.undo()
    assert any("is live" in w for w in report.warnings)
    local = pair.build(pair.local)
    assert verify_collections(pair.open(pair.remote).folder, pair.remote) == (local.chunks, local.articles)


@pytest.mark.slow
def test_a_damaged_old_version_blocks_no_build(pair):
    pair.edit_corpus()
    previous = store.current_version(pair.remote.index)
    pair.build(pair.remote)
    (previous / "qdrant_terms.npy").unlink()
    shutil.copy(NEWS / "004_cf3f7041fdd14ac9.txt", pair.corpus)
    report = pair.build(pair.remote)
    assert report.added and verify_collections(pair.open(pair.remote).folder, pair.remote)[1] == 6


@pytest.mark.slow
def test_what_a_dead_build_left_unclaimed_is_discarded_on_request(pair):
    """A dead build whose marker is lost: refused; `discard_pending` clears what was never published."""
    pair.edit_corpus()
    with pytest.raises(KeyboardInterrupt):
        pair.build(dataclasses.replace(pair.remote, segment_chunks=1), progress=_dies_at(2))
    (pair.remote.index / "qdrant-build.json").unlink()
    with pytest.raises(IngestError, match="discard-pending"):
        pair.build(pair.remote)
    report = pair.build(pair.remote, discard_pending=True)
    local = pair.build(pair.local)
    assert (report.articles, report.chunks) == (local.articles, local.chunks)
    assert verify_collections(pair.open(pair.remote).folder, pair.remote) == (local.chunks, local.articles)


def _dies_at(step: int):
    def progress(done: int, total: int) -> None:
        if done == step:
            raise KeyboardInterrupt

    return progress


@pytest.mark.slow
def test_a_copy_never_discards_what_another_folder_published(pair, tmp_path, monkeypatch):
    """The original publishes but cannot record it in Qdrant: a copy at the old generation must
    not take the original's published points for a dead build's."""
    from rag.index import qdrant_generations

    copy = dataclasses.replace(pair.remote, index=tmp_path / "copy")
    shutil.copytree(pair.remote.index, copy.index)
    real = qdrant_generations.write_head

    def fails_when_finishing(target, head):
        if not head.building and head.generation == target.generation:
            raise ConfigError("cannot reach Qdrant: timed out")
        real(target, head)

    pair.edit_corpus()
    monkeypatch.setattr(qdrant_generations, "write_head", fails_when_finishing)
    report = pair.build(pair.remote)
    monkeypatch.undo()
    assert any("newest" in w for w in report.warnings)
    with pytest.raises(IngestError, match=r"has not finished.*gone for good"):
        pair.build(copy)  # --discard-pending would override it: only for a folder that is gone
    local = pair.build(pair.local)
    assert verify_collections(pair.open(pair.remote).folder, pair.remote) == (local.chunks, local.articles)
    shutil.copy(NEWS / "004_cf3f7041fdd14ac9.txt", pair.corpus)
    assert pair.build(pair.remote).added  # the original records its generation and goes on


@pytest.mark.slow
def test_a_folder_moved_after_its_build_died_still_takes_it_back(pair, tmp_path):
    pair.edit_corpus()
    with pytest.raises(KeyboardInterrupt):
        pair.build(dataclasses.replace(pair.remote, segment_chunks=1), progress=_dies_at(2))
    moved = dataclasses.replace(pair.remote, index=tmp_path / "moved")
    pair.remote.index.rename(moved.index)
    report = pair.build(moved)
    local = pair.build(pair.local)
    assert (report.articles, report.chunks) == (local.articles, local.chunks)
    assert verify_collections(pair.open(moved).folder, moved) == (local.chunks, local.articles)
