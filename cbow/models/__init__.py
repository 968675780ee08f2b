"""The models: the objective seam (:mod:`cbow.models.objective`) and one subpackage per family
(``softmax``: the course's full softmax; ``word2vec``: negative sampling, hierarchical softmax,
and fastText's subwords)."""
