"""Continued training: a new run that starts from another run's weights (``--init-from``).

A run started from RUN (a run folder, whose newest readable checkpoint is used, or a
checkpoint file) trains on its own corpus with RUN's vocabulary grown by that corpus's words
(those that pass ``vocab.min_count`` and ``vocab.max_size``, in its ``vocab.order``):
:meth:`cbow.data.vocab.Vocabulary.extended`. RUN's words keep their ids, so their rows; each
objective grows its arrays for the new words (its ``grown`` method), drawing their rows as it
draws a new model's. Counts add up (RUN's plus the new corpus's), as gensim's
``build_vocab(update=True)`` adds them: the noise distribution, the Huffman tree and
subsampling see the merged counts.

The prepared corpus keeps its own ids (the cache is shared with runs that do not continue
anything); this run's ids are those mapped through one look-up table, chunk by chunk, into the
run folder's ``ids.npy`` (:func:`renumbered`).

The run records where it came from (:meth:`Origin.record`: the checkpoint's path, step and
SHA-256) as ``init_from`` in its ``config.yaml`` and in every checkpoint's meta. A resume of
the run continues from its own checkpoints and never reads RUN again; given an ``init_from``,
it checks that it names the run's origin.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np

from cbow.models import checkpoint as ckpt
from cbow.config import Config, declarations, run_identity
from cbow.errors import InputError, TrainingError
from cbow.io import atomic_writer
from cbow.data.vocab import Vocabulary
from cbow.training.run import RunFolder, non_finite_word

if TYPE_CHECKING:
    from cbow.data.training_data import TrainingData

__all__ = ["Origin", "carry_over", "check_outside", "find_origin", "check_carried",
           "check_same_origin", "renumbered", "origin_path"]

#: Settings an origin's weights must share with the new run: the arrays' shapes and meaning
#: depend on them (the word axis apart). The objective and the vector size, then what each
#: registered family declares (:attr:`cbow.config.rules.Declaration.must_match`), compared
#: whichever objective trains.
MUST_MATCH = ("model.objective", "model.N",
              *(dotted for declared in declarations() for dotted in declared.must_match))
#: Settings that may differ, but then the two corpora may spell a word differently: noted.
SPELLING = ("tokenizer", "prepare.lowercase")
#: Token ids renumbered at a time (16 MiB of uint32 in, as much out).
CHUNK = 1 << 22


@dataclass(frozen=True)
class Origin:
    """The checkpoint a run starts from, and its SHA-256 (which the run records)."""

    checkpoint: ckpt.Checkpoint
    sha256: str

    @property
    def vocab(self) -> Vocabulary:
        return self.checkpoint.vocab

    @property
    def step(self) -> int:
        return int(self.checkpoint.meta.get("step", 0))

    def record(self) -> dict:
        """What ``config.yaml`` and the checkpoints keep: ``{path, step, sha256}``."""
        return {"path": str(self.checkpoint.path.resolve()), "step": self.step,
                "sha256": self.sha256}


def origin_path(init_from: str | Path | Mapping) -> Path:
    """The path an ``init_from`` names (a path, or a record's ``path``)."""
    return Path(init_from["path"] if isinstance(init_from, Mapping) else init_from)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_outside(init_from: str | Path | Mapping, out_dir: str | Path) -> None:
    """Refuse an ``init_from`` inside the run folder, which a new run would overwrite."""
    path, out = origin_path(init_from).resolve(), Path(out_dir).resolve()
    if path == out or out in path.parents:
        raise InputError(f"init_from {str(origin_path(init_from))!r} is inside this run's own "
                         f"folder {out_dir}; train into a new folder (--out)")


def find_origin(init_from: str | Path | Mapping, log=None) -> Origin:
    """The checkpoint ``init_from`` names: a run folder's newest readable one, or a file.

    A record (``{path, step, sha256}``, as a run's ``config.yaml`` keeps it) names a file
    whose SHA-256 must still be the recorded one.
    """
    path = origin_path(init_from)
    given = f"init_from {str(path)!r}"
    if not path.exists():
        raise InputError(f"{given}: no such run folder or checkpoint file")
    if path.is_dir():
        # Read only: another run's unreadable checkpoints are skipped, never moved.
        skipped: list[str] = []
        found = ckpt.load_latest(RunFolder(path).checkpoint_dir, on_skip=lambda p, err: (
            skipped.append(f"{p} ({err.reason}{non_finite_word(p, err)})")))
        if found is None:
            why = f": {'; '.join(skipped)}" if skipped else ""
            raise InputError(f"{given} is not a run folder: it holds no readable checkpoint "
                             f"({path / 'checkpoints'}/step_*.npz){why}; give a run folder or "
                             f"a checkpoint file")
        if skipped and log is not None:
            log(f"warning: {given}: starting from {found.path}; its newer checkpoints cannot be "
                f"read: {'; '.join(skipped)}")
    else:
        try:
            found = ckpt.Checkpoint(path, *ckpt.load_checkpoint(path))
        except ckpt.CheckpointError as err:
            raise InputError(f"{given} is not a run folder nor a cbow checkpoint file that can "
                             f"be read ({err.reason}{non_finite_word(path, err)}); give a run "
                             f"folder or a checkpoint written by cbow train") from None
    if found.vocab is None:
        raise InputError(f"{given}: {found.path} holds no vocabulary; give a checkpoint "
                         f"written by cbow train")
    sha256 = file_sha256(found.path)
    expected = init_from.get("sha256") if isinstance(init_from, Mapping) else None
    if expected is not None and expected != sha256:
        raise InputError(f"{given}: {found.path} changed since the run was started from it "
                         f"(sha256 {sha256[:12]}..., recorded {str(expected)[:12]}...); give "
                         f"the checkpoint it was started from")
    return Origin(found, sha256)


def check_carried(cfg: Config, origin: Origin, log=None) -> None:
    """Refuse, in one line, weights this config cannot continue (:data:`MUST_MATCH`); tell
    ``log`` of a :data:`SPELLING` setting that differs."""
    meta = origin.checkpoint.meta
    saved = dict(meta.get("run_identity", {}))
    saved["model.objective"] = meta["objective"]
    now = run_identity(cfg)
    now["model.objective"] = cfg.model.objective
    if saved["model.objective"] != now["model.objective"]:
        raise InputError(f"cannot start from {origin.checkpoint.path}: it holds a "
                         f"{saved['model.objective']} model and this config trains "
                         f"{now['model.objective']}; set model.objective: "
                         f"{saved['model.objective']}, or train without --init-from")
    for dotted in MUST_MATCH[1:]:
        if dotted in saved and saved[dotted] != now[dotted]:
            raise InputError(f"cannot start from {origin.checkpoint.path}: its {dotted} is "
                             f"{saved[dotted]!r}, this config's {now[dotted]!r}; set {dotted}: "
                             f"{saved[dotted]!r}, or train without --init-from")
    for dotted in SPELLING:
        if dotted in saved and saved[dotted] != now[dotted] and log is not None:
            log(f"note: {origin.checkpoint.path} was trained with {dotted} {saved[dotted]!r}, "
                f"this corpus is read with {now[dotted]!r}: a word may be spelt differently in "
                f"the two vocabularies, and counted as new")


def check_same_origin(init_from, record: dict | None, path: Path) -> None:
    """Refuse to resume the checkpoint ``path`` (whose meta's ``init_from`` is ``record``)
    with an ``init_from`` that names another origin; none given is fine (nothing is re-read)."""
    if init_from is None:
        return
    if record is None:
        raise TrainingError(f"cannot resume from {path}: that run did not start from "
                            f"{str(origin_path(init_from))!r}; resume without --init-from, or "
                            f"train into a new out_dir")
    if isinstance(init_from, Mapping):
        same = init_from.get("sha256", record["sha256"]) == record["sha256"]
    else:
        given, recorded = Path(init_from).resolve(), Path(record["path"])
        # a run folder names its checkpoints; a file is compared by content
        same = (recorded.parent.parent == given if given.is_dir() else
                given.is_file() and file_sha256(given) == record["sha256"])
    if not same:
        raise TrainingError(f"cannot resume from {path}: that run started from "
                            f"{record['path']} (step {record['step']}), not from "
                            f"{str(origin_path(init_from))!r}; resume without --init-from, or "
                            f"train into a new out_dir")


def renumbered(ids: np.ndarray, table: np.ndarray, path: Path, chunk: int = CHUNK) -> np.ndarray:
    """``table[ids]`` written to the ``.npy`` file ``path`` chunk by chunk, mapped read-only.

    Memory holds a chunk, not the corpus; the file is written atomically (cbow.io).
    """
    n = ids.shape[0]
    dtype = np.dtype("<u4")
    with atomic_writer(path) as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                "shape": (n,)})
        for start in range(0, n, chunk):
            f.write(table[ids[start:start + chunk]].astype(dtype, copy=False).tobytes())
    return np.load(path, mmap_mode="r")


