"""word2vec's CBOW as compiled per-example SGD: the kernel and the steps it is made of.

A kernel call trains one *piece*: the centre positions ``[begin, end)`` of a token stream, one
example per kept centre word, updating the weights in place. It takes a few records
(:mod:`cbow.models.word2vec.records`): the weights, the text, the objective's tables, the row
table, the steps' settings, the piece and its buffers; :mod:`cbow.models.word2vec.driver`
builds them from the checked arguments.

One example, in order (word2vec's CBOW with ``cbow_mean=1``):

1. **window**: the kept words within ``C`` of the centre (fewer when ``shrink_window`` draws a
   smaller span), never across a sentence boundary or a ``max_sentence_length`` piece of one;
2. **hidden layer**: the mean of the context words' input rows (``relu``: ReLU(mean + b1));
3. **output layer**: each output row the objective scores for the centre (negative sampling:
   the centre's row and ``negative`` noise words'; hierarchical softmax: the inner nodes on
   the centre's Huffman path) is scored and stepped at once, and its error with respect to the
   hidden layer is summed in ``hidden_error`` (word2vec's ``neu1e``);
4. **input update**: ``hidden_error`` is added to every context row. As in word2vec and gensim
   that is the full error, not the error divided by the number of context rows.

With a row table a context word stands for all its input rows (fastText's CBOW): the mean runs
over every row of every context word, and each of those rows gets ``hidden_error``.

Choices, and where they differ from word2vec's C tool and gensim:

- **Sigmoid.** Exact, ``1 / (1 + exp(-x))`` in float64 with ``x`` clipped to [-30, 30], not
  word2vec's 1,000-entry table over [-6, 6]: a kernel step is the textbook SGD step, which the
  tests check to rounding. By default every output row takes its exact gradient step; with
  ``skip_saturated`` (``model.skip_saturated``, gensim's rule) a row scored at or beyond +-6
  takes no step and adds nothing to the hidden layer's error. Either is deterministic.
- **Subsampling** drops words before windowing, as word2vec does per sentence, so a window of
  ``C`` reaches ``C`` *kept* words on each side; the draw is a hash of the position
  (:mod:`cbow.models.word2vec.rng`), so pieces can be trained in any order and split anywhere.
- **Learning rate** is linear in the *position* of the centre word, from ``alpha_start`` at
  ``schedule_begin`` to ``alpha_end`` at ``schedule_end``, so that a range split in two calls
  sees the same rates as one call (word2vec steps it every 10,000 words).
- **Loss** (for progress and held-out curves) is ``-sum(log P)`` over the output rows each
  example scores: the probabilities are multiplied in float64 and a logarithm is taken only
  when the product nears underflow, not once per row.
- **Compilation.** fastmath stays off, so no floating-point sum is reordered (the dot product's
  order is :mod:`cbow.models.word2vec.simd`'s). Each loop over the N dimensions reads a row of
  a C-ordered matrix; nothing is allocated per example.

Variants are compiled, not switched at run time: the objective, and the row table or its
absence, by the records' types (a ``None`` argument compiles its branches away); the dot
product (``train.fast_dot``) and gensim's sigmoid table (an ablation,
``benchmarks/ablate_word2vec.py``) by :func:`kernel`, one compiled kernel each. Only
``skip_saturated``, ``relu``, ``learn`` and ``shrink_window`` are read at run time.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from cbow.models.word2vec.rng import below, next_state, position_uniform, uniform_32
from cbow.models.word2vec.simd import dot_row, dot_row_reassociated, prefetch_row

SIGMOID_CLIP = 30.0
"""Scores are clipped to [-30, 30] before the sigmoid: sigmoid(-30) = 9.4e-14, so no gradient
changes in float32 and no probability (or loss term, at most 30 nats) underflows."""

SATURATED = 6.0
"""word2vec's and gensim's ``MAX_EXP``: with ``skip_saturated``, an output row whose score is
at or beyond +-6 is not updated (and adds nothing to the hidden layer's error)."""

STOP_CHECK_EVERY = 1024
"""The kernels read their stop flag at each sentence piece and before every this many centres
of one (a long sentence): at ``model.C`` and ``model.negative`` 1,000 that is well under a
second of work."""

GENSIM_SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-(np.arange(1000, dtype=np.float32) / np.float32(1000)
                                              * 2 - 1) * SATURATED))).astype(np.float32)
"""word2vec's and gensim's ``EXP_TABLE``: the sigmoid at 1,000 points of [-6, 6), read at
``int((score + 6) * 1000 / 12)`` (the ablation kernel's, :func:`kernel`)."""

