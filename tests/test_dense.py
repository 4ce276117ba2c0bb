import numpy as np

from rag.dense import DenseIndex


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
