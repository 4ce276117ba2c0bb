import json

import pytest

from rag.answer.router import Router
from rag.cli import main
from rag.errors import ConfigError
from rag.eval.evaluate import evaluate
from rag.eval.question_sets import Question, load_questions, load_squad

from .conftest import FIXTURES, SEEDS

METRIC_KEYS = {
    "n", "hit@1", "hit@5", "hit@10", "mrr@10", "answer_accuracy", "citation_accuracy",
    "refusal_accuracy", "search_ms_p50", "search_ms_p95", "answer_ms_p50", "answer_ms_p95",
    "answer_chars_mean", "questions",
}  # fmt: skip


def test_seed_question_set_is_complete():
    questions = load_questions(SEEDS / "questions.jsonl")
    assert len(questions) >= 40
    assert sum(not q.answerable for q in questions) >= 6
    assert {"date", "number", "name", "paraphrase", "disambiguation"} <= {q.type for q in questions}
    assert len({q.id for q in questions}) == len(questions)


def test_squad_loader_one_article_per_context():
    articles, questions = load_squad(FIXTURES / "mini_squad.json")
    assert [(a.article_id, a.title) for a in articles] == [("P1", "重庆"), ("P2", "东盟")]
    assert [q.id for q in questions] == ["P1_Q0", "P2_Q0"]  # the empty question is dropped
    assert questions[1].answers == ["8.5%"]  # duplicate spans collapse
    assert questions[1].articles == ["P2"]


def test_squad_loader_names_a_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"no": "data"}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.json"):
        load_squad(bad)


def test_bad_question_line_is_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "x", "answers": ["y"], "articles": ["z"]}\n{"id": 1}\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"q\.jsonl:2"):
        load_questions(path)


def test_eval_json_on_seed_questions(seed_index_dir, capsys):
    code = main(
        ["eval", "--index", str(seed_index_dir), "--questions", str(SEEDS / "questions.jsonl"), "--json"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= METRIC_KEYS
    assert result["n"] == len(result["questions"]) >= 40
    assert result["hit@1"] >= 0.9


def test_eval_fail_under_exits_non_zero(seed_index_dir, capsys):
    args = ["eval", "--index", str(seed_index_dir), "--questions", str(SEEDS / "questions.jsonl")]
    assert main([*args, "--limit", "5", "--fail-under", "hit@1=1.01"]) == 1
    assert "hit@1" in capsys.readouterr().err


def test_eval_squad_builds_a_temporary_index(capsys, tmp_path):
    report = tmp_path / "report.md"
    code = main(["eval", "--squad", str(FIXTURES / "mini_squad.json"), "--json", "--report", str(report)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 2 and result["hit@1"] == 1.0
    assert report.read_text(encoding="utf-8").startswith("# Evaluation")


def test_report_lists_failed_questions_with_retrieved_articles(seed_index):

    impossible = Question("x1", "2021智博会有多少家企业参展？", ["不存在的答案"], ["002_c22cbfc4fcc6f316"])
    result = evaluate(seed_index, Router(seed_index), [impossible], "hand-made")
    report = result.markdown()
    assert "x1" in report and "002_c22cbfc4fcc6f316" in report and "不存在的答案" in report