# Fold the running product of probabilities into the loss before it can underflow: the smallest
# factor is sigmoid(-SIGMOID_CLIP) ~ 1e-13, so the product stays far above 1e-308.
_PRODUCT_FLOOR = 1e-250


# ---------------------------------------------------------------------------------------------
# The kernel's own records (its arguments' are in records.py)
# ---------------------------------------------------------------------------------------------

class Window(NamedTuple):
    """One example's context: kept words ``first .. last - 1`` but the centre."""

    centre: int     # index of the centre in the kept words
    first: int
    last: int
    n_context: int  # terms of the hidden layer's mean (context words, or their rows)


class Rate(NamedTuple):
    """The learning rate at position ``p``: ``alpha_start + per_position * (p - begin)``."""

    alpha_start: float
    per_position: float
    begin: int


class Loss(NamedTuple):
    """The loss so far: ``total - log(product)`` nats."""

    total: float
    product: float  # of every P(label) since the last fold into total


# ---------------------------------------------------------------------------------------------
# Small steps (compiled into the kernel; see the module docstring for the order)
# ---------------------------------------------------------------------------------------------

# Each step is inlined into the kernel by numba (``inline="always"``), as if written there.
_STEP = dict(nogil=True, inline="always")


@njit(**_STEP)
def logistic(score, label):
    """``(label - sigmoid(score), P(label))`` for a 0/1 label, in float64.

    ``1 - sigmoid(x)`` is computed as ``exp(-x) * sigmoid(x)``, which does not cancel to 0.
    """
    x = min(max(np.float64(score), -SIGMOID_CLIP), SIGMOID_CLIP)
    e = math.exp(-x)
    p_one = 1.0 / (1.0 + e)
    p_zero = e * p_one
    if label == 1:
        return p_zero, p_one
    return -p_one, p_zero


@njit(**_STEP)
def add_probability(loss, probability):
    """``loss`` with one more factor ``P(label)``, folded into the total near underflow."""
    product = loss.product * probability
    if product < _PRODUCT_FLOOR:
        return Loss(loss.total - math.log(product), 1.0)
    return Loss(loss.total, product)


@njit(**_STEP)
def draw_noise_word(noise_cumulative, guide, guide_shift, state):
    """The first word whose cumulative entry exceeds a uniform integer drawn from ``state``
    (``below(state, total)``): a binary search between the two words that ``guide``
    (:func:`~cbow.models.word2vec.tables.make_noise_guide`, ``guide_shift = 32 - bits``) names
    for the draw's top bits, which reaches the word a search of the whole table would."""
    r = below(state, noise_cumulative[noise_cumulative.shape[0] - 1])
    bucket = uniform_32(state) >> guide_shift
    low = np.int64(guide[bucket])
    high = np.int64(guide[bucket + np.uint64(1)])
    while low < high:
        middle = (low + high) >> 1
        if np.uint64(noise_cumulative[middle]) > r:
            high = middle
        else:
            low = middle + 1
    return low


@njit(**_STEP)
def sentence_piece(text, position):
    """``[start, end)`` of the piece of a sentence that holds ``position``: windows stay inside it.

    The binary search returns a sentence with start <= position < end even for unsorted starts
    (only the windows would be wrong), so a caller moving on to ``end`` always moves on.
    """
    starts = text.sentence_starts
    sentence = np.searchsorted(starts, position, side="right") - 1
    sentence_start = starts[sentence]
    sentence_end = starts[sentence + 1] if sentence + 1 < starts.shape[0] else text.tokens.shape[0]
    pieces_before = (position - sentence_start) // text.max_sentence_length
    start = sentence_start + pieces_before * text.max_sentence_length
    return start, min(start + text.max_sentence_length, sentence_end)


@njit(**_STEP)
def gather_kept_words(text, start, stop, scratch):
    """Subsample ``tokens[start:stop]`` into the scratch's kept words and positions; how many."""
    n_kept = 0
    for position in range(start, stop):
        word = text.tokens[position]
        keep = text.keep_probabilities[word]
        # Most of the vocabulary (every word rarer than the threshold) is always kept: no hash.
        if keep < 1.0 and position_uniform(text.subsample_key, position) >= keep:
            continue
        scratch.kept_words[n_kept] = word
        scratch.kept_positions[n_kept] = position
        n_kept += 1
    return n_kept


