"""Pure: what answers a where-question. Place names by their suffix (X市, X国, a venue), the
kind of place a question names ("意大利哪个城市", "在重庆哪个场馆"), and the tagged place words
that say where something is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

# What a where-question may ask for by name: "哪个城市", "哪座城市", "哪个场馆".
PLACE_NOUNS = r"(?:城市|国家|省份?|地区|地方|场馆|会场|场地|会议中心|酒店|宾馆|区|县|镇)"
# Suffixes that mark a place or an organisation name in news text; not where the suffix starts
# another word (国家, 国际, 市委, 市场, 省政府, 区域).
_CITY = r"市(?![委政场民长级内区])"
_COUNTRY = r"国(?![家际内外务有企])"
_VENUE = r"(?:中心|会馆|馆|大厦|广场|酒店|宾馆|公园|大学|会场|镇|村|园区)"
_ADMINISTRATIVE = rf"(?:省(?![委政长级内])|{_CITY}|区(?![域别块])|县(?![委政长级])|{_COUNTRY}|州|岛)"
_NAMED = r"[\u4e00-\u9fff]{1,8}"
PLACE_SPAN = re.compile(rf"{_NAMED}(?:{_ADMINISTRATIVE}|{_VENUE})")


# A where-question that names the kind of place asks for that kind: "意大利哪个城市" is not
# answered by a sentence naming 主席国 (a country), "在重庆哪个场馆" not by a city.
class PlaceKind(NamedTuple):
    """What answers a where-question: place names by their suffix, and whether the tagger's
    place words count only where something is located ("在重庆", "于罗马"): a city or a venue
    is asked where something was held, and jieba tags words in passing as places (嘉宾, 吉安 of
    吉安卡洛·乔尔盖蒂)."""

    names: re.Pattern[str]
    located: bool


ANY_PLACE = PlaceKind(PLACE_SPAN, located=False)
_PLACE_KINDS = (
    (re.compile(rf"哪[个座一]?(?:城市|{_CITY})"), PlaceKind(re.compile(_NAMED + _CITY), located=True)),
    (re.compile(r"哪[个一]?国家|哪国"), PlaceKind(re.compile(_NAMED + _COUNTRY), located=False)),
    (
        re.compile(r"哪[个座家一]?(?:场馆|会场|场地|会议中心|酒店|宾馆)"),
        PlaceKind(re.compile(_NAMED + _VENUE), located=True),
    ),
)


def place_kind(question: str) -> PlaceKind:
    """What answers a where-question: names of the kind of place it names, any place otherwise."""
    return next((kind for asked, kind in _PLACE_KINDS if asked.search(question)), ANY_PLACE)


_LOCATIVE = frozenset(("在", "于", "赴", "到", "至", "位于", "落户", "来到", "前往"))


def located_places(tagged: Sequence[tuple[str, str]]) -> list[str]:
    """The tagged place words (ns) that say where something is: after a locative, or after
    another such word ("在 意大利 罗马")."""
    found, after = [], False
    for word, flag in tagged:
        if after and flag == "ns":
            found.append(word)
        else:
            after = word in _LOCATIVE
    return found
