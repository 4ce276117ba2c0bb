"""Reader feedback (👍/👎) stored in SQLite, exportable as new evaluation questions."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from rag.errors import ConfigError

FEEDBACK_FILE = "feedback.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, rating INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL, citations TEXT NOT NULL
)
"""


def feedback_path(index_dir: Path) -> Path:
    """Where the app stores ratings for an index: beside the index folder, so a rebuild keeps them."""
    return Path(index_dir).parent / FEEDBACK_FILE


def record_feedback(path: Path, rating: int, answer: dict) -> None:
    """Append one rating (1 = helpful, 0 = not) with the question, answer and citations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(_SCHEMA)
        db.execute(
            "INSERT INTO feedback (created_at, rating, question, answer, answerable, citations) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                time.strftime("%Y-%m-%dT%H:%M:%S"),
                int(rating),
                answer["question"],
                answer["answer"],
                int(bool(answer["answerable"])),
                json.dumps(answer.get("citations", []), ensure_ascii=False),
            ),
        )
    db.close()


def feedback_questions(path: Path) -> list[dict]:
    """Question-set rows (the `seeds/questions.jsonl` format) from 👍 answers.

    A helpful answer becomes a question whose accepted answer is the cited span and whose
    expected article is the first citation; a helpful refusal becomes an unanswerable one.

    Raises:
        ConfigError: there is no feedback database at `path` (nobody rated an answer yet,
            or it belongs to another index).
    """
    if not path.is_file():
        raise ConfigError(f"{path}: no feedback database (ratings from the app are stored there)")
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT id, question, answerable, citations FROM feedback WHERE rating = 1 ORDER BY id"
        ).fetchall()
    db.close()
    questions = []
    for row_id, question, answerable, citations_json in rows:
        citations = json.loads(citations_json)
        if answerable and citations:
            first = citations[0]
            span = first["text"][first["start"] : first["end"]]
            questions.append({
                "id": f"fb{row_id}", "question": question, "answers": [span],
                "articles": [first["article_id"]], "answerable": True, "type": "feedback",
            })  # fmt: skip
        elif not answerable:
            questions.append({
                "id": f"fb{row_id}", "question": question, "answers": [], "articles": [],
                "answerable": False, "type": "feedback",
            })  # fmt: skip
    return questions
