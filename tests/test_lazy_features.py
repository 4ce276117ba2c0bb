"""Answers built from lazily completed sentence features are exactly those built from all of them."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answer.extractive import TAGGED_KINDS, Answerer
from rag.answer.lazy_features import UNKNOWN_SIMILARITY, completed
from rag.answer.qtype import NUMBER, OTHER, PERSON, PLACE, question_type
from rag.answer.sentence_choice import Asked, SentenceFeatures, compose_answer
from rag.calibration import AnswerCalibration
from rag.eval.question_sets import load_questions
from rag.search.query import Hit

from .conftest import FIXTURES, SEEDS

SENTENCE = "第{}句说了一件事。"
UNIT = st.floats(0, 1, allow_nan=False)
COSINE = st.one_of(st.sampled_from([-1.0, 0.0, 1.0]), st.floats(-1, 1))  # the bounds too


def _hits(sentences_per_hit: list[int]) -> list[Hit]:
    return [
        Hit(rank=n + 1, score=1.0, chunk_id=f"c{n}", article_id=f"a{n}", title=f"标题{n}", date="",
            text="".join(SENTENCE.format(i) for i in range(count)), start=0, end=0, paragraph=0,
            lexical_score=0.0, dense_score=0.0)
        for n, count in enumerate(sentences_per_hit)
    ]  # fmt: skip


@st.composite
def cases(draw) -> tuple:
    """Passages, each sentence's true features and which parts start unknown, and a calibration."""
    kind = draw(st.sampled_from([OTHER, NUMBER, PERSON, PLACE]))
    hits = _hits(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    true_features, pending = [], []
    for n, hit in enumerate(hits):
        for i in range(hit.text.count("。")):
            start = len(SENTENCE.format(0)) * i
            typed = draw(st.booleans())
            feature = SentenceFeatures(
                hit_index=n, start=start, end=start + len(SENTENCE.format(i)),
                coverage=draw(st.sampled_from([-0.25, 0.0, 0.2, 0.5, 1.0, 1.25])), similarity=draw(COSINE),
                passage=draw(UNIT), typed=typed, passage_coverage=draw(UNIT),
                key_terms_found=draw(st.booleans()),
            )  # fmt: skip
            true_features.append(feature)
            pending.append(kind in TAGGED_KINDS and draw(st.booleans()))  # cue words found no name
    cal = AnswerCalibration(
        similarity_weight=draw(st.sampled_from([-0.5, 0.0, 0.25, 0.5, 1.0])),
        passage_weight=draw(st.sampled_from([0.0, 0.3, 0.6])),
        type_bonus=draw(st.sampled_from([-0.15, 0.0, 0.15, 0.5])),
        refuse_below=draw(st.one_of(st.sampled_from([0.5, 1.0, 1.16]), st.floats(0, 2))),
        min_coverage=draw(st.sampled_from([0.0, 0.3, 0.6])),
        second_ratio=draw(st.sampled_from([0.6, 0.8, 1.01])),
        context_ratio=draw(st.sampled_from([0.5, 0.75, 0.9])),
        max_sentences=draw(st.integers(1, 4)),
        restatement_coverage=draw(st.sampled_from([0.4, 2.0])),  # 0.4: the neighbour rule applies
    )
    question = draw(st.sampled_from(["问题", "为什么会这样"]))
    return hits, true_features, pending, cal, kind, question


@settings(max_examples=1000, deadline=None)
@given(cases())
def test_lazy_completion_chooses_what_full_completion_chooses(case):
    hits, true_features, pending, cal, kind, question = case
    start = [
        dataclasses.replace(f, similarity=UNKNOWN_SIMILARITY, typed=f.typed and not waits)
        for f, waits in zip(true_features, pending, strict=True)
    ]
    asked_for: list[int] = []

    def complete(positions: list[int]) -> list[SentenceFeatures]:
        assert not set(positions) & set(asked_for), "a sentence was completed twice"
        asked_for.extend(positions)
        return [true_features[p] for p in positions]

    lazy = completed(start, cal, kind, pending, complete)
    asked = Asked(question, {"句": 1.0}, kind)
    full_answer = compose_answer(asked, hits, true_features, cal)
    lazy_answer = compose_answer(asked, hits, lazy, cal)
    assert (lazy_answer.answer, lazy_answer.answerable) == (full_answer.answer, full_answer.answerable)


def test_answers_on_both_corpora_equal_those_from_every_feature(seed_index, news_index):
    """The real answerer: every question of the seed and news sets, lazily and fully completed."""
    compared = 0
    for index, questions in ((seed_index, SEEDS / "questions.jsonl"),
                             (news_index, FIXTURES / "news" / "questions.jsonl")):  # fmt: skip
        answerer = Answerer(index)
        for question in load_questions(questions):
            text = question.question
            hits = index.search(text, 5)
            weights, kind = answerer.query_weights(text), question_type(text)
            full = compose_answer(
                Asked(text, weights, kind), hits, answerer.sentence_features(text, hits, weights, kind),
                answerer.calibration,
            )  # fmt: skip
            lazy = answerer.answer_from_hits(text, hits)
            assert (lazy.answer, lazy.answerable) == (full.answer, full.answerable), text
            compared += 1
    assert compared > 100


def test_who_and_where_questions_are_the_tagged_kinds():
    assert PERSON in TAGGED_KINDS and NUMBER not in TAGGED_KINDS