@njit(**_STEP)
def centres_between(kept_positions, n_kept, position, stop):
    """The kept words at positions in ``[position, stop)``, as indices ``[first, last)``: the
    centres of a piece (the kept words around them are context only)."""
    first = 0
    while first < n_kept and kept_positions[first] < position:
        first += 1
    last = first
    while last < n_kept and kept_positions[last] < stop:
        last += 1
    return first, last


@njit(**_STEP)
def prefetch_rows(weights, rows, words, first, last):
    """Start loading the input rows of ``words[first:last]`` (:func:`simd.prefetch_row`)."""
    for j in range(first, last):
        word = words[j]
        for k in range(rows.offsets[word], rows.offsets[word + 1]):
            prefetch_row(weights.input_vectors, rows.rows[k])


@njit(**_STEP)
def draw_window(state, centre, n_kept, steps):
    """``(state, first, last)``: the kept words ``[first, last)`` around ``centre``, ``C`` on
    each side, or a span drawn in ``[1, C]`` with ``shrink_window``."""
    span = steps.C
    if steps.shrink_window:
        state = next_state(state)
        span = steps.C - np.int64(below(state, steps.C))
    return state, max(centre - span, 0), min(centre + span + 1, n_kept)


@njit(**_STEP)
def gather_context(rows, scratch, centre, first, last):
    """The number of terms of the hidden layer's mean: the context words, or (a row table) all
    their input rows, which are listed in the scratch's ``context_rows``, in order."""
    n_context = last - first - 1
    if rows is not None:
        n_context = 0
        for j in range(first, last):
            if j != centre:
                word = scratch.kept_words[j]
                for k in range(rows.offsets[word], rows.offsets[word + 1]):
                    scratch.context_rows[n_context] = rows.rows[k]
                    n_context += 1
    return n_context


@njit(**_STEP)
def hidden_layer(weights, rows, scratch, window, relu):
    """``scratch.hidden`` = the mean of the window's input rows (+ hidden_bias, ReLU)."""
    input_vectors, hidden = weights.input_vectors, scratch.hidden
    dim = input_vectors.shape[1]
    for c in range(dim):
        hidden[c] = 0.0
    if rows is None:
        for j in range(window.first, window.last):
            if j != window.centre:
                word = scratch.kept_words[j]
                for c in range(dim):
                    hidden[c] += input_vectors[word, c]
    else:
        add_rows(input_vectors, scratch.context_rows, window.n_context, hidden)
    inverse_count = np.float32(1.0) / np.float32(window.n_context)
    for c in range(dim):
        hidden[c] *= inverse_count
    if relu:
        for c in range(dim):
            pre_activation = hidden[c] + weights.hidden_bias[c]
            hidden[c] = pre_activation if pre_activation > 0.0 else np.float32(0.0)


@njit(**_STEP)
def add_rows(input_vectors, context_rows, n_rows, hidden):
    """``hidden += input_vectors[context_rows[k]]`` for each ``k < n_rows``, four rows per pass
    over ``hidden``: each element still adds the rows one at a time in order (the same sums, bit
    for bit), but ``hidden`` is loaded and stored once per four rows."""
    dim = input_vectors.shape[1]
    k = 0
    while k + 4 <= n_rows:
        r0, r1 = context_rows[k], context_rows[k + 1]
        r2, r3 = context_rows[k + 2], context_rows[k + 3]
        for c in range(dim):
            hidden[c] = (((hidden[c] + input_vectors[r0, c]) + input_vectors[r1, c])
                         + input_vectors[r2, c]) + input_vectors[r3, c]
        k += 4
    while k < n_rows:
        input_row = context_rows[k]
        for c in range(dim):
            hidden[c] += input_vectors[input_row, c]
        k += 1


@njit(**_STEP)
def train_output_row(weights, scratch, row, label, alpha, steps, fast_dot, sigmoid_table):
    """Score output ``row`` against the hidden layer, step it towards ``label`` and add its
    error to ``hidden_error`` (one pass: the error uses the row before its step); ``P(label)``.

    ``fast_dot`` (a compile-time constant): the reassociated dot product. ``sigmoid_table``:
    None, the exact sigmoid; the ablation kernel's gensim table, read inside +-SATURATED.
    """
    if fast_dot:
        score = dot_row_reassociated(scratch.hidden, weights.output_vectors, row)
    else:
        score = dot_row(scratch.hidden, weights.output_vectors, row)
    error, probability = logistic(score, label)
    saturated = score <= -SATURATED or score >= SATURATED
    if sigmoid_table is not None and not saturated:
        scale = sigmoid_table.shape[0] / (2.0 * SATURATED)
        error = label - np.float64(sigmoid_table[int((score + SATURATED) * scale)])
    # skip_saturated, as gensim: no step for this row, nothing to the hidden error
    if steps.learn and not (steps.skip_saturated and saturated):
        output_vectors, hidden = weights.output_vectors, scratch.hidden
        hidden_error = scratch.hidden_error
        step = np.float32(error) * alpha
        for c in range(hidden.shape[0]):
            output_value = output_vectors[row, c]
            hidden_error[c] += step * output_value
            output_vectors[row, c] = output_value + step * hidden[c]
    return probability


