"""Scoring vectors: word-pair similarity and analogy benchmarks."""
