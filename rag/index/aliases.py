"""Pure: well-known abbreviations of Chinese news, so "G20" also finds "二十国集团" and back.

Readers ask with the short form an article spells out, or the other way round ("G20在哪几篇
文章里出现过" of an article that writes 二十国集团; "星驰的营收" of a report that says 营业收入).
Only official or universal abbreviations belong here, never names of one corpus. Each entry
lists the spellings of one name, all compared after `normalise_text` (NFKC, lower case).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator

from rag.index.tokens import normalise_text

_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("G20", "二十国集团"),
    ("G7", "七国集团"),
    ("APEC", "亚太经合组织", "亚太经济合作组织"),
    ("WTO", "世贸组织", "世界贸易组织"),
    ("WHO", "世卫组织", "世界卫生组织"),
    ("东盟", "东南亚国家联盟", "ASEAN"),
    ("欧盟", "欧洲联盟"),
    ("上合组织", "上海合作组织"),
    ("金砖国家", "BRICS"),
    ("IMF", "国际货币基金组织"),
    ("GDP", "国内生产总值"),
    ("CPI", "居民消费价格指数"),
    ("PMI", "采购经理指数"),
    ("营收", "营业收入"),
    ("净利", "净利润"),
    ("工信部", "工业和信息化部"),
    ("发改委", "发展改革委", "发展和改革委员会"),
    ("央行", "中国人民银行"),
    ("国资委", "国有资产监督管理委员会"),
    ("网信办", "互联网信息办公室"),
    ("政协", "政治协商会议"),
    ("服贸会", "服务贸易交易会"),
    ("进博会", "进口博览会"),
    ("广交会", "进出口商品交易会"),
)
_GROUPS = tuple(tuple(normalise_text(s) for s in group) for group in _SPELLINGS)
# Where a short form is part of another word: 中央行政 is no 央行, 经营收入 no 营收, 净利率 no 净利.
_INSIDE_WORDS = ("中央行", "经营收", "行政协", "财政协", "净利率")


@functools.lru_cache(maxsize=256)
def _form(written: str) -> re.Pattern[str]:
    """`written` as a name of its own: a Latin abbreviation not inside a longer Latin word or
    number ("whole", "G200"), a Chinese one not inside the words above."""
    if written.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(written)}(?![a-z0-9])")
    behind, ahead = [], []
    for word in (w for w in _INSIDE_WORDS if written in w):
        before, after = word.split(written, 1)
        behind += [f"(?<!{re.escape(before)})"] if before else []
        ahead += [] if before else [f"(?!{re.escape(after)})"]
    return re.compile("".join(behind) + re.escape(written) + "".join(ahead))


def _holds(text: str, written: str) -> bool:
    return bool(_form(written).search(text))


def _written(text: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """(group, spelling) of each well-known name normalised `text` holds, where the spelling is
    not just part of a longer one of its group that the text holds (净利 in 净利润)."""
    for group in _GROUPS:
        for written in group:
            if _holds(text, written) and not any(
                written != other and written in other and other in text for other in group
            ):
                yield group, written


def spellings(text: str) -> list[str]:
    """`text` (normalised) first, then its other spellings: each well-known abbreviation in it
    swapped for another form of the same name (one swap at a time)."""
    text = normalise_text(text)
    forms = [text]
    for group, written in _written(text):
        forms += [_form(written).sub(other, text) for other in group if other != written]
    return list(dict.fromkeys(forms))


def full_names(text: str) -> list[str]:
    """The Chinese full names of the abbreviations `text` holds ("营收" → 营业收入, "G20" →
    二十国集团): articles spell names out, so a search adds these words; a full name asked for
    is left alone (its abbreviation, "上合组织" for 上海合作组织, as likely matches the wrong
    passage), and so are Latin forms ("ASEAN" for 东盟)."""
    text = normalise_text(text)
    return [
        other
        for group, written in _written(text)
        for other in group
        if not other.isascii() and len(other) > len(written) and other not in text
    ]


def respelling(words: Iterable[str]) -> Callable[[str], str]:
    """A function of a normalised text that appends each of `words` the text holds only in
    another spelling ("…营业收入…" + " 营收"), so that checks of the form `word in text` find it."""
    others = {word: spellings(word)[1:] for word in words}
    others = {word: forms for word, forms in others.items() if forms}

    def as_asked(text: str) -> str:
        found = [w for w, forms in others.items() if w not in text and any(_holds(text, f) for f in forms)]
        return text + " " + " ".join(found) if found else text

    return as_asked
