"""The Qdrant backend against the local segments (qdrant-client's local mode; what a server adds
— HNSW, quantization, sharding, replication, consistency — is not proven here, see docs/SCALING.md):
the same ranking and scores on every seed question, the same filters and answers, a migration
that resumes, counts verified on both sides, and clear refusals."""

import shutil
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from rag.answer.router import Router
from rag.config import Settings
from rag.errors import ConfigError, IndexLoadError
from rag.eval.question_sets import load_questions
from rag.index import store
from rag.index.build import build_index
from rag.search import qdrant_migrate
from rag.search.qdrant import verify_collections
from rag.search.qdrant_migrate import CollectionSpec, migrate
from rag.search.query import NO_FILTERS, SearchFilters
from rag.search.retrieve import SearchIndex, open_index

from .conftest import SEEDS

IN_MEMORY = Settings(qdrant_path=":memory:")


def _migrated(seed_index: SearchIndex, target: Path, collection: str) -> SearchIndex:
    from rag.index.qdrant_connect import shared_client

    migrate(seed_index.records, target, shared_client(IN_MEMORY), CollectionSpec(collection))
    return open_index(target, seed_index.embedder, settings=IN_MEMORY)


@pytest.fixture(scope="module")
def remote(seed_index, tmp_path_factory) -> SearchIndex:
    return _migrated(seed_index, tmp_path_factory.mktemp("qdrant") / "index", "seeds")


def _ranking(index: SearchIndex, question: str, filters: SearchFilters = NO_FILTERS) -> list:
    return [
        (h.chunk_id, round(h.score, 4), round(h.lexical_score, 3))
        for h in index.search(question, 10, filters)
    ]


def test_every_seed_question_ranks_alike_on_both_backends(seed_index, remote):
    questions = [q.question for q in load_questions(SEEDS / "questions.jsonl")]
    assert len(questions) > 80
    for question in questions:
        assert _ranking(remote, question) == _ranking(seed_index, question), question


@pytest.mark.parametrize(
    "filters",
    [SearchFilters.parse("2021-06-01", "2021-12-31"), SearchFilters.parse(until="2021-01-01"),
     SearchFilters(article_ids=("003_f30a3f95d871ccd8", "000_2deaa8aae2986475")),
     SearchFilters(categories=("新浪财经",)), SearchFilters(article_ids=("no-such-article",))],
)  # fmt: skip
def test_filters_hold_alike_inside_both_searches(seed_index, remote, filters):
    for question in ("数字经济", "东盟数字经济占GDP比重", "企业参展"):
        assert _ranking(remote, question, filters) == _ranking(seed_index, question, filters)


def test_words_the_corpus_lacks_rank_alike(seed_index, remote):
    assert _ranking(remote, "量子引力弦论") == _ranking(seed_index, "量子引力弦论")


def test_answers_of_every_kind_are_the_same(seed_index, remote):
    local, migrated = Router(seed_index), Router(remote)
    questions = [
        "肖亚庆在二十国集团数字部长会议上说了什么？",
        "语料里有哪些文章？",
        "哪些文章提到了数字丝绸之路？",
        "有几篇文章提到了鸿沟？",  # a bigram: exact in the local postings, checked over Qdrant's
        "2021智博会有多少家企业参展？",
        "总结一下2020年中国-东盟数字经济合作年开幕这篇报道",
    ]
    for question in questions:
        assert migrated.ask(question).answer == local.ask(question).answer, question
    assert remote.article("003_f30a3f95d871ccd8") == seed_index.article("003_f30a3f95d871ccd8")
    assert remote.article_chunks("003_f30a3f95d871ccd8") == seed_index.article_chunks("003_f30a3f95d871ccd8")
    assert remote.stats() == {**seed_index.stats(), "version": remote.folder.name, "segments": 1}


def test_an_interrupted_migration_resumes_where_it_stopped(seed_index, tmp_path, monkeypatch):
    from rag.index.qdrant_connect import shared_client

    monkeypatch.setattr(qdrant_migrate, "BATCH", 10)
    spec = CollectionSpec("resumed", shards=2, replication=2)  # a cluster's layout; local mode has one

    def stop_at_twenty(done: int, _: int) -> None:
        if done == 20:
            raise KeyboardInterrupt

    target = tmp_path / "index"
    with pytest.raises(KeyboardInterrupt):
        migrate(seed_index.records, target, shared_client(IN_MEMORY), spec, stop_at_twenty)
    assert store.current_version(target) is None  # nothing to open before the copy is whole
    report = migrate(seed_index.records, target, shared_client(IN_MEMORY), spec)
    assert report.resumed_from == 20 and report.chunks == 50 and report.colliding_terms == 0
    assert verify_collections(store.current_version(target), IN_MEMORY) == (50, 5)
    index = open_index(target, seed_index.embedder, settings=IN_MEMORY)
    assert _ranking(index, "林玉辉") == _ranking(seed_index, "林玉辉")


def test_verify_finds_a_point_missing_on_the_server_side(seed_index, tmp_path):
    from qdrant_client import models

    from rag.index.qdrant_connect import shared_client

    target = tmp_path / "index"
    migrate(seed_index.records, target, shared_client(IN_MEMORY), CollectionSpec("damaged"))
    chunks = f"damaged-{seed_index.folder.name}"  # each migrated version has collections of its own
    shared_client(IN_MEMORY).delete(chunks, points_selector=models.PointIdsList(points=[3]), wait=True)
    with pytest.raises(IndexLoadError, match=r"49 chunks.*rag migrate"):
        verify_collections(store.current_version(target), IN_MEMORY)


