"""word2vec's CBOW (negative sampling, hierarchical softmax; fastText's subwords with a
row table) as compiled per-example SGD kernels."""
