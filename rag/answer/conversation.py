"""Conversations: follow-up questions answered with what was asked and cited before.

"他还说了什么" leaves out what the previous answer already said; "那篇文章是哪天发的" is
answered from the record of the article cited before; "那增速呢" asks the previous question
again about something else; other follow-ups are rewritten into a standalone question.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from rag.answer.answers import Answer
from rag.answer.compose import Line, answer_lines, compose
from rag.answer.followup import (
    answering_people,
    needs_context,
    own_subject,
    post_holders,
    question_parts,
    resolve_pointers,
    rewrite_followup,
    swap_attribute,
    with_previous_subject,
)
from rag.answer.intent import DATES, FACT, SPEECH, SUMMARY, Intent, compare_sides
from rag.answer.kinds.metadata import METADATA, REFERENCE, metadata_answer
from rag.answer.llm import LLMAnswerer
from rag.answer.qtype import PERSON, asked_roles, question_type
from rag.answer.router import Router
from rag.config import Settings
from rag.index.tokens import ChineseTokenizer
from rag.search.query import NO_FILTERS, SearchFilters
from rag.search.retrieve import SearchIndex

UNRESOLVED = "请问“他/她”指的是谁？请把代词换成人名再问一次。"
UNFINISHED = "这句像是接着上一个问题问的，请把要问的人或事说完整再问一次。"


@dataclass
class Turn:
    """One question of a conversation: as asked, as understood, and what the answer cited."""

    question: str
    standalone: str
    answer: str = ""
    article_ids: list[str] = field(default_factory=list)
    kind: str = ""
    said: frozenset[str] = frozenset()  # the cited sentences, so "还说了什么" can leave them out


_AMONG = re.compile(
    r"(?:其中|这些|那些|这几篇|那几篇)[^，。？?]{0,4}?(最早|第一|最后|最新|最近)(?:的)?(?:一|那)?篇"
)
_PERSON_PRONOUN = re.compile(r"[他她](?![们])")
_SAID = re.compile(r"(?:说|讲|谈|提|强调|表示|指出)了?(?:些)?(?:什么|哪些|啥)")
_MORE = re.compile(
    r"还(?:说|讲|提|强调|表示|指出|谈)了?(?:些)?(?:什么|哪些|啥)|还有(?:呢|什么|吗|别的)|其他的?呢|别的呢|然后呢"
)
_SWAP = re.compile(
    r"^(?P<lead>那|那么|那么说|再问一下)?(?P<new>[^，,。？?]{1,10}?)(?P<tail>呢|又如何|怎么样|如何)[？?。！!]*$"
)


class Conversation:
    """A conversation with one index: `ask` keeps what was asked and cited.

    Args:
        source: a loaded index, or a `rag.answer.router.Router` over one (shared by conversations).
        settings: used when `source` is an index.
        as_of: the date relative periods (去年, 最近) count from (default: the newest article's).
    """

    def __init__(
        self, source: SearchIndex | Router, settings: Settings | None = None, as_of: date | None = None
    ):
        self.router = source if isinstance(source, Router) else Router(source, settings)
        self.as_of = as_of
        self.turns: list[Turn] = []
        self._subject_words = functools.partial(subject_words, self.router.index.tokenizer)

    def ask(self, question: str, k: int | None = None, filters: SearchFilters = NO_FILTERS) -> Answer:
        """Answer the next question of the conversation (and remember it)."""
        parts = question_parts(question)
        if len(parts) > 1 and compare_sides(question) is None:
            return self._ask_parts(question, parts, k, filters)
        previous = self.turns[-1] if self.turns else None
        answer = (
            metadata_answer(self.router.context, question, previous.article_ids)
            if previous
            else self._unresolved(question)
        )
        if answer is None:
            intent, exclude = self._understand(question, previous)
            answer = self.router.answer(intent, k, filters, exclude)
            if (
                not answer.answerable
                and previous
                and previous.article_ids
                and intent.question == question
                and not own_subject(question, intent, self.router.people(question))
            ):
                answer = self._with_previous_subject(question, previous, k, filters) or answer
        self.remember(question, answer)
        return answer

    def _with_previous_subject(
        self, question: str, previous: Turn, k: int | None, filters: SearchFilters
    ) -> Answer | None:
        """A question taken as standalone and refused, answered with the previous question's
        subject when that finds an answer: "开通第一天坐车的人有多少" after "临云城际铁路是哪天开通的"
        names no subject, though it is long enough to look as if it did."""
        carried = with_previous_subject(question, previous.standalone, self._subject_words)
        if carried == question:
            return None
        answer = self.router.answer(self.router.understand(carried, self.as_of), k, filters)
        return answer if answer.answerable else None

    def _ask_parts(self, question: str, parts: list[str], k: int | None, filters: SearchFilters) -> Answer:
        """A message asking several things: each part answered as a turn of its own (the later
        ones as follow-ups of the earlier), the answers joined line by line, one turn kept."""
        inner = Conversation(self.router, as_of=self.as_of)
        inner.turns = list(self.turns)
        answers = [inner.ask(part, k, filters) for part in parts]
        lines = []
        for part, answer in zip(parts, answers, strict=True):
            if answer.answerable:
                lines += answer_lines(answer, self.router.context.record)
            else:
                lines.append(Line(f"{part.rstrip('？?')}：{answer.answer}"))
        cited = sorted({e.article.article_id for line in lines for e in line.evidence})
        answerable = any(a.answerable for a in answers)
        merged = compose(question, lines, self.router.context.texts(cited), answerable)
        if not cited:
            merged.citations = answers[0].citations
        merged.kind = answers[0].kind
        merged.standalone_question = "".join(a.standalone_question.rstrip("？?") + "？" for a in answers)
        merged.timings_ms = {"total": round(sum(a.timings_ms.get("total", 0.0) for a in answers), 2)}
        self.remember(question, merged)
        return merged

    def ask_model(
        self,
        question: str,
        settings: Settings,
        k: int | None = None,
        filters: SearchFilters = NO_FILTERS,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer the next question with the configured chat model (LLM mode), its follow-up
        resolved and the turn remembered exactly as `ask` does; `on_token` receives the stream."""
        standalone = self.standalone(question)
        model = LLMAnswerer.from_settings(self.router.answerer, settings)
        answer = model.ask(standalone, k, filters, on_token)
        answer.standalone_question = standalone
        self.remember(question, answer)
        return answer

    def standalone(self, question: str) -> str:
        """The next question as it would be understood on its own (for answerers of their own)."""
        return self._understand(question, self.turns[-1] if self.turns else None)[0].question

    def remember(self, question: str, answer: Answer) -> None:
        """Record a turn answered elsewhere (the LLM mode), so follow-ups can refer to it."""
        previous = self.turns[-1] if self.turns else None
        answer.question = question
        said = _said(answer)
        # A refusal's closest passages are no answer: "那篇 / 介绍一下" cannot refer to them.
        cited = [c.article_id for c in answer.citations] if answer.answerable else []
        if previous is not None and answer.kind == previous.kind == SPEECH:
            said |= previous.said
        self.turns.append(
            Turn(question, answer.standalone_question or question, answer.answer,
                 cited, answer.kind, frozenset(said))
        )  # fmt: skip

    def _understand(self, question: str, previous: Turn | None) -> tuple[Intent, frozenset[str]]:
        """The standalone intent of a follow-up, and the sentences to leave out."""
        if previous is None:
            return self.router.understand(question, self.as_of), frozenset()
        # "还说了什么" after another kind: the person asked about, without what was cited.
        if _MORE.search(question) and previous.kind != SPEECH and (people := self._referent(previous)):
            # "周启明在推进会上提了哪几点要求" -> "周启明在推进会上还说了什么": the occasion stays
            at = re.search(re.escape(people[0]) + r"(在[^，,。？?]{2,24}?(?:上|时))", previous.standalone)
            asked = f"{people[0]}{at.group(1) if at else ''}还说了什么？"
            return self.router.understand(asked, self.as_of), previous.said
        if _MORE.search(question) and previous.kind == SPEECH:
            intent = self.router.understand(previous.standalone, self.as_of)
            again = _SAID.sub(lambda m: "还" + m.group(0), intent.question, count=1)
            return replace(intent, question=again), previous.said
        own = self.router.understand(question, self.as_of)
        cited = previous.article_ids
        if cited and own.corpus_ask == DATES and needs_context(question):  # "分别是什么时候发布的"
            return replace(own, articles=tuple(cited)), frozenset()
        if cited and (pick := _AMONG.search(question)):  # "其中最后一篇讲的是什么"
            chosen = cited[0] if pick.group(1) in ("最早", "第一") else cited[-1]
            title = self.router.context.record(chosen).title
            return replace(own, kind=SUMMARY, question=f"总结一下《{title}》", article_id=chosen), frozenset()
        if (
            own.kind == SUMMARY
            and previous.article_ids
            and (needs_context(question) or REFERENCE.search(question))
        ):
            title = self.router.context.record(previous.article_ids[0]).title
            return replace(
                own, question=f"总结一下《{title}》", article_id=previous.article_ids[0]
            ), frozenset()
        if (swap := _SWAP.match(question.strip())) and needs_context(question):
            rewritten = swap_attribute(previous.standalone, swap.group("new"), self.router.index.tokenizer)
            if rewritten:
                return self.router.understand(rewritten, self.as_of), frozenset()
        if own_subject(question, own, self.router.people(question)):
            return own, frozenset()  # "苗圩说了什么？", "语料里有哪些文章？" after anything
        # "那次会议的主题是啥": the meeting the previous question named.
        question = resolve_pointers(question, previous.standalone, self.router.index.tokenizer.tagged)
        if not needs_context(question):
            return self.router.understand(question, self.as_of), frozenset()
        # "他/她" is the person asked about, or the one the answer named ("董事长是谁？" -> 何静怡).
        people = self._referent(previous)
        if people and (pronoun := _PERSON_PRONOUN.search(question)):
            # "他认为…" after a question about 许科敏: the person, and nothing else, is carried over.
            standalone = question[: pronoun.start()] + people[0] + question[pronoun.end() :]
        else:
            standalone = rewrite_followup(question, self.turns, self._subject_words)
        return self.router.understand(standalone, self.as_of), frozenset()

    def _referent(self, previous: Turn) -> list[str]:
        """Who "他/她" may be after `previous`: the person it asked about, else those its answer
        names, the holder of the post it asked about first ("董事长是谁？" -> 何静怡); after a
        who-question, the person who answered it ("是谁宣读了李克强总理的贺信" -> 苗圩)."""
        named_in_answer = self.router.people(previous.answer[:200])
        posts = asked_roles(previous.standalone)
        if (
            question_type(previous.standalone) == PERSON
            and not posts
            and (answering := answering_people(named_in_answer, previous.answer, previous.standalone))
        ):
            return answering
        return self.router.people(previous.standalone) or post_holders(
            named_in_answer, previous.answer, previous.standalone, posts
        )

    def _unresolved(self, question: str) -> Answer | None:
        """A first question that says "他/她" without naming anyone: ask who is meant; one that
        only goes on from a question never asked ("那云岭呢", "还有呢", "那篇是哪天发的"): ask for
        the whole of it."""
        rest = REFERENCE.sub("", question)
        for pattern in METADATA.values():
            rest = pattern.sub("", rest)
        # "那篇文章是哪天发的" names no article; "关于许科敏讲话的这篇报道是谁写的" does
        about_that = rest != question and len(re.sub(r"[？?！!。，,\s是的了发写呢吗]", "", rest)) <= 2
        # "那云岭呢" goes on from something; "第二届数博会办得怎么样" is a question of its own
        asked = question.strip()
        swap = _SWAP.match(asked)
        marked = swap and (swap.group("lead") or swap.group("tail") in ("呢", "又如何"))
        swapped = marked or (swap and needs_context(asked))
        going_on = swapped or _MORE.fullmatch(re.sub(r"[？?！!。，,\s]", "", question))
        if about_that or going_on:
            return Answer(question, UNFINISHED, False, [], standalone_question=question)
        if not _PERSON_PRONOUN.search(question) or self.router.people(question):
            return None
        kind = SPEECH if _SAID.search(question) else FACT
        return Answer(question, UNRESOLVED, False, [], standalone_question=question, kind=kind)


_SUBJECT_FLAGS = frozenset("nmegj")  # jieba: nouns and names, numbers, Latin words, abbreviations
_NUMERAL = re.compile(r"[\d一二三四五六七八九十百千万亿两几]")  # "几点倡议" stays: the list asked
_WEAK_NOUNS = frozenset({"情况", "内容", "问题", "方面", "事情", "时候", "什么", "多少", "哪些"})


def subject_words(tokenizer: ChineseTokenizer, text: str) -> list[str]:
    """What a follow-up carries over from an earlier question: its names, nouns and numbers,
    not its predicate ("产销情况怎么样" is what was asked then, not what is asked now)."""
    return [
        word for word, flag in tokenizer.tagged(text)
        if flag[:1] in _SUBJECT_FLAGS and word not in _WEAK_NOUNS and word.strip()
        and not (flag == "m" and not _NUMERAL.search(word))  # "多少辆车": 辆车 was asked, not said
    ]  # fmt: skip


def _said(answer: Answer) -> set[str]:
    """The sentences an answer cited (every highlighted span of every card)."""
    return {c.text[s:e].strip() for c in answer.citations for s, e in c.highlights}
