"""cbow.models.word2vec's kernels: tables, gradients, kernel steps against plain numpy, boundaries, determinism."""
import heapq
import math
import os

import numpy as np
import pytest

from cbow.models import word2vec as w2v
from cbow.models.word2vec import driver, initialisation, kernels, simd
from conftest import REPO_ROOT

MASK_64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# A plain statement of the model: numpy, float64, one example at a time
# ---------------------------------------------------------------------------------------------

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def example_loss(inputs, outputs, bias, context, rows, labels, relu):
    """-sum_d log P(label_d) for one example; hidden = mean of the context's input vectors."""
    z = inputs[context].mean(axis=0) + (bias if relu else 0.0)
    h = np.maximum(z, 0.0) if relu else z
    scores = outputs[rows] @ h
    signs = 2.0 * np.asarray(labels) - 1.0
    return -np.sum(np.log(sigmoid(signs * scores)))


def example_gradients(inputs, outputs, bias, context, rows, labels, relu):
    """Analytic gradients of :func:`example_loss` with respect to inputs, outputs and bias."""
    z = inputs[context].mean(axis=0) + (bias if relu else 0.0)
    h = np.maximum(z, 0.0) if relu else z
    coefficients = sigmoid(outputs[rows] @ h) - np.asarray(labels)  # dL/dscore for each row
    grad_outputs = np.zeros_like(outputs)
    np.add.at(grad_outputs, rows, coefficients[:, None] * h)
    grad_h = coefficients @ outputs[rows]
    grad_z = grad_h * (z > 0) if relu else grad_h
    grad_inputs = np.zeros_like(inputs)
    np.add.at(grad_inputs, context, np.broadcast_to(grad_z / len(context), (len(context), len(z))))
    return grad_inputs, grad_outputs, (grad_z if relu else np.zeros_like(bias))


# The kernel's generator, restated: word2vec's LCG, bits 16..47 mapped by multiply and shift.
def lcg(state):
    return (state * 25214903917 + 11) & MASK_64


def below(state, bound):
    return (((state >> 16) & 0xFFFFFFFF) * bound) >> 32


def noise_word(cumulative, state):
    return int(np.searchsorted(cumulative, below(state, int(cumulative[-1])), side="right"))


def draw_noise(cumulative, state, negative):
    """The rows and labels of one negative-sampling example as the kernel draws them."""
    words = []
    for _ in range(negative):
        state = lcg(state)
        words.append(noise_word(cumulative, state))
    return words, state


def reference_run(objective, inputs, outputs, bias, tokens, starts, begin, end, C, alphas,
                  relu=False, state=0, table=None, skip_saturated=False, every=1):
    """word2vec's CBOW in plain numpy (no subsampling, no window shrinking), float64.

    ``table``: one list of input rows per word (fastText's bag: every row of every context word
    is a term of the mean and gets the whole hidden error); None: word w reads row w.
    ``skip_saturated``: gensim's rule, a row whose score is 6 or more away from 0 takes no step
    and adds nothing to the hidden error (it is still scored in the loss). ``every``: the rate
    is held for blocks of that many positions (gensim's jobs).
    Returns the summed loss, the number of examples and the final generator state (and
    ``reference_run.saturated``: how many rows were skipped).
    """
    reference_run.saturated = 0
    inputs, outputs, bias = (a.astype(np.float64) for a in (inputs, outputs, bias))
    bounds = list(starts) + [len(tokens)]
    total_loss, examples = 0.0, 0
    for position in range(begin, end):
        sentence = np.searchsorted(starts, position, side="right") - 1
        first = max(position - C, bounds[sentence])
        last = min(position + C + 1, bounds[sentence + 1])
        context = [int(tokens[p]) for p in range(first, last) if p != position]
        if table is not None:
            context = [row for word in context for row in table[word]]
        centre = int(tokens[position])
        if not context:
            continue
        if isinstance(objective, w2v.HierarchicalSoftmax):
            n = objective.code_lengths[centre]
            rows = list(objective.points[centre, :n])
            labels = list(1 - objective.codes[centre, :n].astype(int))
        else:
            noise, state = draw_noise(objective.noise_cumulative, state, objective.negative)
            rows, labels = [centre], [1]
            for word in noise:
                if word != centre:
                    rows.append(word)
                    labels.append(0)
        examples += 1
        held = (position - begin) - (position - begin) % every
        alpha = alphas[0] + (alphas[1] - alphas[0]) * held / max(1, end - begin)
        z = inputs[context].mean(axis=0) + (bias if relu else 0.0)
        h = np.maximum(z, 0.0) if relu else z
        hidden_error = np.zeros_like(h)
        for row, label in zip(rows, labels):  # word2vec's order: each row steps right away
            score = h @ outputs[row]
            total_loss -= np.log(sigmoid(score if label else -score))  # scored just before its step
            if skip_saturated and abs(score) >= 6.0:
                reference_run.saturated += 1
                continue
            step = (label - sigmoid(score)) * alpha
            hidden_error += step * outputs[row]
            outputs[row] += step * h
        if relu:
            hidden_error *= z > 0
            bias += hidden_error
        for word in context:
            inputs[word] += hidden_error
    return (inputs, outputs, bias), total_loss, examples, state


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

V, N = 12, 9  # N is not a multiple of 8: the dot product's tail runs too
COUNTS = np.array([40, 3, 25, 7, 12, 1, 9, 30, 5, 2, 18, 6])
OBJECTIVES = {
    "negative": w2v.NegativeSampling.from_counts(COUNTS, negative=3),
    "hierarchical": w2v.HierarchicalSoftmax.from_counts(COUNTS),
}


def random_parameters(objective, seed, relu=False):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(0.0, 0.5, (V, N)).astype(np.float32)
    outputs = rng.normal(0.0, 0.5, (objective.output_rows, N)).astype(np.float32)
    bias = (rng.normal(0.0, 0.3, N) if relu else np.zeros(N)).astype(np.float32)
    return inputs, outputs, bias


def example_rows(objective, centre, state):
    """Rows/labels of one example and a generator state whose noise words are distinct."""
    if isinstance(objective, w2v.HierarchicalSoftmax):
        n = objective.code_lengths[centre]
        return list(objective.points[centre, :n]), list(1 - objective.codes[centre, :n].astype(int)), state
    while True:  # a simultaneous gradient step equals word2vec's row-by-row one if rows differ
        noise, _ = draw_noise(objective.noise_cumulative, state, objective.negative)
        if len(set(noise)) == len(noise) and centre not in noise:
            return [centre] + noise, [1] + [0] * len(noise), state
        state += 1


