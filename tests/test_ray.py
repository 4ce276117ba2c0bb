"""Builds whose articles are prepared on Ray (`rag build --ray auto`): the same index as a build
in this process, on the seeds and on the second corpus. Ray runs as a local instance started
for the build (Ray 2.x has no local mode)."""

import numpy as np
import pytest

from rag.config import Settings
from rag.index.build import build_index
from rag.search.retrieve import open_index

from .conftest import SEEDS

NEWS = SEEDS.parent / "tests" / "fixtures" / "news"
QUIET = {"log": lambda _: None}


@pytest.mark.slow
@pytest.mark.parametrize("corpus", [SEEDS, NEWS], ids=["seeds", "news"])
def test_a_build_on_ray_equals_a_build_here(tmp_path, usem, corpus):
    here = build_index(Settings(corpus=corpus, index=tmp_path / "here"), embedder=usem, **QUIET)
    on_ray = build_index(Settings(corpus=corpus, index=tmp_path / "ray"), embedder=usem, ray="auto", **QUIET)
    assert (on_ray.articles, on_ray.chunks, on_ray.embedded_chunks) == (
        here.articles,
        here.chunks,
        here.chunks,
    )
    local, remote = open_index(tmp_path / "here", usem), open_index(tmp_path / "ray", usem)
    assert remote.records.chunk_column("chunk_id") == local.records.chunk_column("chunk_id")
    np.testing.assert_allclose(remote.version.all_vectors(), local.version.all_vectors(), atol=1e-4)
    question = "数字经济"
    assert [h.chunk_id for h in remote.search(question, 10)] == [
        h.chunk_id for h in local.search(question, 10)
    ]


@pytest.mark.slow
def test_a_build_on_ray_writes_into_a_migrated_index(tmp_path, usem, corpus_copy):
    from rag.index.qdrant_connect import shared_client
    from rag.search.qdrant_migrate import CollectionSpec, migrate

    local = Settings(corpus=corpus_copy, index=tmp_path / "local")
    remote = Settings(corpus=corpus_copy, index=tmp_path / "remote", qdrant_path=":memory:")
    build_index(local, embedder=usem, **QUIET)
    migrate(open_index(local.index, usem).records, remote.index, shared_client(remote), CollectionSpec("ray"))
    for path in sorted(NEWS.iterdir())[:3]:
        (corpus_copy / path.name).write_bytes(path.read_bytes())
    on_ray = build_index(remote, embedder=usem, ray="auto", **QUIET)
    here = build_index(local, embedder=usem, **QUIET)
    assert (on_ray.added, on_ray.chunks, on_ray.embedded_chunks) == (
        here.added,
        here.chunks,
        here.embedded_chunks,
    )
    question = "数字经济"
    assert [h.chunk_id for h in open_index(remote.index, usem, settings=remote).search(question, 10)] == [
        h.chunk_id for h in open_index(local.index, usem).search(question, 10)
    ]
