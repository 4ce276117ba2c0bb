"""Question answering over Chinese news: build an index, search it, ask it.

import rag
index = rag.open_index("index")
hits = index.search("东盟数字经济占GDP比重", k=5, since="2020-01-01")
"""

from rag.answer import Answer, Answerer, Citation
from rag.build import BuildReport, build_index
from rag.config import Settings, load_settings
from rag.errors import ConfigError, IndexLoadError, IngestError, QueryError, RagError
from rag.retrieve import Hit, SearchIndex, open_index

__all__ = [
    "Answer",
    "Answerer",
    "BuildReport",
    "Citation",
    "ConfigError",
    "Hit",
    "IndexLoadError",
    "IngestError",
    "QueryError",
    "RagError",
    "SearchIndex",
    "Settings",
    "build_index",
    "load_settings",
    "open_index",
]
