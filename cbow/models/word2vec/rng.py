"""Random numbers: the generators' seeds (Python) and the draws the kernels make (compiled).

- **Draws** come from word2vec's 64-bit linear congruential generator ``state = state *
  25214903917 + 11 (mod 2**64)``, one state per worker, passed into a kernel and returned by it.
  Window shrinking and noise words use bits 16..47 of the state (its low bits have short
  periods), mapped to a range with a multiply and a shift instead of ``%``.
- **Subsampling** keeps or drops the word at a position by a hash of ``(subsample_key,
  position)`` (SplitMix64's mixer) instead of the sequential generator, so the same position
  is kept or dropped whichever call, worker or range boundary looks at it: a worker sees, across
  the edge of its piece, exactly the words its neighbour keeps, and ``[0, k)`` then ``[k, n)``
  trains as ``[0, n)``. Each epoch has its own key (:func:`subsample_key`).
- **Seeds**: each worker's first state and each epoch's key are SplitMix64 mixes of ``(seed,
  epoch, lane)``, so a run's randomness is fixed by its seed.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# word2vec's linear congruential generator (Java's constants), modulo 2**64.
LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)

_LOW_32_BITS = np.uint64(0xFFFFFFFF)
_SHIFT_16 = np.uint64(16)
_SHIFT_32 = np.uint64(32)
# SplitMix64's constants (Steele, Lea and Flood 2014), for the position hash and for seeding.
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_MULTIPLIER_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_MULTIPLIER_2 = np.uint64(0x94D049BB133111EB)
_INV_2_POW_53 = 1.0 / 9007199254740992.0
_MASK_64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# Seeds (Python)
# ---------------------------------------------------------------------------------------------

def _splitmix64(value: int) -> int:
    z = (value + 0x9E3779B97F4A7C15) & _MASK_64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK_64
    return z ^ (z >> 31)


def _mix(*values: int) -> int:
    state = 0
    for value in values:
        state = _splitmix64(state ^ (int(value) & _MASK_64))
    return state


def worker_rng_states(seed: int, workers: int, epoch: int = 0) -> np.ndarray:
    """The initial generator state of each worker, ``(workers,)`` uint64, from (seed, epoch)."""
    return np.array([_mix(seed, epoch, 1 + worker) for worker in range(workers)], np.uint64)


def resize_rng_states(states, workers: int) -> np.ndarray:
    """The generator states of ``workers`` lanes continuing from ``states`` (another count).

    A run resumed with another number of workers (``train.workers`` changed, or ``null`` on a
    machine with another number of cores) keeps lanes ``0 .. min(old, new) - 1`` as they were
    saved; each new lane ``i >= old`` starts from SplitMix64 of (the last saved state, ``i``),
    so the same checkpoint and count always give the same states. The same count returns the
    states unchanged: one worker resumed with one worker stays bit for bit.
    """
    states = np.asarray(states, dtype=np.uint64).reshape(-1)
    if states.size == 0 or not (isinstance(workers, (int, np.integer)) and workers >= 1):
        raise ValueError(f"need at least one saved state and workers >= 1; got {states.size} "
                         f"states and workers={workers!r}")
    last = int(states[-1])
    return np.array([int(states[i]) if i < states.size else _mix(last, i)
                     for i in range(workers)], np.uint64)


def subsample_key(seed: int, epoch: int = 0) -> np.uint64:
    """The key of the subsampling hash for one epoch (another epoch drops other words)."""
    return np.uint64(_mix(seed, epoch, 0))


# ---------------------------------------------------------------------------------------------
# Draws (compiled into the kernels)
# ---------------------------------------------------------------------------------------------

@njit(nogil=True)
def next_state(state):
    """The generator's next state."""
    return state * LCG_MULTIPLIER + LCG_INCREMENT


@njit(nogil=True)
def uniform_32(state):
    """Bits 16..47 of a generator state: a uniform 32-bit integer."""
    return (state >> _SHIFT_16) & _LOW_32_BITS


@njit(nogil=True)
def below(state, bound):
    """An integer in ``[0, bound)`` from bits 16..47 of a generator state (multiply and shift)."""
    return uniform_32(state) * np.uint64(bound) >> _SHIFT_32


@njit(nogil=True)
def position_uniform(key, position):
    """A uniform float64 in [0, 1) that depends only on ``key`` and ``position`` (SplitMix64)."""
    z = key + (np.uint64(position) + np.uint64(1)) * _GOLDEN_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_MULTIPLIER_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_MULTIPLIER_2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * _INV_2_POW_53