@njit(**_STEP)
def negative_sampling_output(weights, noise, scratch, centre, alpha, state, steps, loss,
                             fast_dot, sigmoid_table):
    """The centre's output row (label 1), then ``negative`` noise words drawn from ``state``
    (label 0; a draw of the centre itself is skipped, as in word2vec). ``(state, loss)``."""
    for d in range(noise.negative + 1):
        if d == 0:
            row, label = centre, 1
        else:
            state = next_state(state)
            row = draw_noise_word(noise.cumulative, noise.guide, noise.guide_shift, state)
            if row == centre:
                continue
            label = 0
        loss = add_probability(loss, train_output_row(weights, scratch, row, label, alpha, steps,
                                                      fast_dot, sigmoid_table))
    return state, loss


@njit(**_STEP)
def hierarchical_softmax_output(weights, tree, scratch, centre, alpha, steps, loss, fast_dot,
                                sigmoid_table):
    """The inner nodes on the centre's Huffman path, root first, each trained towards
    ``1 - code``; the loss is the centre's exact negative log-likelihood."""
    for d in range(tree.code_lengths[centre]):
        row = np.int64(tree.points[centre, d])
        label = 1 - np.int64(tree.codes[centre, d])
        loss = add_probability(loss, train_output_row(weights, scratch, row, label, alpha, steps,
                                                      fast_dot, sigmoid_table))
    return loss


@njit(**_STEP)
def update_inputs(weights, rows, scratch, window, relu):
    """Add ``hidden_error`` to every input row of the window (relu: masked, and to the bias).
    A row that is there twice gets both steps."""
    input_vectors, hidden_error = weights.input_vectors, scratch.hidden_error
    dim = input_vectors.shape[1]
    if relu:  # back through the ReLU: b1 and the inputs get the masked error
        for c in range(dim):
            if scratch.hidden[c] <= 0.0:
                hidden_error[c] = 0.0
            weights.hidden_bias[c] += hidden_error[c]
    if rows is None:
        for j in range(window.first, window.last):
            if j != window.centre:
                word = scratch.kept_words[j]
                for c in range(dim):
                    input_vectors[word, c] += hidden_error[c]
    else:
        for k in range(window.n_context):
            input_row = scratch.context_rows[k]
            for c in range(dim):
                input_vectors[input_row, c] += hidden_error[c]


@njit(**_STEP)
def train_example(weights, noise, tree, rows, steps, scratch, n_kept, centre, rate, state, loss,
                  fast_dot, sigmoid_table):
    """One example: the kept word ``centre`` (an index into the scratch's kept words) and its
    window. ``(state, trained, loss)``; not trained when the window has no context.

    ``noise`` or ``tree`` is None (the objective), and ``rows`` is None for one row per word:
    numba compiles away a branch that only a None argument's ``is None`` test decides (so they
    are separate arguments, and each is tested against None where it is used).
    """
    if rows is not None and centre + steps.C + 1 < n_kept:
        # A word's n-gram rows are scattered over the buckets (a cache miss each): load those
        # of the word that enters the windows next while this example trains.
        prefetch_rows(weights, rows, scratch.kept_words, centre + steps.C + 1, centre + steps.C + 2)
    state, first, last = draw_window(state, centre, n_kept, steps)
    n_context = gather_context(rows, scratch, centre, first, last)
    trained = n_context > 0
    if trained:
        window = Window(centre, first, last, n_context)
        hidden_layer(weights, rows, scratch, window, steps.relu)
        for c in range(scratch.hidden_error.shape[0]):
            scratch.hidden_error[c] = 0.0
        offset = scratch.kept_positions[centre] - rate.begin
        alpha = np.float32(rate.alpha_start + rate.per_position * offset)
        word = scratch.kept_words[centre]
        if noise is not None:
            state, loss = negative_sampling_output(weights, noise, scratch, word, alpha, state,
                                                   steps, loss, fast_dot, sigmoid_table)
        if tree is not None:
            loss = hierarchical_softmax_output(weights, tree, scratch, word, alpha, steps, loss,
                                               fast_dot, sigmoid_table)
        if steps.learn:
            update_inputs(weights, rows, scratch, window, steps.relu)
    return state, trained, loss


