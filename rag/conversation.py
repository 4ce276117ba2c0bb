"""Follow-up questions: rewrite "他还说了什么？" into a standalone query using the previous turn."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Words that point back at something said before.
_ANAPHORA = re.compile(
    r"他们|她们|它们|他|她|它|该|此|这次|那次|这个|那个|这位|那位|这场|那场|上述|其|这些|那些|对方"
)
_TIME = re.compile(r"\d{4}\s*年(\d{1,2}\s*月)?|\d{1,2}\s*月\s*\d{1,2}\s*日|去年|今年|前年")
_SHORT = 8  # a question this short rarely names its own subject
# ...unless it holds a Latin word or a number: "API密钥是什么？", "5G基站有多少？" name their own.
_OWN_SUBJECT = re.compile(r"[A-Za-z]{2,}|\d{2,}")


@dataclass
class Turn:
    question: str
    standalone: str
    answer: str = ""
    article_ids: list[str] = field(default_factory=list)


def needs_context(question: str) -> bool:
    """Whether the question leans on the previous turn: a pronoun, or too short to stand alone
    and naming no subject of its own."""
    core = re.sub(r"[？?！!。，,\s]", "", question)
    return bool(_ANAPHORA.search(core)) or (len(core) <= _SHORT and not _OWN_SUBJECT.search(core))


def rewrite_followup(question: str, history: list[Turn], words: Callable[[str], list[str]]) -> str:
    """A standalone query for `question` given earlier turns (most recent last).

    The subject words of the previous standalone question that the follow-up lacks are
    put in front, and a time expression of the previous turn is carried over unless the
    follow-up names its own. Without history, or when the question stands alone, it
    is returned unchanged.

    Args:
        words: the tokenizer's content-word function (jieba lives in one place).
    """
    if not history or not needs_context(question):
        return question
    previous = history[-1].standalone
    present = set(words(question))
    carried = [w for w in dict.fromkeys(words(previous)) if w not in present and not _TIME.fullmatch(w)]
    # cut_for_search also yields the parts of long words; keep only the longest forms.
    carried = [w for w in carried if not any(w != other and w in other for other in carried)]
    time_phrase = ""
    previous_time = _TIME.search(previous)
    if previous_time and not _TIME.search(question):
        time_phrase = previous_time.group(0)
    subject = ""
    for word in carried:
        if word in time_phrase:
            continue
        if len(subject) + len(word) > 16:
            break
        subject += word
    stripped = _ANAPHORA.sub("", question, count=1) if _ANAPHORA.search(question) else question
    return f"{time_phrase}{subject}{stripped}".strip()
