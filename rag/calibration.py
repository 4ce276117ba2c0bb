"""Learned settings (fusion weights, answer thresholds) read from the shipped calibration.json.

`benchmarks/calibrate.py` writes that file from held-apart questions; nothing here is
tuned by hand. A build copies the fusion weights into the index manifest, so an index
keeps answering the way it was built even after the package is recalibrated.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class FusionWeights:
    """Linear fusion of normalised lexical and dense scores.

    `lexical` weighs BM25 divided by the best BM25 score of the query (so it lies in
    [0, 1] whatever the query length); `dense` weighs cosine similarity. Learned on
    held-apart questions by `make calibrate` (benchmarks/calibrate.py), not set by hand.
    """

    lexical: float = 0.7
    dense: float = 0.3

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AnswerCalibration:
    """Sentence scoring weights and the refusal threshold of the extractive answerer."""

    coverage_weight: float = 1.0
    similarity_weight: float = 0.5
    passage_weight: float = 0.3
    type_bonus: float = 0.3
    unseen_weight: float = 1.0  # weight of question words the corpus never contains, relative to IDF
    require_key_terms: bool = False  # refuse when the passage lacks a name or number of the question
    refuse_below: float = 0.6
    min_coverage: float = 0.3
    second_ratio: float = 0.9  # a further sentence joins the answer at this share of the best score
    context_ratio: float = 0.9  # the same for one lacking the asked-for type (who/when/where/how many)
    restatement_coverage: float = 2.0  # above this, a sentence restates the question: add its neighbour
    max_sentences: int = 2
    max_sentence_chars: int = 80


@dataclass(frozen=True)
class BM25Parameters:
    """Term-frequency saturation (k1) and length normalisation (b); fixed at build time."""

    k1: float = 0.5
    b: float = 0.3


@dataclass(frozen=True)
class Calibration:
    bm25: BM25Parameters = field(default_factory=BM25Parameters)
    fusion: FusionWeights = field(default_factory=FusionWeights)
    answer: AnswerCalibration = field(default_factory=AnswerCalibration)
    source: str = "defaults"

    def to_dict(self) -> dict:
        return {
            "bm25": asdict(self.bm25),
            "fusion": asdict(self.fusion),
            "answer": asdict(self.answer),
            "source": self.source,
        }


def _known(cls, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The shipped calibration, or defaults when the file is absent."""
    if not path.is_file():
        return Calibration()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(
        bm25=BM25Parameters(**_known(BM25Parameters, data.get("bm25", {}))),
        fusion=FusionWeights(**_known(FusionWeights, data.get("fusion", {}))),
        answer=AnswerCalibration(**_known(AnswerCalibration, data.get("answer", {}))),
        source=data.get("source", str(path)),
    )


def save_calibration(calibration: Calibration, path: Path = CALIBRATION_FILE) -> None:
    path.write_text(json.dumps(calibration.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
