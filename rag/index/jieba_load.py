"""jieba's dictionary and part-of-speech tagger, loaded once per process and as fast as jieba allows.

Four costs made most of a cold `rag ask` (docs/BENCHMARKS.md, "CLI cold start"):
- `marshal.load` on jieba's cache file reads object by object (1.2 s); `marshal.loads` on
  the same bytes takes 0.35 s, so the cache is read in one go.
- importing `jieba.posseg` already builds a tagger for the default dictionary (its word-tag
  table, 0.6 s); building a second one for our own `jieba.Tokenizer` read the dictionary
  again. Without a user dictionary the module's own pair (`jieba.dt`, `posseg.dt`) is used.
- the tagger's HMM for words not in the dictionary decodes in pure Python (most of the slowest
  answers' time): rag.index.pos_viterbi decodes the same model with numpy, the same tags.
- the cache lives in the user's cache folder, not in the shared /tmp where any user of the
  machine could plant one.

Without a user dictionary rag uses jieba's module-wide tokenizer (`jieba.dt`): code in the
same process that adds words to it changes rag's tokens too.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import tempfile
import threading
from pathlib import Path

from rag.index.model_cache import TEMPORARY, remove_stale_temporaries, writable_cache_folder

_LOADED: dict[str, tuple] = {}  # user dictionary path -> (jieba.Tokenizer, POSTokenizer)
_LOCK = threading.Lock()


def shared_jieba(user_dict: Path | None) -> tuple:
    """(jieba.Tokenizer, POSTokenizer) for a user dictionary, or for none; built once per process.

    Every index opened in a process (a rebuilt index in the app, each thread of a server)
    shares them.
    """
    key = str(user_dict or "")
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(user_dict)
        return _LOADED[key]


def _load(user_dict: Path | None) -> tuple:
    import jieba
    from jieba import posseg

    from rag.index import pos_viterbi

    jieba.setLogLevel(60)
    pos_viterbi.install()
    if user_dict is None:
        _initialise(jieba.dt)
        return jieba.dt, posseg.dt
    tokenizer = jieba.Tokenizer()
    _initialise(tokenizer)
    tokenizer.load_userdict(str(user_dict))
    return tokenizer, posseg.POSTokenizer(tokenizer)


def _initialise(tokenizer) -> None:
    """Load the default dictionary from the cache in one read, or let jieba build and cache it.

    The cache is named after the dictionary file's size and time, so another jieba release
    (another dictionary) never reads this one's; without a writable cache folder jieba builds
    the dictionary on every start (~2 s) in a private temporary folder, never reading the shared /tmp.
    """
    import jieba

    folder = writable_cache_folder()
    dictionary = Path(jieba.__file__).with_name("dict.txt").stat()
    tokenizer.cache_file = f"jieba-{dictionary.st_size}-{dictionary.st_mtime_ns}.cache"
    if folder is not None and _read_cache(tokenizer, folder / tokenizer.cache_file):
        return
    # jieba builds and writes its cache in a private folder (gone afterwards, with whatever a
    # full disk left half-written); the finished cache is then renamed into place.
    parent = folder if folder is not None else Path(tempfile.gettempdir())
    if folder is not None:
        remove_stale_temporaries(folder)
    with tempfile.TemporaryDirectory(dir=parent, prefix="rag-jieba-", suffix=TEMPORARY) as private:
        tokenizer.tmp_dir = private
        tokenizer.initialize()
        built = Path(private) / tokenizer.cache_file
        if folder is not None and built.is_file():
            with contextlib.suppress(OSError):  # the name is taken by a folder: built again next start
                os.replace(built, folder / tokenizer.cache_file)


def _read_cache(tokenizer, cache: Path) -> bool:
    """Load jieba's prefix dictionary from `cache` in one read; False when it is missing or bad."""
    try:
        frequencies, total = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return False  # missing or damaged: jieba builds it again
    if not (isinstance(frequencies, dict) and isinstance(total, int)):
        return False
    with tokenizer.lock:
        tokenizer.FREQ, tokenizer.total, tokenizer.initialized = frequencies, total, True
    return True
