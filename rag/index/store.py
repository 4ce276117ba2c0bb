"""The index directory on disk: immutable segments, versions that list them, an atomic swap.

Layout::

    index/CURRENT              name of the live version (replaced atomically)
    index/versions/<name>/     manifest.json: settings, counts, and the segments it is made
                               of, each with the article numbers deleted from it since
    index/segments/<name>/     segment.json (counts, file sizes and SHA-256), meta.sqlite,
                               vectors.npy, dense.faiss, chunk_article.npy, chunk_day.npy,
                               chunk_text_hash.npy (older segments: computed at open),
                               chunk_sentences.npy, sentence_bounds.npy, sentence_vectors.npy
                               (older segments: none, answers embed sentences), bm25/
    index/.build.lock          held by the one build allowed at a time (rag.index.lock)

Segments are never modified once written. A build writes new segments for what changed,
then a new version that lists the old segments still in use plus the new ones (deleted
articles are listed, not rewritten), and only then points CURRENT at it: adding one
article to a million-chunk index writes one small segment, and a crash at any moment
leaves the previous version usable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from rag.errors import IndexDamaged, IndexLoadError
from rag.index.manifest import Manifest
from rag.index.schema import FORMAT_VERSION, MANIFEST_SCHEMA, SEGMENT_SCHEMA, check_deleted, checked
from rag.index.segment_files import sha256_file, verify_files

CURRENT = "CURRENT"
VERSIONS = "versions"
SEGMENTS = "segments"
SEGMENT_FILE = "segment.json"
REMOTE_STATE = "qdrant.json"  # in a version whose vectors live in Qdrant (rag.search.qdrant)


def is_remote(version_folder: Path | None) -> bool:
    """Whether a published version keeps its vectors and postings in Qdrant (`rag migrate`)."""
    return version_folder is not None and (version_folder / REMOTE_STATE).is_file()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_version(index_dir: Path) -> Path | None:
    """The live version folder, or None when no index was built yet."""
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / VERSIONS / name
    if not name or "/" in name or not folder.is_dir():
        raise IndexDamaged(f"{pointer}: points at missing version '{name}'")
    return folder


def new_staging_dir(index_dir: Path) -> Path:
    """A fresh temporary folder, inside the index so the final rename stays on one file system."""
    folder = index_dir / f".tmp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


def _file_records(folder: Path) -> dict:
    """Size, SHA-256 and mtime of every file below `folder`, each fsynced first."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
        stat = path.stat()
        files[path.relative_to(folder).as_posix()] = {
            "bytes": stat.st_size,
            "sha256": sha256_file(path),
            "mtime_ns": stat.st_mtime_ns,
        }
    return files


def publish_segment(index_dir: Path, staged: Path, description: dict) -> str:
    """Checksum a staged segment, describe it in segment.json and move it under segments/."""
    name = staged.name.removeprefix(".tmp-")
    files = _file_records(staged)
    description = {**description, "format_version": FORMAT_VERSION, "name": name, "files": files}
    _write_json_durably(staged / SEGMENT_FILE, description)
    _fsync_dir(staged)
    segments = index_dir / SEGMENTS
    segments.mkdir(exist_ok=True)
    os.rename(staged, segments / name)
    _fsync_dir(segments)
    return name


def segment_dir(index_dir: Path, name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise IndexDamaged(f"{index_dir}: invalid segment name {name!r}")
    return index_dir / SEGMENTS / name


def read_segment(folder: Path) -> dict:
    """A segment's description, checked against SEGMENT_SCHEMA and against its folder's name
    (two segment folders swapped would otherwise each pass their own checksums).

    Raises:
        IndexLoadError: unreadable, malformed, or describing another folder.
    """
    path = folder / SEGMENT_FILE
    description = checked(_read_json(path), SEGMENT_SCHEMA, path)
    if description["name"] != folder.name:
        raise IndexDamaged(
            f"{path}: describes segment '{description['name']}', not '{folder.name}' "
            "(folders moved or swapped)"
        )
    return description


def publish_version(index_dir: Path, manifest: Manifest, extra: dict[str, bytes] | None = None) -> Path:
    """Write a version (its manifest, and `extra` files beside it) and make it live atomically;
    then drop what no version uses."""
    staged = new_staging_dir(index_dir)
    _write_json_durably(staged / "manifest.json", {**manifest.to_json(), "format_version": FORMAT_VERSION})
    for name, data in (extra or {}).items():
        with (staged / name).open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    _fsync_dir(staged)
    versions = index_dir / VERSIONS
    versions.mkdir(exist_ok=True)
    final = versions / staged.name.removeprefix(".tmp-")
    os.rename(staged, final)
    _fsync_dir(versions)
    previous = index_dir / CURRENT
    previous_name = previous.read_text(encoding="utf-8").strip() if previous.is_file() else ""
    write_text_durably(index_dir / CURRENT, final.name)
    with contextlib.suppress(OSError):  # the new version is live; the next build removes leftovers
        remove_stale_versions(index_dir, keep={final.name, previous_name})
    return final


def remove_leftovers(index_dir: Path) -> None:
    """Delete the staging folders of interrupted builds (only under the build lock)."""
    for leftover in index_dir.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def remove_stale_versions(index_dir: Path, keep: set[str]) -> None:
    """Delete old versions, segments no kept version uses, and leftovers of interrupted builds.

    Only under the build lock. The version just replaced is kept: a reader that read
    CURRENT a moment before the swap can still open it. Readers holding older versions
    keep their open files (unlinked files live on until closed).
    """
    remove_leftovers(index_dir)
    used: set[str] = set()
    versions = index_dir / VERSIONS
    if versions.is_dir():
        for folder in versions.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                used |= {s.name for s in read_manifest(folder).segments}
            except IndexLoadError:
                continue
    segments = index_dir / SEGMENTS
    if segments.is_dir():
        for folder in segments.iterdir():
            if folder.name not in used:
                shutil.rmtree(folder, ignore_errors=True)


def write_text_durably(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves the old or the new file, fsynced."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_json_durably(path: Path, data: dict) -> None:
    write_text_durably(path, json.dumps(data, ensure_ascii=False, indent=2))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        found = data.get("format_version") if isinstance(data, dict) else None
        raise IndexDamaged(f"{path}: format version {found} is not {FORMAT_VERSION}")
    return data


def read_manifest(folder: Path) -> Manifest:
    """A version's manifest, checked against MANIFEST_SCHEMA (types, required fields, names).

    Raises:
        IndexLoadError: unreadable or malformed, naming the field.
    """
    path = folder / "manifest.json"
    return Manifest.from_json(checked(_read_json(path), MANIFEST_SCHEMA, path))


def verify_index(index_dir: Path) -> tuple[int, int]:
    """Hash every file of the live version's segments; returns (segments, files) checked.

    Raises:
        IndexLoadError: no index, or naming the first damaged file.
    """
    folder = current_version(index_dir)
    if folder is None:
        raise IndexLoadError(f"{index_dir}: no index found")
    manifest = read_manifest(folder)
    files = 0
    for entry in manifest.segments:
        segment = segment_dir(index_dir, entry.name)
        description = read_segment(segment)
        check_deleted(entry, description, folder / "manifest.json")
        verify_files(segment, description["files"], full=True)
        files += len(description["files"])
    return len(manifest.segments), files