def test_local_mode_on_disk_survives_a_new_process_worth_of_client(seed_index, tmp_path, usem):
    data, target = tmp_path / "qdrant-data", tmp_path / "index"
    client = QdrantClient(path=str(data))
    migrate(seed_index.records, target, client, CollectionSpec("news"))
    client.close()
    reopened = open_index(target, usem, settings=Settings(qdrant_path=str(data)))
    assert _ranking(reopened, "2021智博会有多少家企业参展") == _ranking(
        seed_index, "2021智博会有多少家企业参展"
    )


def test_what_cannot_be_done_says_so(seed_index, seed_index_dir, remote, tmp_path):
    with pytest.raises(ConfigError, match="RAG_QDRANT_URL"):  # a build into it needs to reach it
        build_index(Settings(corpus=SEEDS, index=remote.folder.parent.parent), log=lambda _: None)
    with pytest.raises(ConfigError, match="rag migrate"):
        open_index(seed_index_dir, seed_index.embedder, settings=Settings(backend="qdrant"))
    with pytest.raises(ConfigError, match="RAG_BACKEND"):
        Settings(backend="milvus")
    local = tmp_path / "local"
    shutil.copytree(seed_index_dir, local)
    with pytest.raises(IndexLoadError, match="not empty"):
        migrate(seed_index.records, local, QdrantClient(location=":memory:"), CollectionSpec("x"))


def test_two_indexes_and_a_rebuilt_one_never_mix_in_one_store(seed_index, tmp_path, usem):
    from rag.index.qdrant_connect import shared_client

    client, spec = shared_client(IN_MEMORY), CollectionSpec("shared")
    news = tmp_path / "news-local"
    build_index(Settings(corpus=SEEDS.parent / "tests" / "fixtures" / "news", index=news), embedder=usem,
                log=lambda _: None)  # fmt: skip
    migrate(seed_index.records, tmp_path / "seeds-q", client, spec)
    migrate(open_index(news, usem).records, tmp_path / "news-q", client, spec)
    seeds_q = open_index(tmp_path / "seeds-q", usem, settings=IN_MEMORY)
    assert _ranking(seeds_q, "数字经济") == _ranking(seed_index, "数字经济")
    # The seeds again, rebuilt with one article fewer, into the same target: the old collections go.
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "000_2deaa8aae2986475.txt").unlink()
    rebuilt = tmp_path / "rebuilt"
    build_index(Settings(corpus=corpus, index=rebuilt), embedder=usem, log=lambda _: None)
    migrate(open_index(rebuilt, usem).records, tmp_path / "seeds-q", client, spec)
    again = open_index(tmp_path / "seeds-q", usem, settings=IN_MEMORY)
    assert all(h.article_id != "000_2deaa8aae2986475" for h in again.search("二十国集团数字部长会议", 10))
    names = {c.name for c in client.get_collections().collections}
    assert f"shared-{seed_index.folder.name}" in names  # the version just replaced stays, as locally
    news_q = open_index(tmp_path / "news-q", usem, settings=IN_MEMORY)
    assert news_q.stats()["articles"] == open_index(news, usem).stats()["articles"]


def test_a_pending_migration_of_another_index_is_refused(seed_index, tmp_path, monkeypatch):
    from rag.index.qdrant_connect import shared_client

    monkeypatch.setattr(qdrant_migrate, "BATCH", 10)

    def stop(done: int, _: int) -> None:
        raise KeyboardInterrupt

    target = tmp_path / "index"
    with pytest.raises(KeyboardInterrupt):
        migrate(seed_index.records, target, shared_client(IN_MEMORY), CollectionSpec("pending"), stop)
    with pytest.raises(IndexLoadError, match="interrupted; rerun `rag migrate`"):
        open_index(target, seed_index.embedder, settings=IN_MEMORY)
    with pytest.raises(IndexLoadError, match="pending here"):
        migrate(seed_index.records, target, shared_client(IN_MEMORY), CollectionSpec("other"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(IndexLoadError, match="not empty"):
        migrate(seed_index.records, tmp_path / "full", shared_client(IN_MEMORY), CollectionSpec("full"))


def test_wrong_qdrant_settings_are_one_line_each(seed_index, remote, tmp_path):
    elsewhere = Settings(qdrant_path=str(tmp_path / "empty-store"))
    with pytest.raises(IndexLoadError, match="has no collection"):
        open_index(remote.folder.parent.parent, seed_index.embedder, settings=elsewhere)
    with pytest.raises(ConfigError, match="RAG_QDRANT_COLLECTION"):
        Settings(qdrant_collection="a/b")
    with pytest.raises(ConfigError, match="RAG_QDRANT_SHARDS"):
        Settings(qdrant_shards=0)
    with pytest.raises(ConfigError, match="cannot reach Qdrant"):
        open_index(remote.folder.parent.parent, seed_index.embedder,
                   settings=Settings(qdrant_url="http://127.0.0.1:9"))  # fmt: skip
