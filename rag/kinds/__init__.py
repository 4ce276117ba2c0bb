"""One answering strategy per question kind (see `rag.intent`): speech, list, summary, corpus,
compare, timeline. Facts are answered by `rag.answer.Answerer`; `rag.router` chooses."""
