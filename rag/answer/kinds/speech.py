"""What someone said: the sentences attributed to a speaker, in article order, per article.

A sentence is X's when X is its subject with a verb of saying ("肖亚庆表示，…", "蔡奇强调"),
and the sentences after it in the paragraph continue it, as do following paragraphs that
go on with "他/她…" or an enumeration ("一是…") until another speaker takes over.
"Attended by X、Y" lists and headlines are not speech.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from rag.answer.compose import Evidence, Line
from rag.answer.kinds.context import Context
from rag.answer.kinds.listing import ORDINAL_ITEM, enumerations
from rag.answer.periods import Period
from rag.answer.sentences import Sentence, is_filler
from rag.search.catalog import ArticleRecord
from rag.search.query import SearchFilters

SAYING = (
    r"表示|指出|强调|说|认为|提出|呼吁|介绍|希望|要求|倡议|建议|坦言|谈到|透露|宣布|分享|"
    r"回顾|总结|阐述|解释|表态|称|提到|提醒|寄语|号召|承诺|期待|主张|重申"
)
_CONTINUES = re.compile(
    r"^(?:他|她|其|同时|此外|另外|他还|她还|并|而且|最后|首先|其次|再次|一是|二是|三是|四是|五是|六是|"
    r"第[一二三四五六七八九十]|[（(][一二三四五六七八九十][)）]|\d+[.、．]|“)"
)
# Another speaker takes over at the start of a sentence: "省工业和信息化厅厅长韩立新表示，…".
_ANY_SPEAKER = re.compile(rf"^[\u4e00-\u9fff·]{{2,20}}?(?:{SAYING})[，,：:]")
# "提了哪几点要求": answered by the points the speaker makes, when the text lists nothing.
SPOKEN_POINTS = re.compile(
    r"提(?:出|了)?了?(?:哪几[点条项个]?|哪些|几点|几条)(?:要求|建议|倡议|意见|希望|主张)"
)
MAX_CHARS = 320  # per article, enumerations whole; "他还说了什么" asks for the rest
QUESTION_WORDS = re.compile(
    rf"(?:{SAYING}|讲|谈|怎么看|如何看待|看法|观点|讲话|发言|致辞|内容|什么|哪些|了|些|啥|怎么|如何|是|的|在|上|对|还|呢|[？?。，,])"
)


# What was said is asked ("讲了什么", "的发言", "提了哪些建议"), not what someone can do ("会讲哪些语言").
_WORDS_ASKED = re.compile(
    r"[说讲谈]了|说(?:什么|啥)|怎么说|发言|讲话|致辞|表态|表示|提了?(?:哪些|什么|几)"
    r"|建议|要求|观点|看法|怎么看"
)


def quoted_nowhere(context: Context, question: str, person: str, period: Period | None = None) -> bool:
    """Whether the question asks what `person` said while the articles (published in `period`)
    name them but never give their words ("陈吉宁…参加学习"): a sentence about them is no answer."""
    mentions = context.mentions(person, period)
    return bool(_WORDS_ASKED.search(question.replace(person, " ")) and mentions) and not any(
        attributed(context.sentences(m.article.article_id), person) for m in mentions
    )


def attributed(sentences: list[Sentence], speaker: str) -> list[Sentence]:
    """The speaker's sentences of one article, in order (see the module docstring)."""
    said = re.compile(rf"{re.escape(speaker)}[^，。；,！？]{{0,40}}?(?:{SAYING})")
    listing = re.compile(rf"{re.escape(speaker)}\s*[、，和与]|[、和与]\s*{re.escape(speaker)}")
    chosen: list[Sentence] = []
    speaking = False
    last_paragraph = -1
    for sentence in sentences:
        if is_filler(sentence.text):
            continue
        starts_paragraph = sentence.paragraph != last_paragraph
        last_paragraph = sentence.paragraph
        own = said.search(sentence.text) and not listing.search(
            sentence.text[: sentence.text.find(speaker) + 8]
        )
        if own:
            speaking = True
        elif speaking and starts_paragraph:
            speaking = bool(_CONTINUES.match(sentence.text)) and not _other_speaker(sentence.text, speaker)
        elif speaking and _other_speaker(sentence.text, speaker):
            speaking = False
        if speaking:
            chosen.append(sentence)
    return chosen


def _other_speaker(text: str, speaker: str) -> bool:
    match = _ANY_SPEAKER.search(text)
    return (
        match is not None
        and speaker not in match.group(0)
        and not match.group(0).startswith(("他", "她", "其"))
    )


