"""What post someone holds: the title news writes before a name ("江川省省长周启明").

"X现在是什么职务" is answered from the newest article that names X with a title, "X在2019年是
什么职务" from that year's articles, "X参加…会议时是什么身份" from the article on that occasion;
without any of these, every distinct title X had, oldest first, with the article it is from.
"""

from __future__ import annotations

import re

from rag.answer.compose import Evidence, Line
from rag.answer.intent import NOW
from rag.answer.kinds.context import Context
from rag.answer.periods import Period
from rag.answer.sentences import is_filler
from rag.search.catalog import ArticleRecord
from rag.search.query import SearchFilters

ASKS_ROLE = re.compile(
    r"(?:什么|啥|哪个|何)(?:职务|职位|身份|头衔|官职|官|职)|担任(?:什么|何|啥)|任(?:什么|何)职|"
    r"(?:职务|职位|身份|头衔)(?:是|为|有什么变化|有何变化|的变化|怎么变|如何变)|是干什么的|是做什么的|是干啥的|什么来头|"
    r"(?:哪个|哪家|什么)(?:单位|部门|机构)的?(?:负责人|领导|人|$|[？?])"  # "他是哪个单位的负责人"
)
# Posts end in one of these; what stands before, back to a clause boundary, is the unit.
_POST = (
    r"(?:副)?(?:部长|厅长|局长|司长|处长|省长|市长|区长|县长|镇长|书记|主席|主任|委员|总理|秘书长|院长|校长|"
    r"董事长|总经理|总裁|理事长|会长|总经济师|总工程师|经济师|首席[\u4e00-\u9fff]{1,4}官|行长|社长|台长|大使|代表|"
    r"教授|研究员|专家|负责人|创始人|合伙人|总监|经理)"
)
# Words that start a clause before a title: "邀请中国信息通信研究院院长余晓晖" holds the post after 邀请
# ("和" and "、" stay: "工业和信息化部部长", "市委副书记、市长").
_LEAD_IN = re.compile(r"^.*(?:邀请|由|请|向|对|会见|出席|陪同|主持|据|是|为|的|在|上)")
_MAX_TITLE = 24


def title_before(text: str, person: str) -> tuple[int, int] | None:
    """Where the post written right before `person` starts and ends in `text`, if one is."""
    for match in re.finditer(re.escape(person), text):
        before = text[max(0, match.start() - _MAX_TITLE) : match.start()]
        clause = re.split(r"[，,。；;：:！!？?“”\"\s（）()]", before)[-1]
        if not re.search(_POST + r"$", clause):
            continue
        clause = _LEAD_IN.sub("", clause) or clause
        if len(clause) >= 2:
            return match.start() - len(clause), match.start()
    return None


def role_lines(
    context: Context, question: str, person: str, period: Period | None, over_time: bool
) -> list[Line]:
    """Lines naming `person`'s post, each with the sentence it is written in (see the docstring);
    `over_time` (a timeline question: "职务有什么变化") lists every post."""
    articles = [m.article for m in context.mentions(person, period)]
    if NOW.search(question):  # the newest dated report that writes a post; older ones are not read
        dated = (a for a in reversed(articles) if a.day)
        found = next(([(a, post)] for a in dated if (post := _post_in(context, a, person))), [])
    else:
        found = [(a, post) for a in articles if (post := _post_in(context, a, person))]
        if not over_time and len(found) > 1 and period is None:
            occasion = _occasion(context, question, person, found)
            found = [f for f in found if f[0].article_id == occasion] or found
    posts: dict[str, tuple[ArticleRecord, Evidence]] = {}
    for article, (title, evidence) in found:
        posts.setdefault(title, (article, evidence))  # each post once, where it is first written
    if len(posts) == 1:
        [(title, (article, evidence))] = posts.items()
        return [
            Line(
                f"{person}的职务是{title}（《{article.title}》，{article.date or '日期不详'}）。", [evidence]
            )
        ]
    return [
        Line(f"{article.date or '日期不详'} — {person}：{title}（《{article.title}》）", [evidence])
        for title, (article, evidence) in posts.items()
    ]


def _post_in(context: Context, article: ArticleRecord, person: str) -> tuple[str, Evidence] | None:
    """The first post written before `person` in the article, and the sentence that says it."""
    for sentence in context.sentences(article.article_id):
        if is_filler(sentence.text):
            continue
        span = title_before(sentence.text, person)
        if span:
            return sentence.text[span[0] : span[1]], Evidence(article, sentence.start, sentence.end)
    return None


def _occasion(context: Context, question: str, person: str, found: list) -> str:
    """The article of the occasion the question names beyond the person ("参加G20数字部长会议时")."""
    rest = ASKS_ROLE.sub(" ", question.replace(person, " "))
    if not [w for w in context.words(rest) if len(w) >= 2]:
        return ""
    ids = tuple(article.article_id for article, _ in found)
    hits = context.index.search(rest, 5, SearchFilters(article_ids=ids))
    return hits[0].article_id if hits else ""