# ---------------------------------------------------------------------------------------------
# Gradients and single steps
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_analytic_gradient_matches_finite_differences(name, relu):
    objective = OBJECTIVES[name]
    inputs, outputs, bias = (a.astype(np.float64) for a in random_parameters(objective, 1, relu))
    context, centre = [3, 7, 7, 0], 4  # a repeated context word counts twice in the mean
    rows, labels, _ = example_rows(objective, centre, 5)
    analytic = example_gradients(inputs, outputs, bias, context, rows, labels, relu)
    for array, grad in zip((inputs, outputs, bias), analytic):
        if not relu and array is bias:
            continue
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + 1e-6
            plus = example_loss(inputs, outputs, bias, context, rows, labels, relu)
            array[index] = saved - 1e-6
            minus = example_loss(inputs, outputs, bias, context, rows, labels, relu)
            array[index] = saved
            numeric[index] = (plus - minus) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def run_kernel(objective, params, tokens, starts, begin, end, *, C=2, alphas=(0.1, 0.1),
               relu=False, learn=True, state=0, shrink=False, keep=None, key=0,
               max_sentence_length=w2v.MAX_SENTENCE_LENGTH, schedule=None, row_table=None,
               rules=w2v.StepRules()):
    """One call of the objective's kernel, as the drivers make it: (state, words,
    effective_words, examples, loss)."""
    schedule = (begin, end) if schedule is None else schedule
    settings = driver.KernelSettings(objective, C, shrink, relu, 0, keep, row_table, rules,
                                     max_sentence_length)
    inputs = driver.TaskInputs(settings, np.asarray(tokens, np.uint32),
                               np.asarray(starts, np.int64), key, learn, np.zeros(1, np.int32))
    result, state = driver.train_piece(params, w2v.Piece(begin, end, *schedule, *alphas),
                                       state, inputs)
    return (state, *result)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_one_kernel_step_is_a_plain_sgd_step(name, relu):
    objective = OBJECTIVES[name]
    params = random_parameters(objective, 2, relu)
    before = [a.astype(np.float64) for a in params]
    context, centre, alpha = [3, 7, 0, 7], 4, 0.05
    rows, labels, state = example_rows(objective, centre, 11)
    tokens = [3, 7, centre, 0, 7]  # one sentence, the centre in the middle, C = 2

    state_after, words, effective, examples, loss = run_kernel(
        objective, params, tokens, [0], 2, 3, alphas=(alpha, alpha), relu=relu, state=state)

    grad_inputs, grad_outputs, grad_bias = example_gradients(*before, context, rows, labels, relu)
    # word2vec adds the whole hidden-layer error to each context word: len(context) times the
    # gradient of the mean with respect to that word.
    expected = (before[0] - alpha * len(context) * grad_inputs, before[1] - alpha * grad_outputs,
                before[2] - alpha * grad_bias)
    assert_one_step(objective, params, expected, (words, effective, examples), loss,
                    example_loss(*before, context, rows, labels, relu), state, state_after)


def assert_one_step(objective, params, expected, counts, loss, expected_loss, state, state_after):
    """A one-example kernel call moved the parameters to ``expected``, scored ``expected_loss``
    and (negative sampling) drew its noise words from ``state``."""
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert counts == (1, 1, 1)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    if isinstance(objective, w2v.NegativeSampling):
        assert state_after == draw_noise(objective.noise_cumulative, state, objective.negative)[1]


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_examples_in_sequence_match_plain_numpy(name, relu):
    objective = OBJECTIVES[name]
    params = random_parameters(objective, 3, relu)
    rng = np.random.default_rng(4)
    tokens = rng.integers(0, V, 23)
    starts = [0, 9, 10, 17]  # a one-word sentence (position 9) has no context: no example
    expected, expected_loss, expected_examples, expected_state = reference_run(
        objective, *params, tokens, starts, 0, 23, 2, (0.08, 0.01), relu=relu, state=123)

    state, words, effective, examples, loss = run_kernel(
        objective, params, tokens, starts, 0, 23, alphas=(0.08, 0.01), relu=relu, state=123)

    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    assert (words, effective, examples) == (23, 23, expected_examples) and expected_examples == 22
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert state == expected_state


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_saturated_rows_take_no_step_as_in_gensim(name, relu):
    """skip_saturated: the plain-numpy reference skips rows scored beyond +-6, and so does the
    kernel; large weights make many rows saturate, so the rule is exercised."""
    objective = OBJECTIVES[name]
    params = tuple(np.float32(5.0) * a for a in random_parameters(objective, 3, relu))
    rng = np.random.default_rng(4)
    tokens = rng.integers(0, V, 23)
    starts = [0, 9, 10, 17]
    rules = w2v.StepRules(skip_saturated=True)
    exact = run_kernel(objective, tuple(a.copy() for a in params), tokens, starts, 0, 23,
                       alphas=(0.08, 0.01), relu=relu, state=123)
    expected, expected_loss, expected_examples, expected_state = reference_run(
        objective, *params, tokens, starts, 0, 23, 2, (0.08, 0.01), relu=relu, state=123,
        skip_saturated=True)
    skipped = reference_run.saturated

    state, words, effective, examples, loss = run_kernel(
        objective, params, tokens, starts, 0, 23, alphas=(0.08, 0.01), relu=relu, state=123,
        rules=rules)

    assert 30 <= skipped  # of about 90 to 130 rows: many rows are skipped, most are not
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
    assert (words, effective, examples) == (23, 23, expected_examples)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert state == expected_state == exact[0]
    assert exact[4] != pytest.approx(loss, rel=1e-3)  # the rule changed the steps


def test_a_row_scored_exactly_at_the_limit_is_skipped():
    """The limit itself is saturated (gensim: ``f_dot <= -MAX_EXP or f_dot >= MAX_EXP``)."""
    objective = w2v.NegativeSampling(np.array([0, w2v.NOISE_DOMAIN], np.uint32), 1)  # noise: 1
    inputs = np.array([[3.0, 0.0], [2.0, 0.0]], np.float32)  # hidden = word 1's row = (2, 0)
    for score, moves in ((6.0, False), (-6.0, False), (5.5, True), (-5.5, True)):
        outputs = np.array([[score / 2.0, 0.0], [0.0, 0.0]], np.float32)
        before = outputs.copy()
        # centre word 0 at position 1, its context word 1 at position 0
        run_kernel(objective, (inputs.copy(), outputs, np.zeros(2, np.float32)), [1, 0], [0],
                   1, 2, C=1, rules=w2v.StepRules(skip_saturated=True))
        assert (not np.array_equal(outputs[0], before[0])) == moves, score


