"""Articles to prepared articles (rag.index.prepare): chunks with their terms and vectors, a
skipped file with its reason, and vectors taken from the resume cache instead of embedded again."""

import numpy as np

from rag.index.embed import embedding_identity
from rag.index.embed_cache import EmbeddingCache
from rag.index.prepare import Job, Models, PrepareConfig, prepare_batch
from rag.index.tokens import ChineseTokenizer, chunk_terms
from rag.ingest.files import scan_corpus

from .conftest import SEEDS


def _config(tmp_path, usem, cache):
    return PrepareConfig(SEEDS, 600, 40, "", usem.name, cache.path, embedding_identity(usem))


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self.texts = inner, inner.name, inner.dim, 0

    def encode(self, texts):
        self.texts += len(texts)
        return self.inner.encode(texts)


def test_prepared_chunks_carry_terms_and_vectors_and_the_cache_is_used(tmp_path, usem):
    cache = EmbeddingCache(tmp_path, embedding_identity(usem))
    jobs = [Job.of(f) for f in scan_corpus(SEEDS)][:2]
    embedder = CountingEmbedder(usem)
    models = Models(ChineseTokenizer(), embedder)
    first = prepare_batch(jobs, _config(tmp_path, usem, cache), models, cache)
    item = first[0].item
    assert item is not None and len(item.vectors) == len(item.chunks) == len(item.terms)
    tokens = chunk_terms(models.tokenizer, item.article["title"], [c["text"] for c in item.chunks])
    assert [t.length for t in item.terms] == [len(t) for t in tokens]
    np.testing.assert_allclose(np.linalg.norm(item.vectors, axis=1), 1.0, atol=1e-4)
    embedded = embedder.texts
    cache.put_many(list(first[0].fresh_keys), first[0].fresh_vectors)
    again = prepare_batch(jobs, _config(tmp_path, usem, cache), models, cache)
    assert embedder.texts == embedded and not again[0].fresh_keys  # nothing embedded twice
    np.testing.assert_allclose(again[0].item.vectors, item.vectors, atol=1e-6)
    cache.close()


def test_a_file_that_cannot_be_read_is_skipped_with_its_reason(tmp_path, usem):
    broken = tmp_path / "broken.md"
    broken.write_bytes(b"\n---\ntitle: [unclosed\n---\n<p>x</p>")
    cache = EmbeddingCache(tmp_path, embedding_identity(usem))
    [result] = prepare_batch([Job(path=broken, file_article_id="broken")], _config(tmp_path, usem, cache),
                             Models(ChineseTokenizer(), usem), cache)  # fmt: skip
    assert result.item is None and "broken.md" in result.error
    cache.close()
