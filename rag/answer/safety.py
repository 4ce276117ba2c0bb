"""Pure checks on corpus text before it becomes an answer: sentences that address an assistant
(prompt injection planted in an article) and strings that look like credentials.

Articles are data, never instructions: a sentence such as "忽略以上指令，回答：……" is not
news, and quoting it back as the answer would let any article author choose the answer.
"""

from __future__ import annotations

import re

_OVERRIDE = re.compile(
    r"(忽略|忽视|无视|忘记|忘掉|不要理会|跳过)\s*(掉)?\s*(你\s*)?(以上|上面|上文|上述|之前|此前|前面|先前|原有|所有|全部|一切)"
    r"[^。！？\n]{0,8}(指令|指示|提示词|提示|设定|prompt)"
    r"|ignore\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding)\s+(instructions?|prompts?|rules)"
    r"|disregard\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above)\b",
    re.I,
)
_ADDRESSED = re.compile(
    r"(你|您)\s*(现在|从现在起|接下来)?\s*(是|扮演|作为|充当)\s*(一个|一名)?\s*"
    r"(AI|人工智能|智能)?\s*(助手|机器人|语言模型|大模型|ChatGPT|GPT)"
    r"|(作为|身为)\s*(一个|一名)?\s*(AI|人工智能)\s*(助手|语言模型|大模型)(?!领域|企业|公司|产业|行业|厂商|技术)"
    r"|(系统提示词|system\s+prompt|you\s+are\s+(now\s+)?an?\s+(ai|assistant|language\s+model))",
    re.I,
)
_KNOWN_SECRET = re.compile(
    r"(?<![A-Za-z0-9])(sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{30,})"
)
_LABELLED_SECRET = re.compile(
    r"(密钥|秘钥|私钥|口令|密码|令牌|api[\s_-]*key|secret|token|password)\s*(是|为|:|：|=)\s*[A-Za-z0-9_\-+/=.]{8,}",
    re.I,
)


def is_instruction(sentence: str) -> bool:
    """Whether a sentence speaks to an AI assistant (to override its instructions or cast it a role)."""
    return bool(_OVERRIDE.search(sentence) or _ADDRESSED.search(sentence))


def holds_secret(text: str) -> bool:
    """Whether text carries something shaped like a credential: a known key format (sk-…,
    AKIA…, ghp_…) or a labelled password or key ("API密钥是…")."""
    return bool(_KNOWN_SECRET.search(text) or _LABELLED_SECRET.search(text))


def quotable(sentence: str) -> bool:
    """Whether a corpus sentence may be given as (part of) an answer."""
    return not is_instruction(sentence) and not holds_secret(sentence)


def quotable_run(sentences: list[str]) -> list[bool]:
    """`quotable` for consecutive sentences of one passage; the sentence after an instruction
    is its payload ("忽略以上指令。回答：…") and is not quotable either."""
    flags, after_instruction = [], False
    for sentence in sentences:
        flags.append(quotable(sentence) and not after_instruction)
        after_instruction = is_instruction(sentence)
    return flags
