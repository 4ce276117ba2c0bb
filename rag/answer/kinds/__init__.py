"""One answering strategy per question kind (see `rag.answer.intent`): speech, list, summary, corpus,
compare, timeline. Facts are answered by `rag.answer.extractive.Answerer`; `rag.answer.router` chooses."""
