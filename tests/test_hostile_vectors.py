"""Vectors as a hostile user hands them over (issue 27): NaN on every way in, queries that have
no answer (a zero vector, a topn that is no count), words a format cannot hold, gensim's
fastText vectors both ways."""
from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

from cbow.errors import InputError
from cbow.vectors.embeddings import Embeddings
from cbow.vectors.subword import SubwordEmbeddings

WORDS = ["the", "king", "queen", "man", "woman", "kingdom", "café"]
N = 5


@pytest.fixture
def emb() -> Embeddings:
    rng = np.random.default_rng(3)
    return Embeddings(WORDS, rng.standard_normal((len(WORDS), N)),
                      counts=np.arange(len(WORDS), 0, -1))


@pytest.fixture
def sub() -> SubwordEmbeddings:
    rng = np.random.default_rng(4)
    matrix = rng.standard_normal((len(WORDS) + 50, N)).astype(np.float32)
    return SubwordEmbeddings.from_input_matrix(WORDS, matrix, 3, 5,
                                               counts=np.arange(len(WORDS), 0, -1))


# ------------------------------------------------------------------ non-finite vectors

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_from_gensim_refuses_a_non_finite_vector_naming_its_word(bad):
    kv = KeyedVectors(vector_size=3)
    vectors = np.array([[1, 0, 0], [bad, 0, 0], [0, 1, 0], [0, bad, 1]], np.float32)
    kv.add_vectors(["a", "b", "c", "d"], vectors)
    with pytest.raises(InputError, match=r"gensim KeyedVectors: the vector of 'b' \(row 1\) "
                                         r"holds NaN or infinity \(2 such rows in all\)"):
        Embeddings.from_gensim(kv)


def test_every_constructor_refuses_non_finite_rows():
    vectors = np.ones((3, 2))
    vectors[2, 1] = np.nan
    with pytest.raises(InputError, match=r"the vector of 'c' \(row 2\)"):
        Embeddings(["a", "b", "c"], vectors)
    matrix = np.ones((3 + 4, 2), np.float32)
    matrix[1, 0] = np.inf
    with pytest.raises(InputError, match=r"the own input row of 'b' \(row 1\)"):
        SubwordEmbeddings.from_input_matrix(["a", "b", "c"], matrix, 3, 4)
    matrix[1, 0], matrix[3 + 2, 1] = 1, np.nan
    with pytest.raises(InputError, match=r"n-gram row 2 \(input row 5\) holds NaN"):
        SubwordEmbeddings.from_input_matrix(["a", "b", "c"], matrix, 3, 4, source="m.bin")
    with pytest.raises(ValueError, match="real numbers"):
        Embeddings(["a"], np.ones((1, 2), np.complex128))


def test_a_non_finite_query_vector_is_refused(emb):
    with pytest.raises(InputError, match="the query vector holds NaN or infinity"):
        emb.most_similar(np.full(N, np.nan))