def speech_lines(
    context: Context,
    question: str,
    speaker: str,
    exclude: AbstractSet[str] = frozenset(),
    period: Period | None = None,
) -> list[Line]:
    """Lines for "what did `speaker` say": one block per article, newest context first; for
    "提了哪几点要求", each paragraph's first sentence (its point).

    When the question names an occasion ("在第五届数博会开幕式上"), only the article that best
    matches it is used; otherwise every article where the speaker speaks, by date.
    """
    mentions = context.mentions(speaker, period)
    if not mentions:
        return []
    spoken = {
        m.article.article_id: attributed(context.sentences(m.article.article_id), speaker) for m in mentions
    }
    spoken = {a: s for a, s in spoken.items() if s}
    if not spoken:
        return []
    occasion = QUESTION_WORDS.sub(" ", question.replace(speaker, " ")).split()
    articles = [m.article for m in mentions if m.article.article_id in spoken]
    if occasion and len(articles) > 1:
        hits = context.index.search(
            question, 10, SearchFilters(article_ids=tuple(a.article_id for a in articles))
        )
        ranked = list(dict.fromkeys(h.article_id for h in hits))
        articles = [context.record(ranked[0])] if ranked else articles[:1]
    if not _occasion_found(context, question, articles[0]):
        return []  # X spoke, but not where the question says: that speech is not in the corpus
    topic = _topic_words(context, question, speaker)
    verb = _ASKED_VERB.search(question.replace(speaker, " "))
    lines: list[Line] = []
    for article in articles[:3]:
        said = spoken[article.article_id]
        sentences = _on_topic(said, topic)
        whole: set[int] = set()
        if verb:
            sentences, whole = _verb_first(sentences, speaker, verb.group(0))
        if _POINTS_ASKED.search(question):
            sentences = _points(sentences, said)
        elif _DEMANDS_ASKED.search(question):
            sentences = _points(sentences, said) or sentences
        sentences = _whole_enumerations(context, article.article_id, sentences, said)
        lines += _article_block(article, sentences, exclude, heading=len(articles) > 1, whole=whole)
    return lines


_POINTS_ASKED = re.compile(r"哪?几[点条项]|哪几")
# "提了什么要求", "有哪些建议": the points when the speaker makes them paragraph by paragraph,
# else what he said.
_DEMANDS_ASKED = re.compile(r"(?:什么|哪些|啥)(?:要求|建议|倡议|主张|举措|措施|部署|意见)")
# A point a speaker makes paragraph by paragraph: "蔡奇强调，要持续夯实…", "他指出，必须…".
_POINT_LEAD = re.compile(
    r"^[^，,。]{0,24}?(?:强调|指出|提出|要求|建议|希望)[，,：:]\s*(?:要|应|必须|希望|进一步|坚持)"
)


def _points(sentences: list[Sentence], said: list[Sentence]) -> list[Sentence]:
    """The leads of the speaker's paragraphs that make a point, when there are at least two
    (else none: his words list no points), each with the further points of its paragraph
    among everything he `said`."""
    leads = [s for i, s in enumerate(sentences) if not i or s.paragraph != sentences[i - 1].paragraph]
    points = [s for s in leads if _POINT_LEAD.search(s.text)]
    if len(points) < 2:
        return []
    # A point paragraph may go on with more of them: "蔡奇强调，要加强…制度创新。…要坚决守住…底线。"
    # Each follows its lead, and the leads keep their order (the asked verb's first).
    return [
        s
        for lead in points
        for s in said
        if s == lead
        or (s.paragraph == lead.paragraph and s.start > lead.start and _ANOTHER_POINT.match(s.text))
    ]


_ANOTHER_POINT = re.compile(r"(?:要|必须)(?![素是求点闻害么])")  # not 要素, 要是, 要求…

# The saying verb a question asks about ("强调了哪些"): what the speaker 强调 comes first.
_ASKED_VERB = re.compile(r"强调|指出|提出|呼吁|建议|要求|倡议|认为|希望|表示")


def _whole_enumerations(
    context: Context, article_id: str, sentences: list[Sentence], said: list[Sentence]
) -> list[Sentence]:
    """`sentences` with every item of an enumeration they begin ("他就推动数实融合提出五点建议：
    一是…；二是…") that the speaker says, each after the one before it."""
    text = context.text(article_id)
    spans = [
        (e.intro_start, e.items[-1][1])
        for e in enumerations(text, context.sentences(article_id))
        if not e.series and len(e.items) >= 2
    ]
    placed: set[int] = set()
    result: list[Sentence] = []
    for sentence in sentences:
        if sentence.start in placed:
            continue
        placed.add(sentence.start)
        result.append(sentence)
        for start, end in spans:
            if start <= sentence.start < end:
                more = [s for s in said if sentence.start < s.start < end and s.start not in placed]
                placed |= {s.start for s in more}
                result += more
    return result


