"""The fast sparse step against the dense course formulas, and finite differences."""
import numpy as np
import pytest

from cbow import course
from cbow.models.softmax import model
from cbow.models.softmax.model import Params, Workspace
from conftest import dense_grad_W1


def random_problem(rng, V=13, N=5, B=7, C=2, dtype=np.float64):
    # Centred weights so that z1 is negative somewhere: the ReLU mask matters.
    params = Params(rng.normal(size=(N, V)), rng.normal(size=(V, N)), rng.normal(size=(N, 1)),
                    rng.normal(size=(V, 1))).astype(dtype)
    context_ids = rng.integers(0, V, size=(B, 2 * C))
    context_ids[0] = context_ids[0, 0]  # one example whose context is one word repeated
    center_ids = rng.integers(0, V, size=B)
    return params, context_ids, center_ids


def dense_inputs(context_ids, center_ids, V):
    B, two_C = context_ids.shape
    x = np.zeros((V, B))
    np.add.at(x, (context_ids, np.arange(B)[:, None]), 1.0 / two_C)
    y = np.zeros((V, B))
    y[center_ids, np.arange(B)] = 1.0
    return x, y


def dense_gradients(params, context_ids, center_ids):
    x, y = dense_inputs(context_ids, center_ids, params.V)
    W1, W2, b1, b2 = params.arrays().values()
    z, h = course.forward_prop(x, W1, W2, b1, b2)
    yhat = course.softmax(z)
    B = center_ids.shape[0]
    return course.compute_cost(y, yhat, B), course.back_prop(x, yhat, y, h, W1, W2, b1, b2, B)


@pytest.mark.parametrize("seed", range(5))
def test_fast_gradients_equal_dense_course_formulas(seed):
    rng = np.random.default_rng(seed)
    params, context_ids, center_ids = random_problem(rng)
    ws = Workspace.for_params(params, 16)  # larger than the batch: buffers are sliced
    loss = model.compute_gradients(params, context_ids, center_ids, ws)
    cost, (gW1, gW2, gb1, gb2) = dense_gradients(params, context_ids, center_ids)
    assert (ws.z1[:7] < 0).any() and (ws.z1[:7] > 0).any()
    assert loss == pytest.approx(cost, rel=1e-12)
    np.testing.assert_allclose(dense_grad_W1(context_ids, ws, params.V), gW1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ws.update_W2, gW2, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ws.grad_b1, gb1[:, 0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ws.update_b2, gb2[:, 0], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_train_step_equals_dense_gradient_descent(dtype):
    rng = np.random.default_rng(7)
    params, context_ids, center_ids = random_problem(rng, dtype=dtype)
    reference = params.astype(np.float64)
    alpha = 0.05
    _, grads = dense_gradients(reference, context_ids, center_ids)
    expected = {k: a - alpha * g for (k, a), g in zip(reference.arrays().items(), grads)}
    model.train_step(params, context_ids, center_ids, alpha, Workspace.for_params(params, 7))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for name, actual in params.arrays().items():
        assert actual.dtype == dtype
        np.testing.assert_allclose(actual, expected[name], rtol=rtol, atol=rtol, err_msg=name)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    params, context_ids, center_ids = random_problem(rng, V=6, N=3, B=4, C=1)
    ws = Workspace.for_params(params, 4)
    model.compute_gradients(params, context_ids, center_ids, ws)
    analytic = {"W1": dense_grad_W1(context_ids, ws, params.V), "W2": ws.update_W2.copy(),
                "b1": ws.grad_b1[:, None].copy(), "b2": ws.update_b2[:, None].copy()}

    def loss_at(p):
        return model.mean_loss(p, context_ids, center_ids)

    eps = 1e-6
    for name, grad in analytic.items():
        numeric = np.zeros_like(grad)
        for index in np.ndindex(grad.shape):
            plus, minus = params.copy(), params.copy()
            plus.arrays()[name][index] += eps
            minus.arrays()[name][index] -= eps
            numeric[index] = (loss_at(plus) - loss_at(minus)) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_softmax_is_stable_and_normalised():
    z = np.array([[1000.0, -1000.0], [1001.0, -999.0], [999.0, -1001.0]])
    p = model.softmax(z)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=0), 1.0)
    np.testing.assert_allclose(p[:, 0], p[:, 1])


def test_initialize_model_follows_the_course_seeded_order():
    np.random.seed(1)
    expected = [np.random.rand(4, 9), np.random.rand(9, 4), np.random.rand(4, 1), np.random.rand(9, 1)]
    state = np.random.get_state()[1].copy()
    params = model.initialize_model(4, 9, random_seed=1)
    for a, b in zip(params.arrays().values(), expected):
        np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], state), "global numpy RNG must be untouched"


def test_params_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"W2 must have shape \(5, 3\)"):
        Params(np.zeros((3, 5)), np.zeros((4, 3)), np.zeros((3, 1)), np.zeros((5, 1)))
