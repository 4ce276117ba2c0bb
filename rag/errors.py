"""Project exceptions: each says what was wrong and what to do about it."""


class RagError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(RagError):
    """A setting in the config file or environment is unknown or malformed."""


class IngestError(RagError):
    """A corpus file could not be read or parsed; the message names the file."""


class IndexLoadError(RagError):
    """The index on disk is missing, damaged, or does not match the request."""


REBUILD_ADVICE = "run `rag build --rebuild`"


class IndexDamaged(IndexLoadError):
    """A file of the index is unreadable or inconsistent; the message ends with the fix."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}; {REBUILD_ADVICE}")


class BuildLocked(IndexLoadError):
    """Another build holds the index's writer lock (try again later)."""


class StorageError(RagError):
    """The index folder cannot be written: the disk is full, read-only, or not ours to write."""


class QueryError(RagError):
    """A query or search argument is not acceptable."""
