import numpy as np

from rag.index.dense import DenseIndex


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_faiss_equals_numpy_brute_force(tmp_path):
    rng = np.random.default_rng(0)
    vectors, query = _unit(rng, 500, 32), _unit(rng, 1, 32)[0]
    index = DenseIndex.build(vectors)
    index.save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss")
    ids, scores = loaded.search(query, 10)
    expected = np.argsort(-(vectors @ query))[:10]
    assert ids.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, (vectors @ query)[expected], rtol=1e-5)


def test_filter_is_applied_inside_the_search():
    rng = np.random.default_rng(1)
    vectors, query = _unit(rng, 300, 16), _unit(rng, 1, 16)[0]
    allowed = np.zeros(300, dtype=bool)
    allowed[::7] = True
    ids, _ = DenseIndex.build(vectors).search(query, 5, allowed)
    candidates = np.flatnonzero(allowed)
    expected = candidates[np.argsort(-(vectors[candidates] @ query))[:5]]
    assert ids.tolist() == expected.tolist()


def test_empty_filter_returns_nothing():
    rng = np.random.default_rng(2)
    ids, scores = DenseIndex.build(_unit(rng, 10, 8)).search(_unit(rng, 1, 8)[0], 3, np.zeros(10, bool))
    assert ids.size == 0 and scores.size == 0


def test_large_index_switches_to_hnsw_with_high_recall(tmp_path):
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 3000, 32)
    index = DenseIndex.build(vectors, exact_limit=1000)
    assert index.kind == "hnsw" and index.describe()["M"] == 32
    assert index.recall_at_10(vectors) >= 0.95
    index.save(tmp_path / "h.faiss")
    # 8-bit codes: the graph file holds a byte per dimension, not four
    assert index.describe()["storage"] == "sq8"
    assert (tmp_path / "h.faiss").stat().st_size < 3000 * (32 + 2 * 32 * 4 + 64)
    loaded = DenseIndex.load(tmp_path / "h.faiss")
    assert loaded.kind == "hnsw"
    query = vectors[17]
    ids, _ = loaded.search(query, 5)
    assert ids[0] == 17


def test_hnsw_filter_is_applied_inside_the_search():
    rng = np.random.default_rng(4)
    vectors = _unit(rng, 2000, 16)
    index = DenseIndex.build(vectors, exact_limit=10)
    allowed = np.zeros(2000, dtype=bool)
    allowed[::5] = True
    ids, _ = index.search(vectors[3], 10, allowed)
    assert len(ids) == 10 and all(i % 5 == 0 for i in ids)


def test_exact_index_reports_full_recall():
    rng = np.random.default_rng(5)
    vectors = _unit(rng, 100, 8)
    assert DenseIndex.build(vectors).recall_at_10(vectors) == 1.0


def test_candidate_scores_come_from_the_index_in_memory():
    rng = np.random.default_rng(5)
    vectors = _unit(rng, 3000, 64)
    query, ids = vectors[7], np.array([3, 7, 2999, 1500])
    exact = vectors[ids] @ query
    flat = DenseIndex.build(vectors, exact_limit=5000)
    np.testing.assert_allclose(flat.scores(query, ids), exact, atol=1e-6)
    hnsw = DenseIndex.build(vectors, exact_limit=1000)  # 8-bit codes: close, not equal
    approximate = hnsw.scores(query, ids)
    assert np.abs(approximate - exact).max() < 0.01 and not np.allclose(approximate, exact, atol=1e-6)
    assert flat.scores(query, np.array([], dtype=np.int64)).shape == (0,)