def test_the_ablation_switches_do_what_they_say():
    """StepRules' sigmoid_table: the ablation kernel reads gensim's table inside +-6."""
    objective = w2v.NegativeSampling(np.array([0, w2v.NOISE_DOMAIN], np.uint32), 1)  # noise: 1
    inputs = np.array([[3.0, 0.0], [2.0, 0.0]], np.float32)  # hidden = word 1's row = (2, 0)
    score = 1.234
    outputs = np.array([[score / 2.0, 0.0], [0.0, 0.0]], np.float32)
    run_kernel(objective, (inputs.copy(), outputs, np.zeros(2, np.float32)), [1, 0], [0], 1, 2,
               C=1, alphas=(0.1, 0.1), rules=w2v.StepRules(sigmoid_table=True))
    f = w2v.GENSIM_SIGMOID_TABLE[int((np.float32(score) + 6.0) * 1000 / 12)]
    assert f != pytest.approx(sigmoid(score), abs=1e-6)  # the table's value, not the exact one
    assert outputs[0, 0] == pytest.approx(score / 2.0 + 0.1 * (1.0 - f) * 2.0, abs=1e-6)


def test_the_held_rate_ablation_trains_each_block_at_its_first_rate():
    """benchmarks.ablate_word2vec's alpha10k (the rate held for blocks of positions, as gensim's
    jobs hold it) trains a call per block: the same steps as the plain-numpy reference with
    the rate held, not those of a rate set for each position."""
    from benchmarks.ablate_word2vec import held_rate_blocks

    hs = OBJECTIVES["hierarchical"]
    tokens = np.random.default_rng(2).integers(0, V, 40)
    params = random_parameters(hs, 1)
    held, *_ = reference_run(hs, *params, tokens, [0], 0, 40, 2, (0.1, 0.01), every=16)
    linear, *_ = reference_run(hs, *params, tokens, [0], 0, 40, 2, (0.1, 0.01))
    blocks = held_rate_blocks(0, 40, 0.1, 0.01, 16)
    assert [(b, e) for b, e, _, _ in blocks] == [(0, 16), (16, 32), (32, 40)]
    for begin, end, alpha_start, alpha_end in blocks:
        run_kernel(hs, params, tokens, [0], begin, end, alphas=(alpha_start, alpha_end))
    for got, want, other in zip(params, held, linear):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    assert not np.allclose(held[0], linear[0], rtol=1e-3, atol=1e-4)  # the two rules differ
    assert held_rate_blocks(0, 40, 0.1, 0.01, 1) == [(0, 40, 0.1, 0.01)]


@pytest.mark.parametrize("name", OBJECTIVES)
def test_fast_dot_is_close_repeatable_and_resumes_exactly(name):
    """train.fast_dot: another order of the dot product's additions, so float32 rounding
    differs from the exact kernel's, but on one machine a run repeats and resumes bit for bit."""
    objective = OBJECTIVES[name]
    rng = np.random.default_rng(6)
    tokens = rng.integers(0, V, 400)
    starts = [0, 150, 151, 300]
    fast = w2v.StepRules(fast_dot=True)
    exact_params = random_parameters(objective, 7)
    run_kernel(objective, exact_params, tokens, starts, 0, 400, alphas=(0.05, 0.01), state=9)
    whole = random_parameters(objective, 7)
    state_whole = run_kernel(objective, whole, tokens, starts, 0, 400, alphas=(0.05, 0.01),
                             state=9, rules=fast)[0]
    halves = random_parameters(objective, 7)
    state = run_kernel(objective, halves, tokens, starts, 0, 170, alphas=(0.05, 0.01), state=9,
                       schedule=(0, 400), rules=fast)[0]
    state = run_kernel(objective, halves, tokens, starts, 170, 400, alphas=(0.05, 0.01),
                       state=state, schedule=(0, 400), rules=fast)[0]
    assert state == state_whole
    for a, b, c in zip(whole, halves, exact_params):
        assert np.array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)


def eight_sums(vector, row):
    """The dot product as _dot_row states it, one float32 operation at a time in numpy."""
    n = len(vector)
    sums = [np.float32(0.0)] * 8
    for c in range(n - n % 8):
        sums[c % 8] = np.float32(sums[c % 8] + np.float32(vector[c] * row[c]))
    for c in range(n - n % 8, n):
        sums[0] = np.float32(sums[0] + np.float32(vector[c] * row[c]))
    s = sums
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


def test_the_vector_dot_product_adds_in_the_stated_order():
    """_dot_row (eight sums in one SIMD vector) gives the bits of the order its docstring states,
    for every length modulo 8 and rows past the first; values spread over 1e-3..1e3 so that
    another order of additions would round differently."""
    from numba import njit

    dot = njit(lambda vector, matrix, row: simd.dot_row(vector, matrix, row))
    rng = np.random.default_rng(11)
    differs = 0
    for n in list(range(0, 41)) + [100, 300]:
        matrix = (rng.standard_normal((3, n)) * 10.0 ** rng.uniform(-3, 3, (3, n))).astype(np.float32)
        vector = (rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, n)).astype(np.float32)
        for row in range(3):
            got = np.float32(dot(vector, matrix, row))
            assert got.tobytes() == eight_sums(vector, matrix[row]).tobytes(), (n, row)
            differs += got != np.float32(np.sum(vector * matrix[row], dtype=np.float32))
    assert differs > 0  # the order is not numpy's: the comparison above can tell orders apart


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def is_prefix_free(codes):
    words = sorted("".join(map(str, c)) for c in codes)
    return all(not b.startswith(a) for a, b in zip(words, words[1:]))


