"""The softmax objective's settings: the keys only its feed reads, and what it requires.

Imports neither numpy nor the model: the config reads this declaration (through the entry of
:data:`cbow.registry.OBJECTIVES`) to compose its keys and checks.
"""
from __future__ import annotations

from cbow.config.rules import BOOLEAN, Declaration, key, one_of

__all__ = ["DECLARATION"]

DECLARATION = Declaration(
    family="softmax",
    keys={
        "train.batcher": key("default", one_of("default", "course"),
                             "`default`: every window exactly once per epoch, last partial batch "
                             "kept; `course`: the course's endless batcher, which drops one "
                             "window after each batch", identity=True, after="train.seed",
                             exclusive="the course batcher feeds the softmax objective only"),
        "train.shuffle": key(True, BOOLEAN, "shuffle the windows each epoch (`default` batcher), "
                             "seeded by `(seed, epoch)`", identity=True),
    },
    # W1, W2, b1 and b2 are float64 or float32 as train.dtype says
    must_match=("train.dtype",),
    note="the softmax objective is the course's model",
)
