"""The learning rate and the length of a run, as functions of the config and the step.

The rate is a function of the step alone, so that a resumed run computes the same numbers as
an uninterrupted one.
"""
from __future__ import annotations

import math

from cbow.config import Config

__all__ = ["alpha_at", "loss_ceiling", "step_rates", "total_steps"]


def alpha_at(cfg: Config, step: int, last_step: int | None = None) -> float:
    """Learning rate of step ``step`` (0-based) of a run of ``last_step`` steps.

    ``step`` schedule: alpha * decay ** (step // decay_every). ``linear``: from alpha at step 0
    to min_alpha at ``last_step``, as word2vec decays it over the whole run.
    """
    t = cfg.train
    if t.schedule == "linear":
        return t.alpha + (t.min_alpha - t.alpha) * min(step / max(last_step, 1), 1.0)
    return t.alpha * t.decay ** (step // t.decay_every)


def total_steps(cfg: Config, steps_per_epoch: int) -> int:
    """Steps of the whole run: ``train.steps``, or ``train.epochs`` worth, whichever is fewer."""
    t = cfg.train
    candidates = []
    if t.steps is not None:
        candidates.append(t.steps)
    if t.epochs is not None:
        candidates.append(math.ceil(t.epochs * steps_per_epoch))
    return min(candidates)


def loss_ceiling(V: int) -> float:
    """The largest loss a run may show before it counts as diverged: 10 ln V nats.

    A model that predicts uniformly scores ln V; the course's untrained model about 1.2 ln V.
    Ten times ln V is far beyond anything a learning run passes through, and far below what a
    run whose learning rate blew up reaches while its numbers are still finite.
    """
    return 10 * math.log(max(V, 2))


def step_rates(cfg: Config, step: int, last_step: int) -> tuple[float, float]:
    """The learning rate at the start and at the end of step ``step``.

    The ``linear`` schedule falls across the step to the next step's rate (word2vec's steps
    use both ends); the ``step`` schedule holds its rate for the whole step.
    """
    alpha = alpha_at(cfg, step, last_step)
    return alpha, alpha if cfg.train.schedule == "step" else alpha_at(cfg, step + 1, last_step)
