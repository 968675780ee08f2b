"""Benchmarks of cbow, on cbow's public API: run them as ``python -m benchmarks.NAME --help``
from the repository's root (or ``python scripts/NAME.py``).

``dictionary_text``
    The GCIDE dictionary as plain text, one entry per line (the large real corpus).
``bench_prepare``
    ``cbow.data.prepare``: time, tokens/s and peak memory, by workers and corpus size.
``bench_tokenizer``
    A tokenizer's tokens/s per core on a slice of a corpus, interleaved against another checkout.
``check_tokenizer_identity``
    A corpus's sentences of tokens against an earlier commit's tokenizer (run by hand, minutes).
``bench_word2vec``
    The word2vec kernels against gensim's Word2Vec, interleaved in one process.
``compare_gensim``
    cbow's trainer against gensim's Word2Vec: speed, peak memory, quality of the vectors.
``compare_fasttext``
    fastText's CBOW (subwords): cbow against gensim's FastText and fastText itself.
``dask_averaging``
    Training on a Dask cluster: quality and words/s against ``train.shards`` and
    ``train.sync_every``, beside the in-process threads; bytes and seconds per round.

Measured figures belong in docs/benchmarks.md (with their command, commit, machine and date) or in
these modules' output, never in docstrings.
"""