def carry_over(cfg: Config, data: "TrainingData", found: ckpt.Checkpoint | None,
               ids_path: Path, log) -> tuple[Origin | None, dict | None, "TrainingData"]:
    """What a run continues: ``(origin, record, data)``.

    ``data`` (a :class:`cbow.training.loop.TrainingData` over the corpus's own vocabulary) is
    returned as it is for a run that continues nothing; otherwise over the grown vocabulary,
    its ids renumbered into ``ids_path``. ``origin`` is the checkpoint a new run starts from
    (None when resuming: the run's own checkpoint ``found`` holds its grown vocabulary and
    weights), ``record`` the run's ``init_from`` record (None for a run that continues
    nothing).
    """
    if found is not None:
        record = found.meta.get("init_from")
        check_same_origin(cfg.init_from, record, found.path)
        if record is None:
            return None, None, data
        grown, table = found.vocab.extended(data.vocab)  # only the table: counts are kept
        if len(grown) != len(found.vocab):
            raise TrainingError(f"cannot resume from {found.path}: this corpus has "
                                f"{len(grown) - len(found.vocab):,} words its vocabulary lacks "
                                f"(the corpus changed); train into a new out_dir")
        log(f"this run started from {record['path']} (step {record['step']})")
        return None, record, replace(data, vocab=found.vocab,
                                     ids=renumbered(data.ids, table, ids_path))
    if cfg.init_from is None:
        return None, None, data
    origin = find_origin(cfg.init_from, log)
    check_carried(cfg, origin, log)
    vocab, table = origin.vocab.extended(data.vocab)
    log(f"starting from {origin.checkpoint.path} (step {origin.step}): "
        f"{len(origin.vocab):,} words carried, {len(vocab) - len(origin.vocab):,} new words "
        f"from this corpus, {len(vocab):,} in all")
    return origin, origin.record(), replace(data, vocab=vocab,
                                            ids=renumbered(data.ids, table, ids_path))
