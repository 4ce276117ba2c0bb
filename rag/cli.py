"""The `rag` command line: build, add, verify, search, ask, eval, feedback, serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.cli_args import make_parser
from rag.config import Settings, load_settings
from rag.errors import QueryError, RagError

if TYPE_CHECKING:
    from rag.search.query import SearchFilters


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

    report = build_index(
        settings, rebuild=args.rebuild, progress=progress, ray=args.ray, discard_pending=args.discard_pending
    )
    if bar is not None:
        bar.close()
    print(report.summary())
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    """Index just these files (cost independent of corpus size); exit 1 if any was not added.

    Files outside the corpus folder are read first (a FIFO or device is refused), then
    copied in under the build lock; a copy that could not be indexed is removed again.
    """
    from rag.index.add import add_articles
    from rag.ingest.articles import read_corpus_file
    from rag.ingest.upload import Upload

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
    from rag.index.qdrant_layout import refuse_pending_migration
    from rag.index.store import is_remote
    from rag.search.qdrant import verify_collections

    settings = _settings(args)
    refuse_pending_migration(settings.index)
    folder = store.current_version(settings.index)
    if folder is not None and is_remote(folder):
        chunks, articles = verify_collections(folder, settings)
        print(f"ok: Qdrant holds {chunks} chunks and {articles} articles, as the manifest says")
        return 0
    segments, files = store.verify_index(settings.index)
    print(f"ok: {segments} segments, {files} files match their SHA-256")
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rag.errors import ConfigError
    from rag.index.qdrant_connect import reaching, shared_client, where
    from rag.index.records import RecordStore
    from rag.search.qdrant_migrate import CollectionSpec, migrate
    from rag.search.retrieve import open_index

    settings = _settings(args)
    if Path(os.path.abspath(args.source)) == Path(os.path.abspath(settings.index)):
        raise ConfigError(f"--index {settings.index}: name a new folder for the migrated index, not --from")
    source = open_index(args.source, settings.embedder, settings=settings.replace(backend="local"))
    if not isinstance(source.records, RecordStore):
        raise ConfigError(f"{args.source}: already lives in Qdrant; --from names a local index folder")
    spec = CollectionSpec(settings.qdrant_collection, settings.qdrant_shards, settings.qdrant_replication)
    with tqdm(total=source.manifest.chunks, unit="chunk", disable=not sys.stderr.isatty()) as bar:
        try:
            with reaching(where(settings)):
                report = migrate(source.records, settings.index, shared_client(settings), spec,
                                 lambda done, _: bar.update(done - bar.n))  # fmt: skip
        except KeyboardInterrupt:
            print(f"interrupted after {bar.n} of {source.manifest.chunks} chunks; run the same command "
                  "again to resume", file=sys.stderr)  # fmt: skip
            return 130
    resumed = f", resumed after {report.resumed_from}" if report.resumed_from else ""
    print(f"{report.chunks} chunks and {report.articles} articles in Qdrant collection "
          f"'{report.collection}'{resumed}; {report.colliding_terms} of {report.vocabulary} "
          f"terms share a 32-bit id; version {report.version} in {settings.index}")  # fmt: skip
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from rag.search.query import SearchTuning
    from rag.search.retrieve import open_index

    settings = _settings(args)
    index = open_index(settings.index, settings.embedder, settings=settings)
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
    index = open_index(settings.index, settings.embedder, settings=settings)
    conversation = Conversation(index, settings, as_of=args.as_of)
    filters = _filters(args)
    for number, earlier in enumerate(args.history, start=1):
        if earlier.strip():  # an empty earlier turn is no turn
            try:
                conversation.ask(earlier, settings.top_k, filters)
            except QueryError as error:
                raise QueryError(f"--history {number}: {error}") from None
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
    "migrate": _cmd_migrate,
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
    except KeyboardInterrupt:  # Ctrl-C while models or caches load: no traceback
        print("interrupted", file=sys.stderr)
        return 130
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
