"""Cold start of the command line, hyperfine-style: each command run again and again in a fresh process.

    python benchmarks/cli_start.py [--runs 10] [--write]

Builds the seed index in a temporary folder, runs every command once to warm the page
cache, then `--runs` times each, timing the whole process from spawn to exit. Peers in the
same run: the bare interpreter, and importing the CLI, which bound what a command can reach.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish

from rag.config import Settings
from rag.index.build import build_index

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "2021智博会有多少家企业参展？"


def commands(index_dir: Path) -> list[tuple[str, list[str]]]:
    rag = str(Path(sys.executable).with_name("rag"))
    return [
        ("python -c pass (the interpreter)", [sys.executable, "-c", "pass"]),
        ("import rag.cli", [sys.executable, "-c", "import rag.cli"]),
        ("rag search", [rag, "search", QUESTION, "--index", str(index_dir)]),
        ("rag ask", [rag, "ask", QUESTION, "--index", str(index_dir)]),
        ("rag ask --json", [rag, "ask", QUESTION, "--index", str(index_dir), "--json"]),
    ]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-start-") as folder:
        index_dir = Path(folder) / "index"
        build_index(Settings(corpus=ROOT / "seeds", index=index_dir), log=lambda _: None)
        for name, command in commands(index_dir):
            timed(command)  # page cache and jieba's dictionary cache warm
            times = [timed(command) for _ in range(args.runs)]
            rows.append((name, times))
    ask = statistics.mean(dict(rows)["rag ask"])
    lines = [
        f"## CLI cold start (seed index, {args.runs} runs each, a fresh process every run)",
        "",
        "| command | mean s | ± sd | min | max | share of `rag ask` |",
        "|---|---|---|---|---|---|",
    ]
    for name, times in rows:
        mean = statistics.mean(times)
        lines.append(
            f"| {name} | {mean:.2f} | {statistics.stdev(times):.2f} | {min(times):.2f} | {max(times):.2f} "
            f"| {mean / ask:.0%} |"
        )
    publish("cli_start", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
