"""Pure: how a follow-up question becomes one that stands alone ("他还说了什么" after a
question about 肖亚庆), and how one message asking several things is split."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from rag.answer.intent import NOW, Intent
from rag.index.tokens import ChineseTokenizer


class _Asked(Protocol):
    standalone: str  # an earlier question as it was understood


# Words that point back at something said before.
_ANAPHORA = re.compile(
    r"他们|她们|它们|他|她|它|该|此|这次|那次|这个|那个|这位|那位|这场|那场|这届|那届|本届|当年|那年|当天|那天|"
    r"上述|其|这些|那些|对方"
)
# "跟传统数据中心比有啥不一样": the side compared with is the last question's subject.
# Only the whole question: "跟原计划比，云岭储能一期提前了多久投产" names its own subject.
_SIDELESS_COMPARISON = re.compile(
    r"(?:跟|和|与|同)[^，,。？?]{1,16}?(?:相比|比较|比起来|比)[，,]?"
    r"(?:有)?(?:什么|啥|何)?(?:不一样|不同|区别|差别|差异|变化)(?:吗|呢)?|"
    r"(?:跟|和|与|同)[^，,。？?]{1,16}?(?:相比|比较|比起来|比)[，,]?(?:怎么样|如何|呢)"
)
_TIME = re.compile(r"\d{4}\s*年(\d{1,2}\s*月)?|\d{1,2}\s*月\s*\d{1,2}\s*日|去年|今年|前年")
_SHORT = 8  # a question this short rarely names its own subject
# ...unless it holds a Latin word or a number: "API密钥是什么？", "5G基站有多少？" name their own.
_OWN_SUBJECT = re.compile(r"[A-Za-z]{2,}|\d{2,}")


def needs_context(question: str) -> bool:
    """Whether the question leans on the previous turn: a pronoun, or too short to stand alone
    and naming no subject of its own."""
    core = re.sub(r"[？?！!。，,\s]", "", question)
    timeless = _TIME.sub("", core)  # "2020年呢？", "2019年那会儿呢" still lean on the last turn
    return bool(_ANAPHORA.search(core) or _SIDELESS_COMPARISON.fullmatch(core)) or (
        len(timeless) <= _SHORT and not _OWN_SUBJECT.search(timeless)
    )


def own_subject(question: str, intent: Intent, people: list[str]) -> bool:
    """Whether a short question names its own subject and so is no follow-up: a person, or the
    collection itself ("语料里有哪些文章"), and no word pointing back."""
    core = re.sub(r"[？?！!。，,\s]", "", question)
    return not _ANAPHORA.search(core) and (bool(people) or bool(intent.corpus_ask))


def rewrite_followup(question: str, history: Sequence[_Asked], words: Callable[[str], list[str]]) -> str:
    """A standalone query for `question` given earlier turns (most recent last): the question
    `with_previous_subject` of the last one when it leans on it (`needs_context`), else unchanged.

    Args:
        words: the tokenizer's content-word function (jieba lives in one place).
    """
    if not history or not needs_context(question):
        return question
    return with_previous_subject(question, history[-1].standalone, words)


def with_previous_subject(question: str, previous: str, words: Callable[[str], list[str]]) -> str:
    """`question` with the subject words of the previous standalone question that it lacks put
    in front, and the previous time expression carried over unless the question names its own."""
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


# "那次会议", "这个中心", "该论坛": a thing the previous question named in full.
_POINTING = re.compile(r"(?:那|这|该|此)(?:一)?(?:次|个|场|届|家|位|项|座|所|条|份|款|轮|批|期)?")
_GENERIC_HEAD = re.compile(
    r"(?:会议|论坛|大会|峰会|博览会|展会|讲座|开幕式|仪式|发布会|中心|园区|报告|白皮书)"
)
# Generic heads that a name abbreviates: 智博会 and 数博会 are 博览会, that is 展会.
_HEAD_ABBREVIATED = {"展会": ("博览会", "博会", "展览会"), "博览会": ("博会",)}
_POINTED_TIME = re.compile(r"那一?年|当年|那一?天|当天")
_NAME_PART_FLAGS = frozenset({"m", "eng", "j", "b", "t", "vn", "nz", "ns", "nt", "n", "nrt"})
Tagged = Callable[[str], list[tuple[str, str]]]


def resolve_pointers(question: str, previous: str, tagged: Tagged) -> str:
    """`question` with "那次会议" / "那一年" replaced by what the previous question named
    ("肖亚庆参加了2021年的G20数字部长会议吗？" then "那次会议的主题是啥？" ->
    "2021年G20数字部长会议的主题是啥？"); the question unchanged when nothing is pointed at.
    The previous question's time goes along unless the question names its own."""
    resolved = question
    if (time := _TIME.search(previous)) and (pointed := _POINTED_TIME.search(resolved)):
        resolved = resolved[: pointed.start()] + time.group(0) + resolved[pointed.end() :]
    # "会议最后通过了什么文件": a question that starts with the head of a thing just named points too.
    bare = [(0, 0)] if _GENERIC_HEAD.match(resolved) else []
    for start, end in [*((m.start(), m.end()) for m in _POINTING.finditer(resolved)), *bare]:
        after = resolved[end:]
        head = next((after[:n] for n in (4, 3, 2) if len(after) >= n and after[:n] in previous), "")
        said = head or next((k for k in _HEAD_ABBREVIATED if after.startswith(k)), "")
        if not head and said:  # "这个展会" after "2021智博会…": the name's own short head
            head = next((f for f in _HEAD_ABBREVIATED[said] if f in previous), "")
        name = _name_ending_with(previous, head, tagged) if _CJK_WORD.fullmatch(head) else ""
        if len(name) > len(head):
            start -= resolved[:start].endswith("那")  # "那这个展会" -> the name, no "那" left over
            resolved = resolved[:start] + name + after[len(said) :]
            if time and not _TIME.search(question) and time.group(0) not in name:
                resolved = time.group(0) + resolved
            break
    return resolved


_CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")


def _name_ending_with(text: str, head: str, tagged: Tagged) -> str:
    """The name in `text` whose last word ends with `head`: the nouns, numbers and Latin words
    before it, up to a verb, a particle or a person ("参加了2021年的G20数字部长会议" -> G20数字部长会议;
    a verb joins only before a noun: "创新中心")."""
    end = text.rfind(head) + len(head)
    words, offset, last = [], 0, -1
    for word, flag in tagged(text):
        words.append((word, flag, offset))
        offset += len(word)
        if offset == end:
            last = len(words) - 1
    if last < 0:
        return head
    start = words[last][2]
    for i in range(last - 1, -1, -1):
        word, flag, at = words[i]
        before_noun = flag == "v" and words[i + 1][1].startswith("n")
        if not (flag in _NAME_PART_FLAGS or before_noun):
            break
        start = at
    return text[start:end]


def answering_people(people: list[str], answer: str, question: str) -> list[str]:
    """Those of `people` the question does not name, the one followed in the answer by most of
    what the question says the person did first: "是谁宣读了李克强总理的贺信" is answered by
    "…部长苗圩宣读李克强总理贺信…", so "他" next is 苗圩, not 李克强."""
    at = question.find("谁")
    after = question[at + 1 :].strip("？?。！! ") if at >= 0 else ""
    asked = after if len(after) >= 2 else question  # "是谁宣读了…贺信": what the person did
    pairs = {asked[i : i + 2] for i in range(len(asked) - 1)}

    def overlap(person: str) -> int:  # news names the doer right before the deed: "苗圩宣读…贺信"
        ends = (m.end() for m in re.finditer(re.escape(person), answer))
        following = (answer[end : end + len(asked) + 4] for end in ends)
        return max((sum(p in text for p in pairs) for text in following), default=0)

    return sorted((p for p in dict.fromkeys(people) if p not in question), key=lambda p: -overlap(p))


def post_holders(people: list[str], answer: str, question: str, posts: list[str]) -> list[str]:
    """`people`, those the answer names in the post the question asked about first, and first
    of those whoever holds it where the question says ("云岭储能董事长是谁？" is answered by
    "…星驰汽车董事长陈国栋、云岭储能董事长何静怡…": 何静怡)."""

    def fit(person: str) -> int:
        best = 0
        for post in posts:
            at = question.find(post)
            where = question[:at].rstrip("的")[-2:] if at > 0 else ""  # "云岭储能(的)董事长": 储能
            if where and re.search(f"{re.escape(where)}的?{re.escape(post)}{re.escape(person)}", answer):
                return 2
            best = max(best, int(post + person in answer or person + post in answer))
        return best

    return sorted(dict.fromkeys(people), key=lambda person: -fit(person))


