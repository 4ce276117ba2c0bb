"""Load test of `rag serve`: concurrent clients mixing search and chat against the real server.

    python benchmarks/api.py [--requests 2000] [--clients 20] [--workers 1 2] [--write]

Builds the seed index in a temporary folder, starts `rag serve` on a free loopback port
for each worker count, and sends the requests from client threads, each with its own
keep-alive connection: every other request is `POST /v1/search`, the rest
`POST /v1/chat/completions`, the queries taken in turn from seeds/questions.jsonl: first
each question once (after a warm-up on other questions), then `--requests` more, whose chat
answers come from the server's answer cache. In the same run, the new questions answered
in-process by one thread give the cost of the work itself. Stops by itself: a request times
out after 30 s, the run after 15 min.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.answer.conversation import Conversation
from rag.config import Settings
from rag.index.build import build_index
from rag.search.retrieve import open_index

ROOT = Path(__file__).resolve().parent.parent
RUN_LIMIT_S = 900


def questions(path: Path) -> list[str]:
    """The single-turn questions of a question set, without repeats."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(row["question"] for row in rows if not row.get("history")))


def request_plan(n: int, texts: list[str]) -> list[tuple[str, str]]:
    """(kind, text) for each request: search and chat alternate, texts in turn."""
    return [("search" if i % 2 == 0 else "chat", texts[(i // 2) % len(texts)]) for i in range(n)]


def send(client: httpx.Client, kind: str, text: str) -> int:
    if kind == "search":
        return client.post("/v1/search", json={"query": text}).status_code
    body = {"model": "extractive", "messages": [{"role": "user", "content": text}]}
    return client.post("/v1/chat/completions", json=body).status_code


def load(base: str, plan: list[tuple[str, str]], clients: int) -> dict:
    """Send `plan` from `clients` threads; latencies by kind, errors, wall time."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    position, guard = iter(range(len(plan))), threading.Lock()
    deadline = time.monotonic() + RUN_LIMIT_S

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                with guard:
                    i = next(position, None)
                if i is None:
                    return
                kind, text = plan[i]
                started = time.perf_counter()
                try:
                    status = send(client, kind, text)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with guard:
                    latencies[kind].append(elapsed)
                    if status != 200:
                        errors[str(status)] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": dict(errors), "seconds": time.perf_counter() - started}


def serve(index_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rag = str(Path(sys.executable).with_name("rag"))
    process = subprocess.Popen(
        [rag, "serve", "--index", str(index_dir), "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        env={**os.environ, "RAG_CONFIG": str(index_dir / "none.toml")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("rag serve did not start")


def in_process(index_dir: Path, plan: list[tuple[str, str]]) -> dict:
    """The same requests answered by one thread without HTTP: the work each one costs."""
    index = open_index(index_dir)
    latencies: dict[str, list[float]] = defaultdict(list)
    for kind, text in plan:
        started = time.perf_counter()
        index.search(text) if kind == "search" else Conversation(index).ask(text)
        latencies[kind].append((time.perf_counter() - started) * 1000)
    return {"latencies": latencies, "errors": {}, "seconds": 0.0}


def row(name: str, result: dict, n: int) -> str:
    cells = [name, str(n), str(sum(result["errors"].values())) if result["seconds"] else "–"]
    for status, count in result["errors"].items():
        print(f"{name}: {count} × {status}", file=sys.stderr)
    cells.append(f"{n / result['seconds']:.1f}" if result["seconds"] else "–")
    for kind in ("search", "chat"):
        values = np.asarray(result["latencies"][kind])
        cells += [f"{np.percentile(values, q):.1f}" for q in (50, 95, 99)]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    texts = questions(ROOT / "seeds" / "questions.jsonl")
    # The process warms up on questions of another corpus, so the seed questions are new to it.
    warm_up = request_plan(40, questions(ROOT / "tests" / "fixtures" / "news" / "questions.jsonl"))
    first_time = request_plan(2 * len(texts), texts)
    again = request_plan(args.requests, texts)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-api-") as folder:
        index_dir = Path(folder) / "index"
        build_index(Settings(corpus=ROOT / "seeds", index=index_dir), log=lambda _: None)
        for workers in args.workers:
            process, base = serve(index_dir, workers)
            try:
                load(base, warm_up, args.clients)
                new = load(base, first_time, args.clients)
                repeated = load(base, again, args.clients)
                alone = load(base, again[:400], 1)
            finally:
                process.terminate()
                process.wait(30)
            name = f"`--workers {workers}`, {args.clients} clients"
            rows.append(row(f"{name}, each question new", new, len(first_time)))
            rows.append(row(f"{name}, questions asked before", repeated, len(again)))
            rows.append(row(f"`--workers {workers}`, 1 client, questions asked before", alone, 400))
        rows.append(row("in-process, 1 thread, no HTTP", in_process(index_dir, first_time), len(first_time)))
    body = "\n".join(
        [
            f"## HTTP API: {args.clients} concurrent clients against `rag serve` (seed index)",
            "",
            "Half `POST /v1/search`, half `POST /v1/chat/completions` (extractive), the "
            f"{len(texts)} single-turn questions of seeds/questions.jsonl in turn; latencies in ms as the "
            'client sees them. "Each question new": every question once, after the process warmed up on '
            f'other questions; "asked before": {args.requests} requests after that, so every chat answer '
            'comes from the server\'s answer cache (searches are always run); "1 client": the first 400 of '
            "those, one at a time, so nothing waits in line. The last row answers the new questions "
            "in-process one at a time: the work itself. With 20 clients each waiting for its reply, "
            "latency is 20 / throughput (Little's law): at a search's 4–5 ms of CPU on one core "
            "(the GIL), a 30 ms p95 would take about 700 requests a second.",
            "",
            "| server | requests | errors | req/s | search p50 | p95 | p99 | chat p50 | p95 | p99 |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    publish("api", body, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
