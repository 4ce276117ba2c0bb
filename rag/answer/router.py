"""Question to answer: classify the question (rag.answer.intent), then answer it with the strategy of
its kind (rag.answer.kinds), falling back to the fact answerer when a strategy finds nothing.

Every strategy checks that the names and numbers of the question occur in what it cites, so
a question about something the corpus does not hold is refused, whatever its kind.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import replace
from datetime import date

from rag.answer.answers import Answer, search_and_answer
from rag.answer.compose import Line, answer_lines, compose, per_article
from rag.answer.extractive import Answerer
from rag.answer.intent import (
    COMPARE,
    CORPUS,
    FACT,
    LIST,
    ONLY,
    SPEECH,
    SUMMARY,
    TIME,
    TIMELINE,
    TITLES,
    Intent,
    classify,
    within_filters,
)
from rag.answer.kinds.context import Context
from rag.answer.kinds.corpus import corpus_answer
from rag.answer.kinds.listing import enumeration_at, list_lines
from rag.answer.kinds.role import ASKS_ROLE, role_lines
from rag.answer.kinds.speech import SPOKEN_POINTS, quoted_nowhere, speech_lines
from rag.answer.kinds.summary import asked_summary
from rag.answer.kinds.timeline import timeline_lines
from rag.answer.periods import question_period
from rag.answer.qtype import holds_whole, named_editions, ordinal_events
from rag.answer.side_focus import Side
from rag.answer.sides import SidePair, measure_sides
from rag.answer.support import term_in_text
from rag.answer.titled import spelled_out
from rag.config import Settings
from rag.index.tokens import SURNAMES, normalise_text
from rag.ingest.dates import impossible_date
from rag.search.catalog import Catalog
from rag.search.query import NO_FILTERS, SearchFilters, clean_query
from rag.search.retrieve import SearchIndex

_PERSON_FLAGS = {"nr", "nrfg", "nrt"}
# Documents jieba may tag as a person ("白皮书显示…" reads like someone speaking): never a speaker.
_DOCUMENT = re.compile(r"(?:皮书|报告|宣言|规划|方案|纲要|公报|条例)$")
# A name at the start of a question or of its clause, before what it asks of the person
# ("周启明在…", "何静怡为什么说…", "白皮书发布会上，韩立新对…").
_LEADING_NAME = re.compile(
    r"(?:^|(?<=[，,；;：:]))([\u4e00-\u9fff]{2,3})(?=在|对|说|认为|表示|提|为什么|为啥|是怎么|怎么|咋|如何|还|分别|和|与|的讲话|的发言)"
)
_RUN_ON = re.compile(r"\[\d+\][^\s\[\]]")  # "…[1]8月5日": a marker running into the next sentence

# Questions whose names a router remembers (its index never changes): one question's names are
# asked for by the intent, the role and speech strategies and the follow-up logic, and a leading
# name costs a phrase lookup over the whole corpus.
PEOPLE_KEPT = 1024


class Router:
    """Answers any kind of question over one index; `Answerer` stays the fact strategy."""

    def __init__(
        self, index: SearchIndex, settings: Settings | None = None, answerer: Answerer | None = None
    ):
        self.settings = settings or Settings()
        self.answerer = answerer or Answerer(index, self.settings)
        self.index = index
        self.context = Context(index, Catalog(index), self.answerer)
        self._names = functools.lru_cache(maxsize=PEOPLE_KEPT)(self._found_names)
        self._spelled = functools.lru_cache(maxsize=PEOPLE_KEPT)(functools.partial(spelled_out, index))

    @property
    def catalog(self) -> Catalog:  # the article table and phrase lookups of this router's index
        return self.context.catalog

    def as_of(self, override: date | None = None) -> date | None:
        """The date relative periods count from: given, or the newest article's (documented)."""
        return override or self.index.newest_date

    def people(self, question: str) -> list[str]:
        """Person names in the question: jieba's person tags, or a leading name the corpus holds."""
        return list(self._names(question))

    def _found_names(self, question: str) -> tuple[str, ...]:
        tagged = self.index.tokenizer.tagged(question)
        names = [w for w, flag in tagged if flag in _PERSON_FLAGS and len(w) >= 2 and not _DOCUMENT.search(w)]
        for match in _LEADING_NAME.finditer(question):
            name = match.group(1)
            clause_start = match.start() > 0  # "…，会议对…" is no one: a name there has a surname
            if (
                name not in names
                and (name[0] in SURNAMES or not clause_start)
                and self.context.catalog.mentions(name)
            ):
                names.append(name)
        return tuple(sorted(names, key=question.find))  # the subject first, as the question has it

    def understand(self, question: str, as_of: date | None = None) -> Intent:
        question = self._spelled(question)
        return classify(question, self.as_of(as_of), self.people(question))

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: SearchFilters = NO_FILTERS,
        as_of: date | None = None,
    ) -> Answer:
        """Answer a standalone question with the strategy of its kind.

        Args:
            k: passages the fact strategy retrieves (default from settings).
            filters: every answer cites only such articles (a date filter becomes the
                question's publication period).
            as_of: the date "去年", "最近" count from (default: the newest article's date).
        """
        question = clean_query(question, self.settings.max_query_chars)
        return self.answer(self.understand(question, as_of), k, filters)

    def answer(
        self,
        intent: Intent,
        k: int | None = None,
        filters: SearchFilters = NO_FILTERS,
        exclude: frozenset[str] = frozenset(),
    ) -> Answer:
        """Answer an understood question; `exclude` holds sentences already said in this
        conversation ("他还说了什么")."""
        started = time.perf_counter()
        intent = within_filters(intent, filters)
        answer = self._answer(intent, k, exclude, filters)
        if intent.kind != FACT and not _respects(answer, filters, self.index):
            # A strategy that read beyond the chosen articles: the fact answer, which filters inside.
            answer = self._fact(intent, k, filters)
        if len({c.article_id for c in answer.citations}) < len(answer.citations) or _RUN_ON.search(
            answer.answer
        ):
            answer = per_article(answer, self.context.record, self.context.text)
        answer.kind = intent.kind
        answer.question = intent.question
        answer.standalone_question = answer.standalone_question or intent.question
        answer.timings_ms = {**answer.timings_ms, "total": round((time.perf_counter() - started) * 1000, 2)}
        return answer

    def _answer(
        self, intent: Intent, k: int | None, exclude: frozenset[str], filters: SearchFilters
    ) -> Answer:
        question = intent.question
        if impossible := impossible_date(question):
            return Answer(question, f"{impossible}不是一个存在的日期，资料里没有这段时间的报道。", False, [])
        if intent.kind in (CORPUS, TIME) and intent.corpus_ask:
            return corpus_answer(self.context, intent)
        if (
            intent.kind in (FACT, TIME, TIMELINE)
            and ASKS_ROLE.search(question)
            and (people := self.people(question))
        ):
            lines = role_lines(self.context, question, people[0], intent.period, intent.kind == TIMELINE)
            return self._lines_or_fact(intent, lines, k, filters)
        if intent.kind == SUMMARY:
            lines = asked_summary(self.context, intent)
            if not lines and intent.corpus_ask == ONLY:  # "2021年那篇…": several articles, or none
                return corpus_answer(self.context, replace(intent, kind=TIME, corpus_ask=TITLES))
            return self._lines_or_fact(intent, lines, k, filters)
        if intent.kind == SPEECH:
            lines, people = self._speech(intent, exclude), self.people(question)
            silent = not lines and len(people) == 1  # quoted nowhere is only looked for then
            if silent and quoted_nowhere(self.context, question, people[0], intent.published):
                return Answer(question, f"资料提到了{people[0]}，但没有记录其讲话的内容。", False, [])
            return self._lines_or_fact(intent, lines, k, filters)
        if intent.kind == LIST and intent.points:
            lines = list_lines(self.context, question, intent.announced)
            if len(lines) <= 1 and SPOKEN_POINTS.search(question):
                # "蔡奇提了哪几点要求": no list in the text, but what he said paragraph by paragraph
                lines = max(lines, self._speech(intent, exclude), key=len)
            return self._lines_or_fact(intent, lines, k, filters)
        if intent.kind == LIST:
            return self._fact_or_enumeration(intent, k, filters)
        if intent.kind == TIMELINE:
            return self._lines_or_fact(
                intent, timeline_lines(self.context, question, intent.period), k, filters
            )
        if intent.kind == COMPARE:
            return self._compare(intent, k, filters)
        return self._fact(intent, k, filters)

    def _speech(self, intent: Intent, exclude: frozenset[str]) -> list[Line]:
        """What the first speaker of the question who speaks in the corpus said."""
        for speaker in self.people(intent.question):
            if lines := speech_lines(self.context, intent.question, speaker, set(exclude), intent.published):
                return lines
        return []

    def _fact(self, intent: Intent, k: int | None, filters: SearchFilters) -> Answer:
        """The fact answer to an understood question; a period the text describes widens the search
        by the slack its reports come after it (`Period.slack_days`)."""
        question = intent.period.explicit(intent.question) if intent.period else intent.question
        return self.answerer.ask(question, k, filters, _slack(intent))

    def _fact_or_enumeration(self, intent: Intent, k: int | None, filters: SearchFilters) -> Answer:
        """ "哪些…": the fact answer, widened to the whole enumeration its sentence belongs to."""
        answer = self._fact(intent, k, filters)
        if not answer.answerable or not answer.citations:
            return answer
        first = answer.citations[0]
        lines = enumeration_at(
            self.context, first.article_id, first.article_start + first.start, intent.question
        )
        if not lines:
            return answer
        return compose(intent.question, lines, self.context.texts([first.article_id]))

    def _lines_or_fact(
        self, intent: Intent, lines: list[Line], k: int | None, filters: SearchFilters
    ) -> Answer:
        """Compose the strategy's lines when they cite what the question names; else the fact path."""
        cited = {e.article.article_id for line in lines for e in line.evidence}
        if cited and _names_found(self, intent.question, cited):
            return compose(intent.question, lines, self.context.texts(sorted(cited)))
        return self._fact(intent, k, filters)

    def _compare(self, intent: Intent, k: int | None, filters: SearchFilters) -> Answer:
        """Each side answered as a question of its own, one line per side."""
        lines: list[Line] = []
        # Each side with the other it is compared with, a side's measures in turn.
        pairs = measure_sides(intent.question) or ([SidePair(*intent.sides)] if all(intent.sides) else [])
        sides = [(p.left, p.right, p.measure) for p in pairs] + [(p.right, p.left, p.measure) for p in pairs]
        answered = 0
        # Twice the passages: a side may be anywhere in the one article both share (白皮书's 临海, 云岭).
        side_k = 2 * (k or self.answerer.settings.top_k)
        for side, other, measure in sides:
            sub = self.understand(side)
            if sub.kind == COMPARE:
                sub = Intent(FACT, side, period=sub.period)
            focus = Side.of(self.context.words(side), self.context.words(other), self.context.words(measure))
            if sub.kind in (FACT, TIME):
                slack = _slack(sub)
                answer = search_and_answer(self.answerer.focused_on(focus), side, side_k, filters, slack)
            else:
                answer = self._answer(sub, k, frozenset(), filters)
            label = re.sub(r"(?:是多少|有多少|是什么)$", "", side)
            if not answer.answerable:
                lines.append(Line(f"{label}：资料中没有找到。"))
                continue
            answered += 1
            lines += answer_lines(answer, self.context.record, prefix=f"{label}：")
        if answered == 0:
            return self._fact(intent, k, filters)
        cited = sorted({e.article.article_id for line in lines for e in line.evidence})
        return compose(intent.question, lines, self.context.texts(cited), answerable=answered == len(sides))


