"""The generations of a Qdrant index's points, between builds: the newest published generation
recorded in Qdrant (a folder behind it is refused), the marker a build leaves while it writes,
taking back what a dead build wrote (only when the marker names the build that wrote all of it),
and deleting what no kept version sees: retired points, and collections of versions the folder
no longer keeps (rag.index.qdrant_layout explains generations). One folder writes a collection
at a time: Qdrant has no transactions, so two folders building at the same moment are not caught."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import IndexLoadError, IngestError
from rag.index import store
from rag.index.qdrant_connect import reaching
from rag.index.qdrant_layout import (
    ADDED,
    BUILD_FILE,
    NEVER,
    RETIRED,
    RETIRER,
    WRITER,
    QdrantState,
    read_state,
)
from rag.index.qdrant_target import QdrantTarget


def _filter(key: str, **bounds: int) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key=key, range=models.Range(**bounds))])


def head_collection(state: QdrantState) -> str:
    """The one-point collection that holds the newest generation published into these collections."""
    return f"{state.chunks}_head"


@dataclass(frozen=True)
class Head:
    """What Qdrant knows of a collection's writers: the newest published generation, and the
    folder whose build is writing the next one (or died doing so)."""

    generation: int
    building: str = ""  # "host:path" of the folder whose build is under way (for messages), "" when none
    folder: str = ""  # that folder's identity (its inode: kept by a move, not by a copy or restore)


def folder_identity(index_dir: Path) -> str:
    """A folder as the head tells folders apart: moved, it is the same; copied, another."""
    return f"inode:{os.stat(index_dir).st_ino}"


def folder_label(index_dir: Path) -> str:
    return f"{socket.gethostname()}:{index_dir.resolve()}"


def read_head(client: Any, state: QdrantState) -> Head | None:
    """The head of these collections, None before their first build."""
    name = head_collection(state)
    if not client.collection_exists(name):
        return None
    found = client.retrieve(name, ids=[0], with_payload=True)
    if not found:
        return None
    payload = found[0].payload
    return Head(
        int(payload["generation"]), str(payload.get("building") or ""), str(payload.get("folder") or "")
    )


def write_head(target: QdrantTarget, head: Head) -> None:
    """Record the newest published generation and the folder now building, if any."""
    from qdrant_client import models

    name = head_collection(target.state)
    with reaching(target.place):
        if not target.client.collection_exists(name):
            target.client.create_collection(name, vectors_config={})
        point = models.PointStruct(id=0, vector={}, payload=dataclasses.asdict(head))
        target.client.upsert(name, points=[point], wait=True)


def check_head(target: QdrantTarget, index_dir: Path, force: bool = False) -> str:
    """Refuse a folder that is behind what its collections hold (a copy, an old backup), or
    whose collections another folder is building into or died building into (only that folder
    may take its points back: it may have published them before it could record so), unless
    `force`d because that folder is gone for good; record this folder's generation when it is
    newer (it died between publishing and recording it). Returns a warning, or "".

    Raises:
        IngestError: another folder published past this one, or is building here.
    """
    with reaching(target.place):
        head = read_head(target.client, target.state)
    live, here = target.live_generation, folder_identity(index_dir)
    if head is not None and live < head.generation:
        raise IngestError(
            f"{index_dir}: Qdrant collection '{target.state.chunks}' holds generation {head.generation}, "
            f"published from another copy of this index folder; this folder is at generation {live}. "
            "Build with the folder that published it, or `rag migrate` into a new folder"
        )
    claimed = head.building if head is not None and head.folder not in ("", here) else ""
    if claimed and head is not None and live == head.generation and not force:
        raise IngestError(
            f"{index_dir}: the build of {claimed} into Qdrant collection '{target.state.chunks}' "
            "has not finished (or died); build with that folder, which takes back what it left. If that "
            "folder is gone for good, `rag build --discard-pending` deletes what it left (including "
            "anything it published without recording it)"
        )
    if head is None or live > head.generation or claimed:
        write_head(target, Head(live))
    return f"discarded the unfinished build of {claimed}" if claimed else ""


def _kept_states(index_dir: Path) -> list[QdrantState]:
    """The Qdrant state of every version kept in `index_dir`; a damaged one cannot be opened, so
    nothing it would see is kept."""
    states = []
    versions = index_dir / store.VERSIONS
    for folder in versions.iterdir() if versions.is_dir() else ():
        if store.is_remote(folder):
            with contextlib.suppress(IndexLoadError):
                states.append(read_state(folder)[0])
    return states


def collections_in_use(index_dir: Path) -> set[str]:
    """The collections the versions kept in `index_dir` use."""
    return {name for s in _kept_states(index_dir) for name in (s.chunks, s.articles, head_collection(s))}


def begin(index_dir: Path, state: QdrantState, generation: int, writer: str) -> None:
    """Record, durably, that this folder's build `writer` writes `generation` into these collections."""
    marker = json.dumps({"chunks": state.chunks, "generation": generation, "writer": writer})
    store.write_text_durably(index_dir / BUILD_FILE, marker)


