"""Request bodies of the HTTP API, validated by FastAPI (a bad field is a 400 naming it)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from rag.search.query import SearchFilters

EXTRACTIVE, LLM = "extractive", "llm"
MAX_K = 100


def _date_text(value: object) -> object:
    """Dates come as "YYYY-MM-DD" text; a number is refused rather than read as a timestamp."""
    if value is not None and not isinstance(value, str):
        raise ValueError("expected a date like 2021-08-05")
    return value


Day = Annotated[date, BeforeValidator(_date_text)]


class Filters(BaseModel):
    """Which passages may be used: the same filters as `rag search`/`rag ask`."""

    model_config = ConfigDict(extra="ignore")  # OpenAI clients send temperature, top_p, user, …

    k: StrictInt | None = Field(default=None, ge=1, le=MAX_K, description="number of passages (default 5)")
    since: Day | None = Field(default=None, description="only articles dated on or after this day")
    until: Day | None = Field(default=None, description="only articles dated on or before this day")
    article_ids: list[str] | None = Field(default=None, max_length=1000)
    categories: list[str] | None = Field(default=None, max_length=100)

    def search_filters(self) -> SearchFilters:
        """The filters as `SearchIndex.search` and `Conversation.ask` take them."""
        return SearchFilters.parse(self.since, self.until, self.article_ids, self.categories)


class ContentPart(BaseModel):
    """One part of a message in the list form OpenAI clients may send; only text is read."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(Filters):
    """`POST /v1/chat/completions`: the OpenAI shape, plus this service's filters."""

    model: str = Field(default=EXTRACTIVE, description="an answer mode from GET /v1/models")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    mode: Literal["extractive", "llm"] | None = Field(default=None, description="overrides `model`")
    as_of: Day | None = Field(default=None, description="the day 去年/最近 count from")
    n: Literal[1] = Field(default=1, description="one answer per request")
    stream_options: StreamOptions | None = None


class SearchRequest(Filters):
    """`POST /v1/search`."""

    query: str


class RetrievalSetting(BaseModel):
    model_config = ConfigDict(extra="ignore")

    top_k: StrictInt = Field(default=5, ge=1, le=MAX_K)
    score_threshold: float = Field(default=0.0, ge=0.0, le=1.0)


class Condition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    comparison_operator: str
    value: str | int | float | list[str] | None = None


class MetadataCondition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    logical_operator: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(default_factory=list, max_length=50)


class RetrievalRequest(BaseModel):
    """`POST /retrieval`: Dify's External Knowledge API."""

    model_config = ConfigDict(extra="ignore")

    knowledge_id: str
    query: str
    retrieval_setting: RetrievalSetting = Field(default_factory=RetrievalSetting)
    metadata_condition: MetadataCondition | None = None
