"""Judging the system by numbers: question sets, metrics, the evaluation run, reader feedback."""
