"""The one place that tokenizes Chinese: jieba words plus character bigrams for unknown names."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.index.jieba_load import shared_jieba

_CJK_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff\u3400-\u4dbf]", re.UNICODE)
BIGRAM_PREFIX = "#"
# Bump when the token rules, STOPWORDS or `fold_text` change (builds store `text_hash` per chunk):
# indexes built with another version re-tokenise.
TOKENIZER_VERSION = 3
# Function words and question words: they carry no topic, and question words in a
# query would otherwise reward passages that happen to contain them.
STOPWORDS = frozenset(
    (
        "的 了 是 在 和 与 及 或 也 都 而 就 被 把 将 对 于 为 以 从 由 向 这 那 其 之 "
        "个 中 上 下 等 吗 呢 吧 啊 哪 哪些 哪个 哪里 哪儿 哪天 哪年 什么 怎么 怎样 如何 为什么 "
        "多少 几 谁 何 何时 是否 有没有 请问 一下 一个 有 没有 你 我 他 她 它 们 我们 他们 "
        "哪种 哪类 哪项 哪位 哪名 哪所 哪家 哪次 哪篇 哪国 什么样 第几 是不是 有哪些 还 呢 "
        # Words about the corpus itself ("哪篇报道", "这篇文章") and question phrasing.
        "关于 这篇 那篇 文章 报道 新闻 消息 提到 叫 名字 一年 哪一年 哪一天 到 会 说 写 靠 所 人 "
        "时候 什么时候 哪方面 方面 具体 主要 "
        # Pointing and insisting words of a reader's question ("云岭那个零碳园区", "白皮书里",
        # "那届签约金额到底有多少"): no text is about them.
        "这个 那个 这些 那些 这家 那家 这次 那次 这届 那届 这场 那场 到底 究竟 里"
    ).split()
)


PERSON_FLAGS = frozenset({"nr", "nrt", "nrfg"})
_NAME_FLAGS = PERSON_FLAGS | {"ns", "nt"}
# The most common surnames (over 85% of people in China), one character each; 向, 和, 时 and 于,
# far more often a preposition or conjunction before a post ("向市长汇报"), are left out.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝习"
)

# Everyday words jieba tags as names: "哪些东西" (things) is not the place 东西.
_NOT_NAMES = frozenset({"东西"})


def normalise_text(text: str) -> str:
    """NFKC (full-width `ＡＩ１` → `AI1`) and lower case, so both sides compare alike."""
    return unicodedata.normalize("NFKC", text).lower()


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def fold_text(text: str) -> str:
    """`normalise_text` without spaces and punctuation: reprints and accepted answers compare equal."""
    return _NON_WORD.sub("", normalise_text(text))


def text_hash(text: str) -> int:
    """A signed 64-bit hash of `fold_text(text)`: equal for reprints, stored per chunk so that a
    search compares passages by an array lookup instead of folding their texts."""
    digest = hashlib.blake2b(fold_text(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


@functools.lru_cache(maxsize=4096)
def _tagged(user_dict: Path | None, text: str) -> tuple[tuple[str, str], ...]:
    """POS tags, remembered: one question is tagged by the router (names), the follow-up logic,
    key terms and the answerer, and candidate sentences recur between questions."""
    return tuple((pair.word, pair.flag) for pair in shared_jieba(user_dict)[1].cut(text))


class ChineseTokenizer:
    """Tokens for BM25: jieba search-mode words, optionally with CJK character bigrams.

    Bigrams let a rare name that jieba splits differently in query and document
    (e.g. `坦沙迈`) still match. The jieba dictionary loads lazily, once per process.
    """

    def __init__(self, user_dict: Path | None = None, bigrams: bool = True) -> None:
        self.user_dict = user_dict
        self.bigrams = bigrams

    def _jieba(self):
        return shared_jieba(self.user_dict)[0]

    def settings(self) -> dict:
        """What changes the tokens: stored with the index so a mismatch is detected."""
        return {
            "kind": "jieba",
            "version": TOKENIZER_VERSION,
            "bigrams": self.bigrams,
            "user_dict": str(self.user_dict or ""),
        }

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, jieba part-of-speech flag) pairs: `nr` person, `ns` place, `nt` organisation..."""
        return list(_tagged(self.user_dict, text))

    def in_dictionary(self, word: str) -> bool:
        """Whether jieba's dictionary (with the user dictionary) holds `word`: "这周" is a word."""
        return bool(self._jieba().FREQ.get(word))

    def pos_flags(self, text: str) -> set[str]:
        """The part-of-speech flags present in `text`."""
        return {flag for _, flag in self.tagged(text)}

    def key_terms(self, text: str) -> list[str]:
        """Names (people, places, organisations) and numbers of two or more digits in `text`.

        A passage that lacks one of these cannot answer a question that names it:
        "2030年" is not "2025年", "上海" is not "北京".
        """
        terms = [
            normalise_text(word) for word, flag in self.tagged(text)
            if flag in _NAME_FLAGS or (flag == "m" and sum(ch.isdigit() for ch in word) >= 2)
        ]  # fmt: skip
        return list(dict.fromkeys(t for t in terms if t not in STOPWORDS and t not in _NOT_NAMES))

    def people(self, text: str) -> set[str]:
        """The Chinese names of people in `text` (normalised, like `key_terms`): person-tagged
        words of two to four characters starting with a common surname (jieba tags unknown
        words such as 智博 as names too)."""
        return {
            normalise_text(word) for word, flag in self.tagged(text)
            if flag in PERSON_FLAGS and 2 <= len(word) <= 4 and word[0] in SURNAMES
        }  # fmt: skip

    def words(self, text: str, search_mode: bool = True) -> list[str]:
        """Content words only (no bigrams).

        Search mode also yields the parts of long words ("二十国集团" → "二十", "集团"), which
        helps recall in BM25; precise mode keeps whole words, for matching answer sentences.
        """
        jieba_tokenizer = self._jieba()
        pieces = (
            jieba_tokenizer.cut_for_search(normalise_text(text))
            if search_mode
            else jieba_tokenizer.cut(normalise_text(text))
        )
        return [w for w in pieces if w.strip() and w not in STOPWORDS and _WORDLIKE.search(w)]

    def __call__(self, text: str) -> list[str]:
        text = normalise_text(text)
        words = self.words(text)
        if self.bigrams:
            for run in _CJK_RUN.findall(text):
                words.extend(BIGRAM_PREFIX + run[i : i + 2] for i in range(len(run) - 1))
        return words


def chunk_terms(tokenize: Callable[[str], list[str]], title: str, texts: Sequence[str]) -> list[list[str]]:
    """BM25 terms of an article's chunks: the title's tokens, then each chunk's own, so a
    title word matches every passage of its article."""
    title_tokens = tokenize(title)
    return [title_tokens + tokenize(text) for text in texts]
