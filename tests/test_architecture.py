"""The house rules a newcomer relies on (docs/ARCHITECTURE.md): small modules, classes and
functions; searching never loads the build path; every stage in its own package."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rag"
MAX_MODULE_LINES, MAX_CLASS_LINES, MAX_FUNCTION_LINES, MAX_PARAMETERS = 300, 200, 60, 5


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    named = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs if a.arg not in ("self", "cls")]
    return len(named) + bool(args.vararg) + bool(args.kwarg)


def _oversized() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        if (lines := len(source.splitlines())) > MAX_MODULE_LINES:
            found.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if isinstance(node, ast.ClassDef) and length > MAX_CLASS_LINES:
                found.append(f"{where}: class {node.name} has {length} lines")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{where}: {node.name} has {length} lines")
                if _parameters(node) > MAX_PARAMETERS:
                    found.append(f"{where}: {node.name} has {_parameters(node)} parameters")
    return found


def test_modules_classes_and_functions_stay_small():
    assert _oversized() == []


def _loaded_by(module: str) -> list[str]:
    probe = f"import sys, {module}; print(' '.join(m for m in sys.modules if m.startswith('rag.')))"
    return subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()


def test_searching_never_imports_the_build_path_or_the_answerers():
    loaded = _loaded_by("rag.search.retrieve")
    build_path = {"rag.index.build", "rag.index.prepare", "rag.index.writer", "rag.ingest.articles"}
    assert not build_path & set(loaded)
    assert not [m for m in loaded if m.startswith("rag.answer")]


def test_the_layers_import_downwards_only():
    """ingest <- index <- search <- answer: a stage never loads the stages above it."""
    assert not [m for m in _loaded_by("rag.index.build") if m.startswith(("rag.search", "rag.answer"))]
    assert not [
        m
        for m in _loaded_by("rag.ingest.articles")
        if m.startswith(("rag.index", "rag.search", "rag.answer"))
    ]


def test_each_stage_is_a_package_of_its_own():
    stages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert {"ingest", "index", "search", "answer", "eval", "api", "ui"} <= stages


def test_every_public_name_resolves():
    import rag

    for name in rag.__all__:
        assert getattr(rag, name).__name__ == name
