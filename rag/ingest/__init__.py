"""Reading the corpus: which files are articles, decoding, cleaning, dates, reader uploads."""
