"""Question answering over Chinese news: build an index, search it, ask it.

import rag
index = rag.open_index("index")
hits = index.search("东盟数字经济占GDP比重", k=5, since="2020-01-01")
chat = rag.Conversation(index)
print(chat.ask("肖亚庆在二十国集团数字部长会议上说了什么？").answer)
print(chat.ask("他还说了什么？").answer)
"""

from rag.answer import Answer, Answerer, Citation
from rag.build import BuildReport, build_index
from rag.config import Settings, load_settings
from rag.conversation import Conversation
from rag.errors import ConfigError, IndexLoadError, IngestError, QueryError, RagError
from rag.retrieve import Hit, SearchIndex, open_index
from rag.router import Router

__all__ = [
    "Answer",
    "Answerer",
    "BuildReport",
    "Citation",
    "ConfigError",
    "Conversation",
    "Hit",
    "IndexLoadError",
    "IngestError",
    "QueryError",
    "RagError",
    "Router",
    "SearchIndex",
    "Settings",
    "build_index",
    "load_settings",
    "open_index",
]
