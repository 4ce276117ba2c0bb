"""jieba's dictionary and part-of-speech tagger, loaded once per process and as fast as jieba allows.

Three costs made most of a cold `rag ask` (docs/BENCHMARKS.md, "CLI cold start"):
- `marshal.load` on jieba's cache file reads object by object (1.2 s); `marshal.loads` on
  the same bytes takes 0.35 s, so the cache is read in one go.
- importing `jieba.posseg` already builds a tagger for the default dictionary (its word-tag
  table, 0.6 s); building a second one for our own `jieba.Tokenizer` read the dictionary
  again. Without a user dictionary the module's own pair (`jieba.dt`, `posseg.dt`) is used.
- the cache lives in the user's cache folder, not in the shared /tmp where any user of the
  machine could plant one.
"""

from __future__ import annotations

import marshal
import threading
from pathlib import Path

from rag.index.model_cache import cache_folder

_LOADED: dict[str, tuple] = {}  # user dictionary path -> (jieba.Tokenizer, POSTokenizer)
_LOCK = threading.Lock()
_CACHE_NAME = "jieba.cache"  # jieba's own name for the default dictionary's cache


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

    jieba.setLogLevel(60)
    if user_dict is None:
        _initialise(jieba.dt)
        return jieba.dt, posseg.dt
    tokenizer = jieba.Tokenizer()
    _initialise(tokenizer)
    tokenizer.load_userdict(str(user_dict))
    return tokenizer, posseg.POSTokenizer(tokenizer)


def _initialise(tokenizer) -> None:
    """Load the default dictionary from the cache in one read, or let jieba build and cache it."""
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(folder)
    except OSError:
        pass  # an unwritable home: jieba keeps its cache in the temporary folder
    cache = Path(tokenizer.tmp_dir or "") / _CACHE_NAME
    if tokenizer.tmp_dir and cache.is_file():
        try:
            tokenizer.FREQ, tokenizer.total = marshal.loads(cache.read_bytes())
            tokenizer.initialized = True
            return
        except (OSError, EOFError, ValueError, TypeError):
            pass  # a damaged cache: jieba rebuilds it
    tokenizer.initialize()
