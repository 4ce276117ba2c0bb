"""A conversation of the app as a file a reader keeps: Markdown to read, JSON to process."""

from __future__ import annotations

import json


def conversation_markdown(messages: list[dict], title: str = "新闻问答记录") -> str:
    """Questions, answers and each answer's numbered sources (title, date, the quoted spans).

    Args:
        messages: the app's messages: {"role": "user", "content"} or
            {"role": "assistant", "answer": Answer.to_dict()}.
    """
    lines = [f"# {title}", ""]
    for message in messages:
        if message["role"] == "user":
            lines += [f"## 问：{message['content']}", ""]
            continue
        answer = message["answer"]
        lines += [answer["answer"], ""]
        if answer["citations"]:
            lines.append("来源：" if answer["answerable"] else "最接近的段落（未找到答案）：")
            for citation in answer["citations"]:
                quoted = "……".join(citation["text"][s:e] for s, e in citation["spans"])
                lines.append(
                    f"{citation['n']}. 《{citation['title']}》（{citation['date'] or '日期不详'}）"
                    f"  \n   > {quoted}"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def conversation_json(messages: list[dict]) -> str:
    """The same conversation as JSON: a list of {question, answer} with every citation field."""
    turns, question = [], None
    for message in messages:
        if message["role"] == "user":
            question = message["content"]
        else:
            turns.append({"question": question, **message["answer"]})
    return json.dumps({"turns": turns}, ensure_ascii=False, indent=2)
