"""Write a benchmark's table into docs/BENCHMARKS.md, with the command and the machine."""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section `name` of docs/BENCHMARKS.md."""
    command = "python " + " ".join(sys.argv)
    section = (
        f"<!-- {name}:start -->\n{body.strip()}\n\n"
        f"Command: `{command}`  \nMachine: {machine()}  \n"
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
        f"<!-- {name}:end -->"
    )
    BENCHMARKS_MD.parent.mkdir(exist_ok=True)
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


def publish(name: str, body: str, write: bool) -> None:
    """Print a benchmark's Markdown and, when asked, store it in docs/BENCHMARKS.md."""
    print(body)
    if write:
        write_section(name, body)
