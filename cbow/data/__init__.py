"""Text to token ids: corpus sources, tokenizers, the vocabulary, prepared (memory-mapped)
ids, subword n-grams, and the context windows the models train on."""