def test_huffman_codes_of_a_textbook_example():
    # Cormen et al.'s example: frequencies a..f = 45, 13, 12, 16, 9, 5 (in thousands).
    counts = [45, 13, 12, 16, 9, 5]
    codes, points, lengths = w2v.huffman_tree(counts)
    assert lengths.tolist() == [1, 3, 3, 3, 4, 4]
    assert codes.shape == points.shape == (6, 4) and codes.dtype == np.uint8
    paths = [codes[w, :lengths[w]].tolist() for w in range(6)]
    assert is_prefix_free(paths)
    assert np.all(points[:, 0] == 4)  # every path starts at the root, inner node V - 2
    for w in range(6):  # the padding past each code
        assert np.all(points[w, lengths[w]:] == -1) and np.all(codes[w, lengths[w]:] == 0)
    for a in range(6):  # one tree: two words pass the same inner nodes until their codes differ
        for b in range(a + 1, 6):
            common = min(lengths[a], lengths[b])
            differ = np.flatnonzero(codes[a, :common] != codes[b, :common])[0]
            assert points[a, :differ + 1].tolist() == points[b, :differ + 1].tolist()
            assert points[a, differ + 1:lengths[a]].tolist() != points[b, differ + 1:lengths[b]].tolist() or \
                lengths[a] == lengths[b] == differ + 1


def test_huffman_tie_breaking_is_the_documented_one():
    # Four equal counts: (0, 1) merge first into inner node 0, then (2, 3) into 1, then the root.
    codes, points, lengths = w2v.huffman_tree([7, 7, 7, 7])
    assert lengths.tolist() == [2, 2, 2, 2]
    assert codes.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert points.tolist() == [[2, 0], [2, 0], [2, 1], [2, 1]]
    codes, points, lengths = w2v.huffman_tree([5])
    assert lengths.tolist() == [0] and codes.shape == (1, 0)
    assert w2v.huffman_tree([1, 9])[0].tolist() == [[0], [1]]


def test_huffman_tree_is_optimal_and_frequent_words_are_shorter():
    counts = np.random.default_rng(0).zipf(1.3, 3000).clip(max=10**6)
    codes, points, lengths = w2v.huffman_tree(counts)
    assert np.sum(2.0 ** -lengths.astype(float)) == pytest.approx(1.0)  # a full binary tree
    heap = [int(c) for c in counts]  # the optimal cost, by heapq: sum of all merged weights
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    assert int(np.sum(counts * lengths)) == cost
    order = np.lexsort((lengths, -counts))  # by count, descending; equal counts may differ
    assert np.all(np.diff(lengths[order]) >= 0)
    assert points.max() == len(counts) - 2 and points[lengths > 0, 0].min() == len(counts) - 2


SAME_BITS_SCRIPT = """
import hashlib
import numba
import numpy as np
from cbow.models import word2vec as w2v

rng = np.random.default_rng(5)
counts = rng.integers(1, 1000, 300)
tokens = rng.choice(300, 20000, p=counts / counts.sum()).astype(np.uint32)
digest = hashlib.sha1()
for objective in (w2v.NegativeSampling.from_counts(counts), w2v.HierarchicalSoftmax.from_counts(counts)):
    inputs, outputs, _ = w2v.initial_weights(objective, 100, seed=3, scheme="gensim")
    w2v.train_range(objective, inputs, outputs, tokens, np.arange(0, 20000, 500), 0, 20000,
                    alpha_start=0.025, alpha_end=0.0001, keep=w2v.keep_probabilities(counts, 1e-3),
                    workers=1, seed=1, C=5, rules=w2v.StepRules(skip_saturated=True))
    digest.update(inputs.tobytes() + outputs.tobytes())
print(numba.config.CPU_NAME or "host", digest.hexdigest())
"""


