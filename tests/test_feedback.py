import json

import pytest

from rag.answer.extractive import Answerer
from rag.cli import main
from rag.errors import ConfigError
from rag.eval.feedback import feedback_path, feedback_questions, record_feedback
from rag.eval.question_sets import load_questions


def test_helpful_answers_become_questions_rag_eval_can_read(seed_index, tmp_path, capsys):
    db = tmp_path / "feedback.sqlite"
    answerer = Answerer(seed_index)
    good = answerer.ask("2021智博会有多少家企业参展？").to_dict()
    refusal = answerer.ask("肖亚庆是哪一年出生的？").to_dict()
    record_feedback(db, 1, good)
    record_feedback(db, 1, refusal)
    record_feedback(db, 0, good)  # a 👎 is stored but not exported as a question
    questions = feedback_questions(db)
    assert [q["answerable"] for q in questions] == [True, False]
    assert questions[0]["articles"] == ["002_c22cbfc4fcc6f316"] and "610余家" in questions[0]["answers"][0]

    out = tmp_path / "from_feedback.jsonl"
    assert main(["feedback", "--db", str(db), "--out", str(out)]) == 0
    assert len(load_questions(out)) == 2
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["type"] == "feedback"
    assert "rag eval --questions" in capsys.readouterr().out


def test_missing_feedback_database_is_an_error_not_silence(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"none\.sqlite: no feedback database"):
        feedback_questions(tmp_path / "none.sqlite")
    assert main(["feedback", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no feedback database" in capsys.readouterr().err


def test_cli_reads_the_database_the_app_writes(seed_index, tmp_path, capsys):
    index_dir = tmp_path / "deep" / "index"
    record_feedback(feedback_path(index_dir), 1, Answerer(seed_index).ask("肖亚庆是哪一年出生的？").to_dict())
    assert main(["feedback", "--index", str(index_dir)]) == 0
    assert '"answerable": false' in capsys.readouterr().out
