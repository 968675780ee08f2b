"""Trained vectors, independent of training: queries, subword vectors, file formats."""
