"""Building and opening the index: chunks, tokens, embeddings, segments, the live version."""
