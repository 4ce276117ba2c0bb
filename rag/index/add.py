"""Articles added by readers (the app's upload, `POST /v1/articles`, `rag add` of outside files):
copied into the corpus folder and indexed under the build lock, so a copy that could not be
indexed never stays behind."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rag.config import Settings
from rag.errors import IngestError
from rag.index import lock
from rag.index.build import build_index
from rag.index.report import BuildReport
from rag.ingest.upload import Upload, safe_name, save_upload

ADD_WAIT_S = 120.0


def add_articles(
    settings: Settings,
    uploads: Iterable[Upload] = (),
    inside: Iterable[Path] = (),
    wait_s: float = ADD_WAIT_S,
    **build_options: object,
) -> tuple[BuildReport, dict[str, str]]:
    """Copy `uploads` into the corpus folder and index them with the `inside` corpus files.

    Runs under the index's build lock (waiting up to `wait_s` for a running build), so a
    copied file is never left beside an index that does not hold it: a copy whose article
    was not indexed (skipped, or the build failed) is deleted again.

    Returns:
        The build report, and the reason for every upload that was not added, by its name.
    """
    refused: dict[str, str] = {}
    with lock.build_lock(settings.index, wait_s):
        created: dict[Path, str] = {}  # copies made by this call -> upload name
        files = list(inside)
        try:
            for upload in uploads:
                try:
                    target = settings.corpus / safe_name(upload.name)
                    existed = target.exists()
                    path = Path(save_upload(upload.name, upload.data, settings.corpus).source_path)
                except IngestError as exc:
                    refused[upload.name] = str(exc)
                    continue
                if not existed:
                    created[path] = upload.name
                files.append(path)
            report = build_index(settings, files=files, **build_options)  # type: ignore[arg-type]
        except BaseException:
            for path in created:
                path.unlink(missing_ok=True)
            raise
        for path, name in created.items():
            # Skip reasons start with the file's path; a copy of an article kept as it was is fine.
            reason = next((r for r in report.skipped if r.startswith(f"{path}:")), None)
            if reason is not None:
                path.unlink(missing_ok=True)
                refused[name] = reason
        return report, refused