def finished(index_dir: Path) -> None:
    (index_dir / BUILD_FILE).unlink(missing_ok=True)


def take_back(target: QdrantTarget, index_dir: Path, force: bool = False) -> int:
    """Delete the points of generations after `live` and lift their retirements, when this
    folder's own build wrote them all (its marker names that build), or when `force`d; returns
    how many points were taken back.

    Raises:
        IngestError: the collections hold newer generations that no build of this folder wrote
            (another index folder writes them, or this folder is an old copy).
    """
    from qdrant_client import models

    client, place, state, live = target.client, target.place, target.state, target.live_generation
    unpublished, marked = _filter(ADDED, gt=live), _filter(RETIRED, gt=live, lt=NEVER)
    collections = (state.chunks, state.articles)
    writer = _our_writer(index_dir, state)
    with reaching(place):
        pending = _count(client, collections, unpublished, marked, None)
        ours = _count(client, collections, unpublished, marked, writer) if pending and writer else 0
        if pending != ours and not force:
            raise IngestError(
                f"{index_dir}: Qdrant collection '{state.chunks}' holds generations newer than this "
                f"folder's ({live}) that no build here wrote; another index folder writes it, or this "
                "folder is an old copy. Build with that folder; if none is left, `rag build "
                "--discard-pending` deletes them"
            )
        for collection in collections:
            client.delete(collection, models.FilterSelector(filter=unpublished), wait=True)
            client.set_payload(collection, {RETIRED: NEVER}, points=marked, wait=True)
    finished(index_dir)
    return pending


def _count(client: Any, collections: tuple[str, str], added: Any, retired: Any, writer: str | None) -> int:
    """Points added or retired after the live generation (by `writer` alone, when given)."""
    from qdrant_client import models

    def by(query: Any, key: str) -> Any:
        if writer is None:
            return query
        return models.Filter(
            must=[*query.must, models.FieldCondition(key=key, match=models.MatchValue(value=writer))]
        )

    return sum(
        int(client.count(c, count_filter=f, exact=True).count)
        for c in collections
        for f in (by(added, WRITER), by(retired, RETIRER))
    )


def _our_writer(index_dir: Path, state: QdrantState) -> str | None:
    """The build this folder's marker names, when it wrote into these collections."""
    try:
        marker = json.loads((index_dir / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("chunks") != state.chunks:
        return None
    return str(marker.get("writer") or "") or None


def collect_garbage(target: QdrantTarget, index_dir: Path, before: set[str]) -> None:
    """After publishing: delete the points no kept version sees, and the collections (named in
    `before`) that no kept version uses any more."""
    from qdrant_client import models

    client, place, state = target.client, target.place, target.state
    kept = [state.generation or 0] + [
        s.generation or 0 for s in _kept_states(index_dir) if s.chunks == state.chunks
    ]
    unseen = _filter(RETIRED, lte=min(kept))
    with reaching(place):
        for collection in (state.chunks, state.articles):
            client.delete(collection, models.FilterSelector(filter=unseen), wait=True)
        for name in before - collections_in_use(index_dir):
            if client.collection_exists(name):
                client.delete_collection(name)