def _names_found(router: Router, question: str, article_ids: set[str]) -> bool:
    """Every name and number of the question occurs in one of the cited articles (a year of
    the period is a publication date, not a word the text must hold)."""
    texts = [normalise_text(router.context.record(a).title + router.context.text(a)) for a in article_ids]
    period = question_period(question, router.as_of())
    newest = router.as_of()
    # A year of the question's period is a date, not a word the text must hold ("2022智博会" is,
    # and so is a year after the newest article: only a text that names it can answer).
    label = period.label if period and (newest is None or period.start <= newest) else ""
    terms = [t for t in router.index.tokenizer.key_terms(question) if not (t.isdigit() and t in label)]
    editions = named_editions(question)  # "第八届数博会" is not "第七届"
    terms += [event for event in ordinal_events(question) if event not in editions]  # 第二期: loosely
    named = all(any(term_in_text(term, text) for text in texts) for term in terms if term not in editions)
    return named and all(any(holds_whole(edition, text) for text in texts) for edition in editions)


def _slack(intent: Intent) -> int:
    """Days after the question's period that still count as from it (`Period.slack_days`)."""
    return intent.period.slack_days if intent.period is not None else 0


def _respects(answer: Answer, filters: SearchFilters, index: SearchIndex) -> bool:
    """Whether every cited article passes the filters."""
    if not filters:
        return True
    for citation in answer.citations:
        categories = index.article(citation.article_id).categories if filters.categories else ()
        day = date.fromisoformat(citation.date) if citation.date else None
        if not filters.admits(day, citation.article_id, categories):
            return False
    return True