_SWAPPABLE = (
    re.compile(r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?|去年|今年|前年"),
    re.compile(r"第[一二三四五六七八九十\d]+[届期次]"),
    re.compile(r"[一二三四五六七八九十\d]+期"),
)


def swap_attribute(previous: str, new: str, tokenizer: ChineseTokenizer) -> str:
    """The previous question about `new` instead of its last plain noun ("产量" -> "营收")."""
    new = re.sub(r"^(?:的|那)|(?:的时候|那会儿?|那时候?|当时)$", "", new).strip()
    if not new or new in previous:
        return ""
    if time := _SWAPPABLE[0].search(new):
        # "那2022年呢" swaps the year of "星驰汽车2021年产量是多少", or the 现在 of "现在是什么职务";
        # "那2023年的产量目标呢" names a time and an attribute: not one thing to swap.
        old = (_SWAPPABLE[0].search(previous) or NOW.search(previous)) if time.group(0) == new else None
        return previous[: old.start()] + new + previous[old.end() :] if old else ""
    for kind in _SWAPPABLE[1:]:  # "那第七届呢", "那一期呢": the edition
        if kind.fullmatch(new) and (old := kind.search(previous)):
            return previous[: old.start()] + new + previous[old.end() :]
    tagged = tokenizer.tagged(previous)
    position, target = -1, ""
    offset = 0
    for word, flag in tagged:
        if flag.startswith("n") and flag not in ("nr", "nrfg", "nrt", "ns", "nt", "nz") and len(word) >= 2:
            position, target = offset, word
        offset += len(word)
    if position < 0:
        return ""
    return previous[:position] + new + previous[position + len(target) :]


# The later part of "…哪天开幕的？报道又是哪天发的" / "…现在是什么职务，2019年那会儿呢".
_TAIL_FOLLOWUP = re.compile(r"[，,](?P<tail>[^，,。？?]{1,14}呢)[？?]?$")
# A part that asks nothing of its own: "介绍一下", "具体说说", "请详细讲讲吧", and after a question
# about what someone said or did, "他是怎么解释的" / "她怎么说的".
_BARE_REQUEST = re.compile(
    r"(?:(?:请|帮我|麻烦)?(?:简单|详细|具体|展开)?(?:地)?(?:介绍|说|讲|谈|概括|总结|展开)(?:一下|下|说|讲|谈)?"
    r"(?:看|吧|呗)?|[他她](?:是|又是)?(?:怎么|如何|咋)(?:解释|说|讲|回应|表态)的?)[。！!？?\s]*"
)
_BARE_REPORT = re.compile(r"^(?:那|这)?(?:个)?(?P<doc>报道|文章|新闻|稿子|消息)")


def question_parts(question: str) -> list[str]:
    """The questions one message asks, in order; a later part is worded as a follow-up of the
    earlier ("报道又是哪天发的" -> "那篇报道又是哪天发的": the report about what was asked first).

    A message asks several questions when it has more than one question mark, or ends with
    a "…呢" clause after a comma. One question comes back as itself.
    """
    text = question.strip()
    pieces = [p.strip() for p in re.split(r"(?<=[？?])", text) if p.strip()]
    if len(pieces) == 1 and (tail := _TAIL_FOLLOWUP.search(text)):
        pieces = [text[: tail.start()] + "？", tail.group("tail")]
    pieces = [p for p in pieces if len(re.sub(r"[\W_]", "", p)) >= 3]
    requests: list[str] = []
    for piece in pieces:  # "…怎么样？介绍一下。具体说说": one request
        if requests and _BARE_REQUEST.fullmatch(piece):
            requests[-1] += piece
        else:
            requests.append(piece)
    pieces = requests
    if len(pieces) < 2:
        return [question]
    return pieces[:1] + [_BARE_REPORT.sub(r"那篇\g<doc>", p, count=1) for p in pieces[1:]]
