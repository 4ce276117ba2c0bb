"""The generations of a Qdrant index's points, between builds: the marker a build leaves while it
writes, taking back what a dead build wrote (only when the marker says it was this folder's
build), and deleting what no kept version sees: retired points, and collections of versions the
folder no longer keeps (rag.index.qdrant_layout explains generations)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.errors import IngestError
from rag.index import store
from rag.index.qdrant_connect import reaching
from rag.index.qdrant_layout import ADDED, BUILD_FILE, NEVER, RETIRED, QdrantState, read_state


def _filter(key: str, **bounds: int) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key=key, range=models.Range(**bounds))])


def collections_in_use(index_dir: Path) -> set[str]:
    """The collections the versions kept in `index_dir` use."""
    named: set[str] = set()
    versions = index_dir / store.VERSIONS
    for folder in versions.iterdir() if versions.is_dir() else ():
        if store.is_remote(folder):
            state = read_state(folder)[0]
            named |= {state.chunks, state.articles}
    return named


def begin(index_dir: Path, state: QdrantState, generation: int) -> None:
    """Record that this folder's build writes `generation` into these collections."""
    marker = {"chunks": state.chunks, "generation": generation}
    (index_dir / BUILD_FILE).write_text(json.dumps(marker), encoding="utf-8")


def finished(index_dir: Path) -> None:
    (index_dir / BUILD_FILE).unlink(missing_ok=True)


def take_back(client: Any, place: str, index_dir: Path, state: QdrantState, live: int) -> None:
    """Delete the points of generations after `live` and lift their retirements, when this
    folder's own build wrote them (its marker says so).

    Raises:
        IngestError: the collections hold newer generations that no build of this folder wrote
            (another index folder writes them, or this folder was restored from a backup).
    """
    from qdrant_client import models

    unpublished, marked = _filter(ADDED, gt=live), _filter(RETIRED, gt=live, lt=NEVER)
    collections = (state.chunks, state.articles)
    with reaching(place):
        pending = sum(
            int(client.count(c, count_filter=f, exact=True).count)
            for c in collections
            for f in (unpublished, marked)
        )
        if pending and not _marked_by_us(index_dir, state):
            raise IngestError(
                f"{index_dir}: Qdrant collection '{state.chunks}' holds generations newer than this "
                f"folder's ({live}) that no build here wrote; another index folder writes it, or this "
                "folder is an old copy. Build with that folder, or `rag migrate` into a new one"
            )
        for collection in collections:
            client.delete(collection, models.FilterSelector(filter=unpublished), wait=True)
            client.set_payload(collection, {RETIRED: NEVER}, points=marked, wait=True)
    finished(index_dir)


def _marked_by_us(index_dir: Path, state: QdrantState) -> bool:
    try:
        marker = json.loads((index_dir / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("chunks") == state.chunks


def collect_garbage(client: Any, place: str, index_dir: Path, state: QdrantState, before: set[str]) -> None:
    """After publishing: delete the points no kept version sees, and the collections (named in
    `before`) that no kept version uses any more."""
    from qdrant_client import models

    kept = [state.generation or 0] + [
        read_state(folder)[0].generation or 0
        for folder in (index_dir / store.VERSIONS).iterdir()
        if store.is_remote(folder) and read_state(folder)[0].chunks == state.chunks
    ]
    unseen = _filter(RETIRED, lte=min(kept))
    with reaching(place):
        for collection in (state.chunks, state.articles):
            client.delete(collection, models.FilterSelector(filter=unseen), wait=True)
        for name in before - collections_in_use(index_dir):
            client.delete_collection(name)