def test_the_kernels_give_the_same_bits_when_compiled_for_plain_sse2(tmp_path):
    """The SIMD dot product keeps its order of additions whatever vector width LLVM targets:
    compiled for the baseline x86-64 (SSE2, 4-float registers: the <8 x float> sums split in
    two) the kernels train the same weights as compiled for this machine (AVX or wider)."""
    import subprocess
    import sys

    runs = {}
    for cpu in ("host", "x86-64"):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / cpu))
        if cpu != "host":
            env.update(NUMBA_CPU_NAME=cpu, NUMBA_CPU_FEATURES="")
        done = subprocess.run([sys.executable, "-c", SAME_BITS_SCRIPT], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        target, digest = done.stdout.split()
        assert target == cpu  # the child compiled for the target it was given
        runs[cpu] = digest
    assert runs["host"] == runs["x86-64"]


@pytest.mark.parametrize("counts", [
    np.r_[1e6 / np.arange(1, 5001), np.zeros(7)],  # Zipf, and words that are never noise
    [3, 0, 0, 1],  # fewer words than guide entries, zeros inside
    [5],
])
def test_the_guided_noise_draw_is_the_whole_tables_search(counts):
    """_draw_noise_word starts from the guide of the draw's top bits: it must pick, for every
    state, the word a binary search of the whole table picks (the first cumulative entry above
    r = u * total >> 32), including the first and last draws of each guide entry."""
    from numba import njit

    cumulative = w2v.noise_distribution(counts, exponent=0.75)[1]
    total = int(cumulative[-1])
    for bits in (w2v.NOISE_GUIDE_BITS, 4):
        guide = w2v.make_noise_guide(cumulative, bits)
        draw = njit(lambda state: kernels.draw_noise_word(cumulative, guide, np.uint64(32 - bits), state))
        rng = np.random.default_rng(bits)
        uniforms = np.r_[rng.integers(0, 2**32, 20000),
                         (np.arange(2**bits) << (32 - bits)),  # each entry's first draw
                         (np.arange(1, 2**bits + 1) << (32 - bits)) - 1]  # and last
        for u in uniforms.astype(np.uint64):
            r = int(u) * total >> 32
            expected = int(np.searchsorted(cumulative, r, side="right"))
            state = np.uint64((int(u) << 16) | 0xBEEF | (0x1234 << 48))  # bits 16..47 are u
            assert draw(state) == expected, (int(u), r)
            assert 0 < cumulative[expected] - (cumulative[expected - 1] if expected else 0)


def test_a_noise_table_that_ends_at_zero_is_refused():
    """No word could be drawn from it (and the guide's search would run past its end)."""
    with pytest.raises(ValueError, match="ends at 0"):
        w2v.NegativeSampling(np.zeros(3, np.uint32))


def test_noise_distribution_on_hand_made_counts():
    probabilities, cumulative = w2v.noise_distribution([1, 16, 81, 0], exponent=0.75)
    np.testing.assert_allclose(probabilities, [1 / 36, 8 / 36, 27 / 36, 0])  # 16**.75 = 8, 81**.75 = 27
    assert cumulative.dtype == np.uint32 and cumulative[-1] == w2v.NOISE_DOMAIN
    assert cumulative[3] == cumulative[2]  # the unseen word has an empty interval
    # Draws made as the kernel makes them follow the distribution.
    state, drawn = 99, []
    for _ in range(20000):
        state = lcg(state)
        drawn.append(noise_word(cumulative, state))
    frequencies = np.bincount(drawn, minlength=4) / len(drawn)
    np.testing.assert_allclose(frequencies, probabilities, atol=0.01)
    assert frequencies[3] == 0
    np.testing.assert_allclose(w2v.noise_distribution([1, 3], exponent=1.0)[0], [0.25, 0.75])


def test_keep_probabilities_follow_the_word2vec_formula():
    counts = [1000, 100, 10, 0]
    threshold = 1e-2 * 1110  # sample * total count
    by_hand = [(math.sqrt(1000 / threshold) + 1) * threshold / 1000,  # 0.1165
               (math.sqrt(100 / threshold) + 1) * threshold / 100,    # 0.4442
               1.0, 1.0]  # 2.16 clipped to 1; a word never seen is kept
    np.testing.assert_allclose(w2v.keep_probabilities(counts, 1e-2), by_hand)
    assert by_hand[0] == pytest.approx(0.11646, abs=1e-5)
    np.testing.assert_array_equal(w2v.keep_probabilities(counts, 0), 1.0)


def test_initial_weights_are_word2vecs():
    objective = OBJECTIVES["hierarchical"]
    inputs, outputs, bias = w2v.initial_weights(objective, 50, seed=7)
    assert inputs.shape == (V, 50) and outputs.shape == (V - 1, 50) and bias.shape == (50,)
    assert {a.dtype for a in (inputs, outputs, bias)} == {np.dtype(np.float32)}
    assert inputs.min() >= -0.5 / 50 and inputs.max() < 0.5 / 50 and np.ptp(inputs) > 0.9 / 50
    assert not outputs.any() and not bias.any()
    np.testing.assert_array_equal(inputs, w2v.initial_weights(objective, 50, seed=7)[0])
    assert not np.array_equal(inputs, w2v.initial_weights(objective, 50, seed=8)[0])
    assert w2v.initial_weights(OBJECTIVES["negative"], 4, 0)[1].shape == (V, 4)


def test_gensim_initial_weights_are_gensims():
    """``model.init: gensim``: gensim 4's range, +-1/N, and its very draws for the same seed."""
    from gensim.models.keyedvectors import prep_vectors

    objective = OBJECTIVES["negative"]
    inputs, outputs, bias = w2v.initial_weights(objective, 50, seed=7, scheme="gensim")
    assert inputs.min() >= -1 / 50 and inputs.max() < 1 / 50 and np.ptp(inputs) > 1.9 / 50
    assert inputs.dtype == np.float32 and not outputs.any() and not bias.any()
    np.testing.assert_array_equal(inputs, prep_vectors((V, 50), seed=7))
    with pytest.raises(ValueError, match="scheme must be one of word2vec, gensim"):
        w2v.initial_weights(objective, 50, seed=7, scheme="xavier")


# ---------------------------------------------------------------------------------------------
# Windows, subsampling, boundaries
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("boundary", ["sentence", "max_sentence_length"])
def test_windows_never_cross_a_sentence_boundary(boundary):
    objective = OBJECTIVES["hierarchical"]
    tokens = [1, 2, 3, 4]  # centre 2 at position 1; 3 and 4 are in the next sentence (or piece)
    starts, piece = ([0, 2], 100) if boundary == "sentence" else ([0], 2)
    params = random_parameters(objective, 5)
    before = [a.copy() for a in params]
    *_, examples, loss = run_kernel(objective, params, tokens, starts, 1, 2, max_sentence_length=piece)
    assert examples == 1
    assert not np.array_equal(params[0][1], before[0][1])  # the one context word, 1, moved
    np.testing.assert_array_equal(params[0][[2, 3, 4]], before[0][[2, 3, 4]])  # 3 and 4 did not
    n = objective.code_lengths[2]
    assert loss == pytest.approx(example_loss(*[a.astype(float) for a in before], [1],
                                              objective.points[2, :n], 1 - objective.codes[2, :n], False),
                                 rel=1e-5)


def test_subsampled_words_are_dropped_before_windowing():
    objective = OBJECTIVES["hierarchical"]
    keep = np.ones(V)
    keep[5] = 1e-300  # word 5 is always dropped
    params = random_parameters(objective, 6)
    before = [a.copy() for a in params]
    _, words, effective, examples, _ = run_kernel(objective, params, [1, 5, 2, 5], [0], 0, 4,
                                                  C=1, keep=keep, key=3)
    # Two kept words, 1 and 2, each the other's context although word 5 stood between them.
    assert (words, effective, examples) == (4, 2, 2)
    assert not np.array_equal(params[0][1], before[0][1]) and not np.array_equal(params[0][2], before[0][2])
    np.testing.assert_array_equal(params[0][5], before[0][5])


def test_subsampling_keeps_words_at_their_probability():
    objective = OBJECTIVES["negative"]
    keep = np.full(V, 0.3)
    tokens = np.tile(np.arange(V), 2000)
    params = random_parameters(objective, 7)
    _, words, effective, examples, _ = run_kernel(objective, params, tokens, [0], 0, tokens.size,
                                                  keep=keep, key=w2v.subsample_key(1), learn=False)
    assert words == tokens.size and effective / words == pytest.approx(0.3, abs=0.01)


# ---------------------------------------------------------------------------------------------
# Determinism and resume
# ---------------------------------------------------------------------------------------------

def stream(n_tokens=3000, seed=8):
    rng = np.random.default_rng(seed)
    tokens = rng.choice(V, n_tokens, p=COUNTS / COUNTS.sum()).astype(np.uint32)
    starts = np.concatenate([[0], np.sort(rng.choice(np.arange(1, n_tokens), 150, replace=False))])
    return tokens, starts


@pytest.mark.parametrize("name", OBJECTIVES)
def test_one_worker_is_bit_deterministic_and_resumes_anywhere(name, tmp_path):
    objective = OBJECTIVES[name]
    tokens, starts = stream()
    n, k = tokens.size, 1234  # k is not a sentence start: the second call needs the first's words
    assert k not in starts
    settings = dict(alpha_start=0.05, alpha_end=0.001, C=4, keep=w2v.keep_probabilities(COUNTS, 0.05),
                    seed=3, epoch=2, schedule=(0, n))
    runs = []
    for _ in range(2):
        params = w2v.initial_weights(objective, N, seed=1)
        result = w2v.train_range(objective, params[0], params[1], tokens, starts, 0, n, **settings)
        runs.append((params, result))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1].rng_states.tolist() == runs[1][1].rng_states.tolist()

    # [0, k) then [k, n), the state passed on, on a read-only memory map as a trainer would.
    path = tmp_path / "tokens.u32"
    tokens.tofile(path)
    mapped = np.memmap(path, dtype=np.uint32, mode="r")
    params = w2v.initial_weights(objective, N, seed=1)
    first = w2v.train_range(objective, params[0], params[1], mapped, starts, 0, k, **settings)
    second = w2v.train_range(objective, params[0], params[1], mapped, starts, k, n,
                             rng_states=first.rng_states, **settings)
    for a, b in zip(params, runs[0][0]):
        np.testing.assert_array_equal(a, b)
    whole = runs[0][1]
    assert second.rng_states.tolist() == whole.rng_states.tolist()
    assert (first.words + second.words, first.effective_words + second.effective_words,
            first.examples + second.examples) == (whole.words, whole.effective_words, whole.examples)
    assert first.loss + second.loss == pytest.approx(whole.loss, rel=1e-12)
    assert 0.3 * n < whole.effective_words < n  # subsampling dropped some of the words


