import pytest

from rag.errors import ConfigError
from rag.eval.metrics import (
    answer_matches,
    check_thresholds,
    first_relevant_rank,
    hit_at,
    normalise_answer,
    parse_thresholds,
    percentile,
    reciprocal_rank,
    unique_in_order,
)


def test_full_width_and_punctuation_are_folded():
    assert normalise_answer("８．５％") == normalise_answer("8.5%") == "85"
    assert normalise_answer("ＡＩ 技术，") == "ai技术"


def test_answer_match_ignores_citation_markers_width_and_spaces():
    assert answer_matches("比重将提高到８．５％[1]。", ["8.5%"])
    assert answer_matches("集智聚力共战疫互利共赢同发展[2]", ["集智聚力共战疫 互利共赢同发展"])
    assert not answer_matches("提高到8.4%", ["8.5%"])
    assert not answer_matches("任何答案", [])


def test_a_date_matches_in_either_notation():
    assert answer_matches("发布于2020年6月12日。[1]", ["2020-06-12"])
    assert answer_matches("《合作年开幕》（2020-06-12）[1]", ["6月12日"])
    assert not answer_matches("发布于2020年6月21日。", ["2020-06-12"])


def test_ranking_metrics_on_hand_made_rankings():
    # Reference values worked out by hand for three queries:
    # gold at rank 1 -> RR 1; gold at rank 3 -> RR 1/3; gold absent -> 0.
    rankings = [(["a", "b", "c"], ["a"]), (["x", "y", "g"], ["g"]), (["p", "q"], ["z"])]
    ranks = [first_relevant_rank(r, gold) for r, gold in rankings]
    assert ranks == [1, 3, None]
    assert [hit_at(r, 1) for r in ranks] == [1.0, 0.0, 0.0]
    assert [hit_at(r, 5) for r in ranks] == [1.0, 1.0, 0.0]
    mrr = sum(reciprocal_rank(r, 10) for r in ranks) / 3
    assert mrr == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert reciprocal_rank(12, 10) == 0.0


def test_article_ranking_collapses_repeated_articles():
    assert unique_in_order(["a", "a", "b", "a", "c"]) == ["a", "b", "c"]


def test_percentile_matches_linear_interpolation():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)
    assert percentile([], 95) == 0.0


def test_thresholds_parse_and_check():
    thresholds = parse_thresholds(["hit@1=0.9", "answer_accuracy=0.8"])
    assert check_thresholds({"hit@1": 0.95, "answer_accuracy": 0.7}, thresholds) == [
        "answer_accuracy = 0.700 is below 0.8"
    ]
    assert "no such metric" in check_thresholds({}, {"nope": 1})[0]
    with pytest.raises(ConfigError, match="METRIC=VALUE"):
        parse_thresholds(["hit@1"])