# ---------------------------------------------------------------------------------------------
# The kernel
# ---------------------------------------------------------------------------------------------

def _compile(fast_dot: bool, sigmoid_table: np.ndarray | None, sources: str):
    """The kernel with the dot product and sigmoid given, compiled on first call and cached on
    disk (numba's cache, keyed by the closure's values).

    numba checks a cached function against its own file only, while this kernel compiles in the
    code of :mod:`~cbow.models.word2vec.rng` and :mod:`~cbow.models.word2vec.simd` too:
    ``sources``, a digest of all three files, is one of the closure's values, so an edit to
    any of them compiles the kernel afresh.

    It is compiled without numba's reference counting (``_nrt=False``): each step an example is
    made of would otherwise count a reference to every array of the records it is given (an
    atomic add each, many per example), and the kernel allocates nothing (its caller lends it
    the arrays, :class:`~cbow.models.word2vec.records.Scratch` included, for the call).
    """

    @njit(nogil=True, cache=True, _nrt=False)
    def train_piece(weights, text, noise, tree, rows, steps, piece, rng_state, stop_flag, scratch):
        """Train the kept centres of ``[piece.begin, piece.end)`` from generator ``rng_state``.

        ``noise`` or ``tree``: the objective's tables, the other None; ``rows``: a row table, or
        None for one row per word. ``stop_flag`` (1,) int32: read at each sentence piece and
        every :data:`STOP_CHECK_EVERY` centres; when it is not 0 the call returns, having
        trained ``[begin, begin + words)`` (a call from there with the returned state and the
        same schedule continues exactly). ``scratch``: the call's buffers. Returns ``(state,
        words, effective_words, examples, loss)``.
        """
        sources  # noqa: B018  (a closure value: part of the cache key)
        per_position = ((piece.alpha_end - piece.alpha_start)
                        / max(1, piece.schedule_end - piece.schedule_begin))
        rate = Rate(piece.alpha_start, per_position, piece.schedule_begin)
        state, loss = np.uint64(rng_state), Loss(0.0, 1.0)
        effective_words, examples = 0, 0
        reached = piece.end  # the centres [begin, reached) are trained (less when stopped)
        position = max(piece.begin, 0)
        while position < piece.end:
            if stop_flag[0] != 0:
                reached = position
                break
            start, stop = sentence_piece(text, position)
            n_kept = gather_kept_words(text, start, stop, scratch)
            stop = min(stop, piece.end)
            first, last = centres_between(scratch.kept_positions, n_kept, position, stop)
            if rows is not None:  # the rows of the first windows' words (see train_example)
                prefetch_rows(weights, rows, scratch.kept_words, 0, min(steps.C + 1, n_kept))
            for chunk in range(first, last, STOP_CHECK_EVERY):
                if chunk > first and stop_flag[0] != 0:
                    reached = scratch.kept_positions[chunk]  # a call from it continues
                    break
                for centre in range(chunk, min(chunk + STOP_CHECK_EVERY, last)):
                    effective_words += 1
                    state, trained, loss = train_example(
                        weights, noise, tree, rows, steps, scratch, n_kept, centre, rate, state,
                        loss, fast_dot, sigmoid_table)
                    examples += trained
            if reached < piece.end:
                break
            position = stop
        words = max(reached - max(piece.begin, 0), 0)
        return state, words, effective_words, examples, loss.total - math.log(loss.product)

    return train_piece


def _digest(*modules: str) -> str:
    here = Path(__file__).parent
    return hashlib.sha1(b"".join((here / name).read_bytes() for name in modules)).hexdigest()


_KERNELS = {(fast_dot, table): _compile(fast_dot, GENSIM_SIGMOID_TABLE if table else None,
                                        _digest("rng.py", "simd.py", "kernels.py"))
            for fast_dot in (False, True) for table in (False, True)}


def kernel(fast_dot: bool = False, sigmoid_table: bool = False):
    """The compiled kernel: ``kernel(...)(weights, text, noise, tree, rows, steps, piece,
    rng_state, stop_flag, scratch) -> (state, words, effective_words, examples, loss)``.

    ``fast_dot``: the reassociated dot product (``train.fast_dot``); ``sigmoid_table``: gensim's
    1,000-entry sigmoid table inside +-6 instead of the exact function (an ablation only); as
    :class:`~cbow.models.word2vec.driver.StepRules` names them.
    """
    return _KERNELS[bool(fast_dot), bool(sigmoid_table)]
