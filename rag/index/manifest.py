"""A version's manifest as a typed record: what it was built with, its counts, and the segments
it lists with the article numbers deleted from each (JSON checked by rag.index.schema)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ManifestSegment:
    """One segment a version uses, and the article numbers deleted from it since it was written."""

    name: str
    deleted: tuple[int, ...]
    dense: dict  # the segment's vector index: kind, recall@10, HNSW parameters

    def to_json(self) -> dict:
        return {"name": self.name, "deleted": sorted(self.deleted), "dense": self.dense}


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` of a version says."""

    embedder: dict  # name, dim, fingerprint (rag.index.embed.embedding_identity)
    pipeline: dict  # chunking, tokenizer and BM25 settings (rag.index.build.pipeline_settings)
    articles: int
    chunks: int
    segments: tuple[ManifestSegment, ...]
    fusion: dict = field(default_factory=dict)  # FusionWeights the build was calibrated with
    dense: dict = field(default_factory=dict)  # kinds of vector index in use, lowest recall@10
    corpus: str = ""
    created_at: str = ""

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        """From JSON already checked against MANIFEST_SCHEMA (`store.read_manifest`)."""
        return cls(
            embedder=data["embedder"],
            pipeline=data["pipeline"],
            articles=data["counts"]["articles"],
            chunks=data["counts"]["chunks"],
            segments=tuple(
                ManifestSegment(s["name"], tuple(s.get("deleted", ())), s["dense"]) for s in data["segments"]
            ),
            fusion=data.get("fusion", {}),
            dense=data.get("dense", {}),
            corpus=data.get("corpus", ""),
            created_at=data.get("created_at", ""),
        )

    def to_json(self) -> dict:
        return {
            "created_at": self.created_at,
            "embedder": self.embedder,
            "pipeline": self.pipeline,
            "counts": {"articles": self.articles, "chunks": self.chunks},
            "corpus": self.corpus,
            "fusion": self.fusion,
            "dense": self.dense,
            "segments": [s.to_json() for s in self.segments],
        }