def test_epochs_and_seeds_change_the_random_choices():
    objective = OBJECTIVES["negative"]
    tokens, starts = stream()
    keep = w2v.keep_probabilities(COUNTS, 0.05)
    results = {}
    for seed, epoch in [(1, 0), (1, 1), (2, 0)]:
        params = w2v.initial_weights(objective, N, seed=1)
        results[seed, epoch] = w2v.train_range(objective, params[0], params[1], tokens, starts, 0,
                                               tokens.size, alpha_start=0.05, alpha_end=0.01,
                                               keep=keep, seed=seed, epoch=epoch)
    assert len({r.effective_words for r in results.values()}) == 3


# ---------------------------------------------------------------------------------------------
# Held-out losses
# ---------------------------------------------------------------------------------------------

def test_held_out_losses_match_plain_numpy_and_repeat_exactly():
    tokens, starts = stream(400, seed=9)
    for name, loss_function in [("negative", w2v.negative_sampling_loss),
                                ("hierarchical", w2v.hierarchical_softmax_loss)]:
        objective = OBJECTIVES[name]
        params = random_parameters(objective, 10)
        before = [a.copy() for a in params]
        held_out = loss_function(objective, params[0], params[1], tokens, starts, C=3)
        for a, b in zip(params, before):
            np.testing.assert_array_equal(a, b)  # nothing written
        seed_state = int(w2v.worker_rng_states(0, 1)[0])
        _, expected_total, expected_examples, _ = reference_run(
            objective, *params, tokens, starts, 0, tokens.size, 3, (0.0, 0.0), state=seed_state)
        assert held_out.examples == expected_examples
        assert held_out.total == pytest.approx(expected_total, rel=1e-5)
        assert held_out.mean == pytest.approx(expected_total / expected_examples, rel=1e-5)
        assert loss_function(objective, params[0], params[1], tokens, starts, C=3) == held_out
        split = loss_function(objective, params[0], params[1], tokens, starts, C=3, workers=2)
        assert split.examples == held_out.examples
        if name == "hierarchical":  # no randomness: the split changes only the summation order
            assert split.total == pytest.approx(held_out.total, rel=1e-9)


def test_hierarchical_softmax_is_a_distribution_over_the_vocabulary():
    objective = OBJECTIVES["hierarchical"]
    outputs = np.random.default_rng(11).normal(size=(V - 1, N))
    h = np.random.default_rng(12).normal(size=N)
    probabilities = [np.exp(-example_loss(h[None, :], outputs, 0.0, [0], objective.points[w, :n],
                                          1 - objective.codes[w, :n], False))
                     for w, n in enumerate(objective.code_lengths)]
    assert sum(probabilities) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# Training with two workers
# ---------------------------------------------------------------------------------------------

def topic_corpus(n_sentences, seed):
    """Sentences of 8 words, all from one of two topics: words 0-9 or words 10-19."""
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, 2, n_sentences)
    words = rng.integers(0, 10, (n_sentences, 8)) + 10 * topics[:, None]
    return words.ravel().astype(np.uint32), np.arange(0, 8 * n_sentences, 8)


