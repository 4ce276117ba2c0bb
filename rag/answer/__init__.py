"""Passages to cited answers: question kinds, the extractive answerer, conversations, LLM answers."""