def _verb_first(sentences: list[Sentence], speaker: str, verb: str) -> tuple[list[Sentence], set[int]]:
    """The paragraphs where the speaker says it with this verb ("肖亚庆强调", not "习近平主席强调"
    quoted by him) first, then the rest; and those paragraphs, to be kept whole."""
    says = re.compile(rf"(?:{re.escape(speaker)}|^他|^她)[^，。；]{{0,8}}{verb}")
    marked = {s.paragraph for s in sentences if says.search(s.text[:40])}
    rest = [s for s in sentences if s.paragraph not in marked]
    return [s for s in sentences if s.paragraph in marked] + rest, marked


_OCCASION = re.compile(r"在(?P<occasion>[^，,。？?]{2,24}?)(?:上|时|中|期间|里)")


def _occasion_found(context: Context, question: str, article: ArticleRecord) -> bool:
    """Most words of the occasion the question names ("在第六届数博会上") occur in the article."""
    match = _OCCASION.search(question)
    if not match:
        return True
    words = [w for w in context.words(match.group("occasion")) if len(w) >= 2]
    text = article.title + context.text(article.article_id)
    return not words or sum(w in text for w in words) * 2 >= len(words)


_TOPIC = re.compile(
    r"(?:对|关于|就)(?P<topic>[^，,。？?的]{2,16})(?:的)?(?:看法|观点|态度|评价|怎么看|如何看|有何|提出|问题|方面)"
)


def _topic_words(context: Context, question: str, speaker: str) -> list[tuple[str, ...]]:
    """What the question asks the speaker about, beyond the occasion, as alternatives a sentence
    must hold every word of: the phrase it names ("对数字鸿沟的看法" -> 数字鸿沟), or that
    phrase's words ("对技术政治化这件事" is said "不应将技术问题政治化"); else each of its words."""
    if named := _TOPIC.search(question):
        phrase = _TOPIC_FRAME.sub("", named.group("topic"))
        return [(phrase,), tuple(w for w in context.words(phrase) if len(w) >= 2)]
    words = [w for w in context.words(QUESTION_WORDS.sub(" ", question.replace(speaker, " "))) if len(w) >= 2]
    occasion = _OCCASION.search(question)
    if occasion:
        words = [w for w in words if w not in occasion.group("occasion")]
    return [(w,) for w in words]


_TOPIC_FRAME = re.compile(r"(?:这件事|这个问题|这一问题|这事|问题上|上)?(?:是什么|是啥|是)?$")


def _on_topic(sentences: list[Sentence], topic: list[tuple[str, ...]]) -> list[Sentence]:
    """The speaker's sentences about the topic (and the one after each), when any mention it."""

    def mentions(text: str) -> bool:
        return any(words and all(w in text for w in words) for words in topic)

    keep = [i for i, s in enumerate(sentences) if mentions(s.text)]
    if not keep:
        return sentences
    chosen = sorted({j for i in keep for j in (i, i + 1) if j < len(sentences)})
    return [sentences[j] for j in chosen]


def _article_block(
    article: ArticleRecord,
    sentences: list[Sentence],
    exclude: AbstractSet[str],
    heading: bool,
    whole: AbstractSet[int] = frozenset(),
) -> list[Line]:
    """The speaker's sentences as lines, one line per paragraph, within MAX_CHARS: each
    paragraph's first sentence before any paragraph's second, so a long speech is heard out to
    its last point ("肖亚庆…都讲了些什么" reaches 技术问题政治化); enumerations and the `whole`
    paragraphs (where he says it with the asked verb, "强调了哪些") first and whole."""
    sentences = [s for s in sentences if s.text not in exclude]
    rank = {id(s): i for i, s in enumerate(sentences)}
    depth: dict[int, int] = {}
    order = []
    for sentence in sentences:
        level = 0 if sentence.paragraph in whole else depth.get(sentence.paragraph, 0)
        order.append((level, rank[id(sentence)], sentence))
        depth[sentence.paragraph] = depth.get(sentence.paragraph, 0) + 1
    kept: list[Sentence] = []
    total = 0
    for _, _, sentence in sorted(order, key=lambda item: item[:2]):
        if total + len(sentence.text) > MAX_CHARS and kept and not ORDINAL_ITEM.match(sentence.text):
            continue
        kept.append(sentence)
        total += len(sentence.text)
    lines: list[Line] = []
    paragraph = -1
    for sentence in sorted(kept, key=lambda s: rank[id(s)]):
        evidence = Evidence(article, sentence.start, sentence.end)
        if sentence.paragraph == paragraph and lines:
            lines[-1] = Line(lines[-1].text + sentence.text, [*lines[-1].evidence, evidence])
        else:
            lines.append(Line(sentence.text, [evidence]))
        paragraph = sentence.paragraph
    if heading and lines:
        lines.insert(0, Line(f"《{article.title}》（{article.date or '日期不详'}）："))
    return lines
