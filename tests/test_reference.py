"""The first batch of the course, pinned to ../shared/reference/first_batch.yaml (rtol 1e-6)."""
import numpy as np
import pytest

from cbow import course
from cbow.models.softmax import model
from cbow.data.batching import make_windows
from cbow.data.vocab import Vocabulary
from conftest import dense_grad_W1, max_relative_error

RTOL = 1e-6
N, C, BATCH, SEED = 50, 2, 4, 1


@pytest.fixture(scope="module")
def dense_first_batch(shakespeare_tokens):
    word2Ind, _ = course.get_dict(shakespeare_tokens)
    V = len(word2Ind)
    x, y = next(course.get_batches(shakespeare_tokens, word2Ind, V, C, BATCH))
    W1, W2, b1, b2 = course.initialize_model(N, V, random_seed=SEED)
    z, h = course.forward_prop(x, W1, W2, b1, b2)
    yhat = course.softmax(z)
    z1 = W1 @ x + b1
    l1 = W2.T @ (yhat - y)
    grad_W1, grad_W2, grad_b1, grad_b2 = course.back_prop(x, yhat, y, h, W1, W2, b1, b2, BATCH)
    return dict(x=x, y=y, yhat=yhat, W1=W1, W2=W2, b1=b1, b2=b2, z1=z1, l1=l1,
                l1_after_relu_mask=np.where(z1 < 0, 0.0, l1), grad_W1=grad_W1,
                grad_W2=grad_W2, grad_b1=grad_b1, grad_b2=grad_b2)


def test_reference_covers_every_printed_array(first_batch, dense_first_batch):
    assert set(first_batch) == set(dense_first_batch)


@pytest.mark.parametrize("name", ["x", "y", "yhat", "W1", "W2", "b1", "b2", "z1", "l1",
                                  "l1_after_relu_mask", "grad_W1", "grad_W2", "grad_b1", "grad_b2"])
def test_course_functions_match_reference(first_batch, dense_first_batch, name):
    assert max_relative_error(dense_first_batch[name], first_batch[name]) < RTOL


def test_fast_sparse_path_matches_reference(shakespeare_tokens, first_batch, dense_first_batch):
    vocab = Vocabulary.from_tokens(shakespeare_tokens)
    context_ids, center_ids = make_windows(vocab.encode(shakespeare_tokens), C)
    params = model.initialize_model(N, len(vocab), SEED)
    ws = model.Workspace.for_params(params, BATCH)
    loss = model.compute_gradients(params, context_ids[:BATCH], center_ids[:BATCH], ws)

    fast = {
        "W1": params.W1, "W2": params.W2, "b1": params.b1, "b2": params.b2,
        "z1": ws.z1[:BATCH].T,
        "yhat": model.softmax(ws.h[:BATCH] @ params.W2.T + params.b2[:, 0], axis=1).T,
        "l1_after_relu_mask": ws.grad_z1[:BATCH].T * BATCH,
        "grad_W1": dense_grad_W1(context_ids[:BATCH], ws, len(vocab)),
        "grad_W2": ws.update_W2, "grad_b1": ws.grad_b1[:, None], "grad_b2": ws.update_b2[:, None],
    }
    for name, actual in fast.items():
        assert max_relative_error(actual, first_batch[name]) < RTOL, name
    d = dense_first_batch
    assert loss == pytest.approx(course.compute_cost(d["y"], d["yhat"], BATCH), rel=1e-12)