@pytest.mark.parametrize("name", ["negative", "hierarchical"])
def test_two_workers_learn_the_topics(name):
    tokens, starts = topic_corpus(1500, seed=12)
    test_tokens, test_starts = topic_corpus(200, seed=13)
    counts = np.bincount(tokens, minlength=20)
    objective = (w2v.NegativeSampling.from_counts(counts, negative=5) if name == "negative"
                 else w2v.HierarchicalSoftmax.from_counts(counts))
    loss = w2v.negative_sampling_loss if name == "negative" else w2v.hierarchical_softmax_loss
    inputs, outputs, _ = w2v.initial_weights(objective, 16, seed=1)
    losses = [loss(objective, inputs, outputs, test_tokens, test_starts, C=3).mean]
    epochs = 4
    for epoch in range(epochs):
        result = w2v.train_range(objective, inputs, outputs, tokens, starts, 0, tokens.size,
                                 alpha_start=0.05 * (1 - epoch / epochs),
                                 alpha_end=0.05 * (1 - (epoch + 1) / epochs) + 1e-4,
                                 C=3, keep=w2v.keep_probabilities(counts, 1e-2), workers=2,
                                 seed=5, epoch=epoch)
        assert result.rng_states.shape == (2,) and result.words == tokens.size
        losses.append(loss(objective, inputs, outputs, test_tokens, test_starts, C=3).mean)
    assert losses[-1] < losses[0] - 0.5
    if name == "hierarchical":  # the best possible: the context tells the topic, not the word
        assert losses[-1] < math.log(10) + 0.05
    unit = inputs / np.linalg.norm(inputs, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = similarity.argmax(axis=1)
    assert np.all(nearest // 10 == np.arange(20) // 10)


def test_arguments_are_checked():
    objective = OBJECTIVES["negative"]
    inputs, outputs, _ = w2v.initial_weights(objective, 4, seed=0)
    tokens = np.array([0, 1, 2], np.uint32)
    call = lambda **changes: w2v.train_range(**{**dict(
        objective=objective, input_vectors=inputs, output_vectors=outputs, tokens=tokens,
        sentence_starts=[0], begin=0, end=3, alpha_start=0.1, alpha_end=0.1), **changes})
    call()
    with pytest.raises(TypeError, match="uint32"):
        call(tokens=tokens.astype(np.int64))
    with pytest.raises(ValueError, match="out of range"):
        call(tokens=np.array([0, 1, V], np.uint32))
    with pytest.raises(ValueError, match="inside"):
        call(end=4)
    with pytest.raises(TypeError, match="output_vectors"):
        call(output_vectors=outputs[:-1])
    with pytest.raises(TypeError, match="float32"):
        call(input_vectors=inputs.astype(np.float64))
    with pytest.raises(ValueError, match="sentence_starts"):
        call(sentence_starts=[1])
    with pytest.raises(ValueError, match="hidden_bias"):
        call(relu=True)
    with pytest.raises(ValueError, match="one state per worker"):
        call(workers=2, rng_states=np.zeros(1, np.uint64))


# ---------------------------------------------------------------------------------------------
# Row tables: several input rows per word (fastText's bag of a word and its n-grams)
# ---------------------------------------------------------------------------------------------

BUCKETS = 5  # extra input rows V .. V + 4, shared by several words as fastText's hash buckets
TABLE = [[w, V + w % BUCKETS] for w in range(V)]
TABLE[2] = [2]                    # a word with its own row only
TABLE[4] = [4, V + 1, V + 1, 0]   # a row listed twice, and another word's row
TABLE[6] = []                     # a word with no rows adds nothing to the mean


def table_parameters(objective, seed, relu=False):
    inputs, outputs, bias = random_parameters(objective, seed, relu)
    extra = np.random.default_rng(seed + 100).normal(0.0, 0.5, (BUCKETS, N)).astype(np.float32)
    return np.concatenate([inputs, extra]), outputs, bias


def bag_loss(inputs, outputs, bias, context_words, rows, labels, relu):
    """The loss of one example, written from the definition: hidden = (sum over the context
    words of the sum of their rows) / (number of rows summed)."""
    total, count = np.zeros(inputs.shape[1]), 0
    for word in context_words:
        for row in TABLE[word]:
            total = total + inputs[row]
            count += 1
    z = total / count + (bias if relu else 0.0)
    h = np.maximum(z, 0.0) if relu else z
    signs = 2.0 * np.asarray(labels) - 1.0
    return -np.sum(np.log(sigmoid(signs * (outputs[rows] @ h))))


def numeric_gradient(function, array, step=1e-6):
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + step
        plus = function()
        array[index] = saved - step
        minus = function()
        array[index] = saved
        gradient[index] = (plus - minus) / (2 * step)
    return gradient


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_one_kernel_step_with_a_row_table_follows_finite_differences(name, relu):
    objective = OBJECTIVES[name]
    table = w2v.RowTable.from_lists(TABLE)
    params = table_parameters(objective, 21, relu)
    before = [a.astype(np.float64) for a in params]
    context, centre, alpha = [3, 4, 6, 4], 5, 0.05  # word 4 twice, word 6 without rows
    rows, labels, state = example_rows(objective, centre, 13)
    tokens = [3, 4, centre, 6, 4]
    n_rows = sum(len(TABLE[w]) for w in context)

    state_after, words, effective, examples, loss = run_kernel(
        objective, params, tokens, [0], 2, 3, alphas=(alpha, alpha), relu=relu, state=state,
        row_table=table)

    loss_of = lambda: bag_loss(*before, context, rows, labels, relu)
    grad_inputs, grad_outputs, grad_bias = (numeric_gradient(loss_of, a) for a in before)
    # As in word2vec, each summed row gets the whole hidden error: n_rows times the gradient of
    # the mean with respect to it (a row summed twice, twice).
    expected = (before[0] - alpha * n_rows * grad_inputs, before[1] - alpha * grad_outputs,
                before[2] - alpha * (grad_bias if relu else 0.0))
    assert_one_step(objective, params, expected, (words, effective, examples), loss, loss_of(),
                    state, state_after)
    assert not np.array_equal(params[0][V + 1], before[0][V + 1])  # a bucket row moved
    np.testing.assert_array_equal(params[0][6], before[0][6])      # word 6 read no row


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_examples_with_a_row_table_match_plain_numpy(name, relu):
    objective = OBJECTIVES[name]
    params = table_parameters(objective, 22, relu)
    tokens = np.random.default_rng(23).integers(0, V, 40)
    tokens[[11, 12]] = 6  # a centre whose only context word has no rows: no example
    starts = [0, 10, 13, 30]
    expected, expected_loss, expected_examples, expected_state = reference_run(
        objective, *params, tokens, starts, 0, 40, 1, (0.08, 0.01), relu=relu, state=77, table=TABLE)

    state, words, effective, examples, loss = run_kernel(
        objective, params, tokens, starts, 0, 40, C=1, alphas=(0.08, 0.01), relu=relu,
        state=77, row_table=w2v.RowTable.from_lists(TABLE))

    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    assert words == effective == 40 and examples == expected_examples < 40
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert state == expected_state


def test_held_out_losses_with_a_row_table_match_plain_numpy():
    tokens, starts = stream(300, seed=24)
    table = w2v.RowTable.from_lists(TABLE)
    for name, loss_function in [("negative", w2v.negative_sampling_loss),
                                ("hierarchical", w2v.hierarchical_softmax_loss)]:
        objective = OBJECTIVES[name]
        params = table_parameters(objective, 25)
        before = [a.copy() for a in params]
        held_out = loss_function(objective, params[0], params[1], tokens, starts, C=3,
                                 row_table=table)
        for a, b in zip(params, before):
            np.testing.assert_array_equal(a, b)
        seed_state = int(w2v.worker_rng_states(0, 1)[0])
        _, expected_total, expected_examples, _ = reference_run(
            objective, *params, tokens, starts, 0, tokens.size, 3, (0.0, 0.0), state=seed_state,
            table=TABLE)
        assert held_out.examples == expected_examples
        assert held_out.total == pytest.approx(expected_total, rel=1e-5)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_the_identity_table_is_word2vec_bit_for_bit(name):
    objective = OBJECTIVES[name]
    tokens, starts = stream()
    settings = dict(alpha_start=0.05, alpha_end=0.001, C=4, relu=True,
                    keep=w2v.keep_probabilities(COUNTS, 0.05), seed=3, epoch=1)
    runs = []
    for row_table in (None, w2v.RowTable.identity(V)):
        inputs, outputs, bias = w2v.initial_weights(objective, N, seed=1)
        bias += 0.01
        result = w2v.train_range(objective, inputs, outputs, tokens, starts, 0, tokens.size,
                                 hidden_bias=bias, row_table=row_table, **settings)
        runs.append(((inputs, outputs, bias), result))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1][:4] == runs[1][1][:4]
    assert runs[0][1].rng_states.tolist() == runs[1][1].rng_states.tolist()


def test_the_numpy_side_of_the_package_imports_no_numba():
    """The package and its numpy-only modules load without numba (a config or settings module
    may import them); the kernels load it."""
    import subprocess
    import sys

    code = ("import sys; import cbow.models.word2vec as w\n"
            "from cbow.models.word2vec import initialisation, records, tables\n"
            "w.NegativeSampling, w.RowTable, w.INITIALISATIONS, w.keep_probabilities\n"
            "print('numba' in sys.modules)\n"
            "w.train_range\n"
            "print('numba' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_row_tables_are_checked():
    table = w2v.RowTable.from_lists(TABLE)
    assert table.vocab_size == V and table.input_rows == V + BUCKETS
    assert table.offsets.dtype == np.int64 and table.rows.dtype == np.int32
    identity = w2v.RowTable.identity(3)
    assert identity.offsets.tolist() == [0, 1, 2, 3] and identity.rows.tolist() == [0, 1, 2]
    for offsets, rows in [([0, 2, 1], [0, 1]), ([1, 2], [0, 1]), ([0, 1], [0, 1]),
                          ([0, 1], [-1]), ([0, 1], [2**31]), ([0], [])]:
        with pytest.raises(ValueError):
            w2v.RowTable(np.array(offsets), np.array(rows, np.int64))
    with pytest.raises(TypeError, match="integer"):
        w2v.RowTable(np.array([0, 1]), np.array([0.5]))

    objective = OBJECTIVES["negative"]
    inputs, outputs, _ = table_parameters(objective, 26)
    tokens = np.array([0, 1, 2], np.uint32)
    call = lambda **changes: w2v.train_range(**{**dict(
        objective=objective, input_vectors=inputs, output_vectors=outputs, tokens=tokens,
        sentence_starts=[0], begin=0, end=3, alpha_start=0.1, alpha_end=0.1, row_table=table),
        **changes})
    call()
    call(input_vectors=np.concatenate([inputs, inputs]))  # more rows than the table reads: fine
    with pytest.raises(ValueError, match="reads rows up to"):
        call(input_vectors=inputs[:V])
    with pytest.raises(ValueError, match="words"):
        call(row_table=w2v.RowTable.identity(V + 1))
    with pytest.raises(TypeError, match="RowTable"):
        call(row_table=(table.offsets, table.rows))
    with pytest.raises(TypeError, match="input_vectors"):
        call(row_table=None)  # word2vec's (V, N) without a table


def test_two_workers_learn_the_topics_through_a_row_table():
    tokens, starts = topic_corpus(1500, seed=14)
    test_tokens, test_starts = topic_corpus(200, seed=15)
    counts = np.bincount(tokens, minlength=20)
    objective = w2v.HierarchicalSoftmax.from_counts(counts)
    table = w2v.RowTable.from_lists([[w, 20 + w % 3] for w in range(20)])  # 3 shared rows
    inputs, outputs, _ = w2v.initial_weights(objective, 16, seed=1)
    inputs = np.concatenate([inputs, np.zeros((3, 16), np.float32)])
    loss = lambda: w2v.hierarchical_softmax_loss(objective, inputs, outputs, test_tokens,
                                                 test_starts, C=3, row_table=table).mean
    before = loss()
    for epoch in range(4):
        result = w2v.train_range(objective, inputs, outputs, tokens, starts, 0, tokens.size,
                                 alpha_start=0.05 * (1 - epoch / 4),
                                 alpha_end=0.05 * (1 - (epoch + 1) / 4) + 1e-4, C=3,
                                 workers=2, seed=5, epoch=epoch, row_table=table)
        assert result.words == tokens.size
    assert loss() < min(before - 0.5, math.log(10) + 0.05)  # the context tells the topic


def test_gensim_initial_weights_are_twice_word2vecs():
    """``scheme="gensim"`` (model.init: gensim) draws the input rows, n-gram rows included, in
    +-1/N, as gensim and fastText: exactly twice word2vec's draws from the same seed (a power
    of two commutes with float32 rounding)."""
    objective = OBJECTIVES["negative"]
    assert w2v.INITIALISATIONS == ("word2vec", "gensim")
    half, _, _ = w2v.initial_weights(objective, 50, seed=7, input_rows=V + 30)
    inputs, outputs, bias = w2v.initial_weights(objective, 50, seed=7, scheme="gensim",
                                                input_rows=V + 30)
    assert inputs.dtype == np.float32 and inputs.shape == (V + 30, 50)
    np.testing.assert_array_equal(inputs, 2 * half)
    assert inputs.min() >= -1 / 50 and inputs.max() < 1 / 50 and np.ptp(inputs) > 1.8 / 50
    assert not outputs.any() and not bias.any()


@pytest.mark.parametrize("scheme", w2v.INITIALISATIONS)
def test_initial_weights_keep_the_drawn_rows_and_leave_the_others_zero(scheme):
    """``drawn`` (the rows a row table reaches): those rows get exactly the draws they get
    without it, across the blocks the draw is cut into; every other row is zero."""
    objective = OBJECTIVES["negative"]
    rows = 2 * initialisation._DRAW_BLOCK_ROWS + 7  # three blocks, the last one short
    every, _, _ = w2v.initial_weights(objective, 3, seed=5, scheme=scheme, input_rows=rows)
    drawn = np.random.default_rng(0).random(rows) < 0.3
    drawn[:V] = True
    some, _, _ = w2v.initial_weights(objective, 3, seed=5, scheme=scheme, input_rows=rows,
                                     drawn=drawn)
    np.testing.assert_array_equal(some[drawn], every[drawn])
    assert not some[~drawn].any() and np.all(every[~drawn] != 0)
    all_drawn, _, _ = w2v.initial_weights(objective, 3, seed=5, scheme=scheme, input_rows=rows,
                                          drawn=np.ones(rows, bool))
    np.testing.assert_array_equal(all_drawn, every)
    with pytest.raises(ValueError, match="one entry per input row"):
        w2v.initial_weights(objective, 3, seed=5, input_rows=rows, drawn=drawn[:-1])
