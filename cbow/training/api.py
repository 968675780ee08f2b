"""``cbow.train``: a run in one call, from a notebook or a script, as short as gensim's.

::

    model = cbow.train(sentences, N=100, C=5, min_count=5, epochs=5, workers=2)
    model.vectors.most_similar("king")
    model.save("runs/mine")

The config is built as ``cbow train`` builds it (:func:`cbow.config.load_config`): a starting
config (``config=``, a bundled config's name or a YAML file; :data:`DEFAULT_CONFIG` unless
given), then ``set=`` (keys by dotted name), then the keywords (short names: ``min_count`` is
``vocab.min_count``, ``workers`` every worker count; :func:`cbow.config.short_names`). The
corpus is anything ``corpus:`` takes, or token lists, written once as a one-sentence-per-line
file (:mod:`cbow.training.scratch`). Training is :func:`cbow.training.loop.train`'s, and a
:class:`TrainedModel` comes back: the vectors, the metrics and the run folder (a temporary one
unless ``out=`` names one; :meth:`TrainedModel.save` keeps it).
"""
from __future__ import annotations

import dataclasses
import numbers
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from cbow.config import Config, load_config, run_identity, to_dict
from cbow.errors import InputError
from cbow.io import atomic_write_bytes
from cbow.training import loop, scratch
from cbow.training.result import Result
from cbow.training.run import RunFolder, RunFolderError

__all__ = ["DEFAULT_CONFIG", "TrainedModel", "train"]

#: The starting config of a call that names none: ``configs/word2vec.yaml``, word2vec's CBOW
#: with negative sampling as the C tool and gensim train it (N = 100, C = 5, 5 noise words,
#: subsampling 1e-3, 5 epochs, a linear learning rate from 0.025).
DEFAULT_CONFIG = "word2vec"


def _token_settings() -> list[tuple[str, Any]]:
    """What a corpus of token lists sets: the tokens are used as given (split at whitespace,
    case kept: ``lowercase=True`` still lower-cases them), and their prepared copy is kept in
    the temporary area, with the token file (``cache_dir=`` to keep it elsewhere)."""
    return [("tokenizer", "whitespace"), ("prepare.lowercase", False),
            ("prepare.cache_dir", str(scratch.scratch_root() / "prepared"))]


def train(corpus=None, *, config: str | os.PathLike | None = None, set: dict | None = None,
          out: str | os.PathLike | None = None, resume: bool | str = False,
          overwrite: bool = False, init_from=None, quiet: bool = False,
          log: Callable[[str], None] | None = print, **keys) -> "TrainedModel":
    """Train CBOW embeddings in one call; the trained model, its metrics and its run folder.

    Parameters
    ----------
    corpus
        What the config's ``corpus`` takes (a text file, a folder, a glob, a URL, a list of
        these; or ``"shakespeare"``), or an iterable of token lists (a list of lists, a
        generator, gensim's ``LineSentence``), read once and streamed to a temporary file.
        None: the config's corpus. A :class:`~cbow.config.Config` instead trains that config
        as it is (into its ``out_dir``, or ``out``), with no other settings.
    config : str, path or Config, optional
        The starting config: a bundled config's name (``"word2vec"``, ``"fasttext"``, ...), a
        YAML file, or a :class:`~cbow.config.Config`. Default :data:`DEFAULT_CONFIG`.
    set : dict, optional
        Keys by dotted name, ``{"train.alpha": 0.05}``; applied before the keywords.
    out : str or path, optional
        The run folder. Without it, a new folder in the temporary area, deleted when the
        model is (unless the run stopped before its end: ``resume=True`` finds it again).
    resume : bool or "auto"
        Continue the run of this call's settings from its newest checkpoint: in ``out``, or
        the temporary folder of the newest stopped run with the same settings. ``"auto"``
        starts a new run when there is none.
    overwrite, init_from, quiet, log
        As :func:`cbow.training.loop.train`.
    **keys
        Config keys by short name (``N=100``, ``min_count=5``, ``workers=2``, ``epochs=5``).

    A stop signal (Ctrl-C, the notebook's interrupt) saves a checkpoint and returns the model
    trained so far (``model.interrupted``); the same call with ``resume=True`` continues it.
    A bad name or value is one :class:`~cbow.config.ConfigError` naming every problem.
    """
    if log is None:
        log = _silent
    if isinstance(corpus, Config):
        if keys or set or config is not None:
            raise InputError("cbow.train(cfg): a Config is trained as it is; to change it, "
                             "give it as config= with the corpus and keywords")
        cfg = corpus if out is None else dataclasses.replace(corpus, out_dir=os.fspath(out))
        return _run(cfg, None, resume, overwrite, init_from, quiet, log)
    values = _values(set or {}, "set[{name!r}]={value!r}") + _values(keys, "{name}={value!r}")
    named = {name for name, _, _ in values}
    if named & {"out_dir", "out"}:
        raise InputError("give the run folder as out=, not as a key")
    tokens = corpus is not None and not _is_paths(corpus)
    if tokens:
        given = next((v for n, v, _ in values if n == "tokenizer"), "whitespace")
        if given != "whitespace":
            raise InputError(f"tokenizer={given!r}: the corpus is token lists, already split; "
                             f"a tokenizer applies to text files")
        front = [(name, value, "the corpus of token lists") for name, value in _token_settings()]
        front.append(("corpus", "token lists", "the corpus of token lists"))
    elif corpus is not None:
        front = [("corpus", _plain(corpus), f"corpus={corpus!r}")]
    else:
        front = []
    if out is not None:
        front.append(("out_dir", os.fspath(out), f"out={out!r}"))
    if isinstance(config, Config):  # its settings, each section as an assignment
        front[:0] = [(name, value, "config=") for name, value in to_dict(config).items()]
        config = None
    elif config is None:
        config = DEFAULT_CONFIG
    cfg = load_config(config, values=[*front, *values])
    if not tokens:
        return _in_folder(cfg, out, resume, overwrite, init_from, quiet, log)
    with scratch.token_corpus(corpus) as path:
        cfg = dataclasses.replace(cfg, corpus=str(path))
        return _in_folder(cfg, out, resume, overwrite, init_from, quiet, log)


def _silent(message: str) -> None:
    pass


def _plain(value: Any) -> Any:
    """A Python value as the config holds it: paths as strings, tuples as lists, numpy's
    numbers as Python's."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
        return float(value)
    return value


def _values(given: dict, source: str) -> list[tuple[str, Any, str]]:
    if not isinstance(given, dict):
        raise InputError(f"set= takes a dict of dotted keys, e.g. set={{'train.alpha': 0.05}}; "
                         f"got {type(given).__name__}")
    return [(name, _plain(value), source.format(name=name, value=value))
            for name, value in given.items()]


def _is_paths(corpus) -> bool:
    """Whether ``corpus`` names text (a path, a name, a URL, a glob or a list of them) rather
    than holding token lists."""
    if isinstance(corpus, (str, os.PathLike)):
        return True
    if isinstance(corpus, (list, tuple)):
        return bool(corpus) and all(isinstance(c, (str, os.PathLike)) for c in corpus)
    if not hasattr(corpus, "__iter__"):
        raise InputError(f"corpus: a path, a list of paths or an iterable of token lists; "
                         f"got {type(corpus).__name__}")
    return False


def _in_folder(cfg: Config, out, resume, overwrite, init_from, quiet, log) -> "TrainedModel":
    """The run of ``cfg`` in ``out``, or in the temporary area: a new folder, or the folder of
    the stopped run that ``resume`` continues."""
    if out is not None:
        return _run(cfg, None, resume, overwrite, init_from, quiet, log)
    mode = loop._resume_mode(resume)
    stopped = scratch.stopped_runs(cfg) if mode != "no" else []
    if mode == "yes" and not stopped:
        raise RunFolderError(f"resume=True: no stopped run of these settings in "
                             f"{scratch.scratch_root() / 'runs'} (a run trained without out= "
                             f"is kept there only if it stopped before its end); call without "
                             f"resume, or with resume='auto' to start when there is none")
    folder = stopped[0] if stopped else scratch.new_run_folder(cfg)
    cfg = dataclasses.replace(cfg, out_dir=str(folder))
    run = scratch.ScratchRun.at(folder)
    try:
        model = _run(cfg, run, mode if stopped else "no", overwrite, init_from, quiet, log)
    except BaseException:
        if not scratch.has_checkpoint(folder):
            run.remove()
        raise
    return model


def _run(cfg: Config, temporary: scratch.ScratchRun | None, resume, overwrite, init_from,
         quiet: bool, log) -> "TrainedModel":
    result = loop.train(cfg, resume=resume, overwrite=overwrite, quiet=quiet, log=log,
                        init_from=init_from)
    if temporary is not None:
        temporary.keep(result.interrupted)
    model = TrainedModel(cfg, result, temporary)
    if result.interrupted:
        where = "" if temporary is None else " (kept in the temporary area)"
        log(f"{result.stop_note()}{where}; the same call with resume=True continues it")
    return model


class TrainedModel:
    """A trained run: its vectors (:attr:`vectors`), its metrics and its run folder (:attr:`path`).

    ``result`` is the trainer's :class:`~cbow.training.result.Result` (speeds, the stop
    signal, ...); ``config`` the run's :class:`~cbow.config.Config`.
    """

    def __init__(self, config: Config, result: Result,
                 temporary: scratch.ScratchRun | None = None):
        self.config = config
        self.result = result
        self._temporary = temporary
        self._vectors = None

    # ---- the vectors and the metrics
    @property
    def vectors(self):
        """The objective's default vectors (word2vec's input vectors, the full softmax's
        mean): an :class:`~cbow.vectors.embeddings.Embeddings`, a
        :class:`~cbow.vectors.subword.SubwordEmbeddings` for fastText."""
        if self._vectors is None:
            model = self.result.model
            self._vectors = model.embeddings(model.arrays(), self.result.vocab,
                                             model.VECTORS[0], run_identity(self.config),
                                             source=str(self.path))
        return self._vectors

    @property
    def history(self) -> list[dict]:
        """The rows of ``metrics.jsonl``: step, loss, learning rate, speed, and at each
        held-out evaluation ``val_loss`` (and ``benchmarks``)."""
        return self.result.history

    @property
    def val_loss(self) -> float | None:
        """The held-out loss at the last evaluation."""
        return self.result.val_loss_end

    @property
    def val_loss_start(self) -> float | None:
        """The held-out loss of the model before training."""
        return self.result.val_loss_start

    @property
    def unigram_val_loss(self) -> float | None:
        """The held-out loss of a unigram model of the training tokens (the baseline)."""
        return self.result.unigram_val_loss

    @property
    def benchmarks(self) -> dict:
        """The last evaluation's benchmark figures (``eval.pairs``, ``eval.analogies``)."""
        return self.result.benchmarks

    @property
    def step(self) -> int:
        return self.result.step

    @property
    def interrupted(self) -> bool:
        """Stopped before its end by a signal (Ctrl-C): ``resume=True`` continues it."""
        return self.result.interrupted

    # ---- the run folder
    @property
    def path(self) -> Path:
        """The run folder (checkpoints, ``metrics.jsonl``, ``config.yaml``, ``vocab.txt``)."""
        return Path(self.result.out_dir)

    @property
    def temporary(self) -> bool:
        """Whether the run folder is in the temporary area (deleted with the model)."""
        return self._temporary is not None

    def save(self, path: str | os.PathLike) -> Path:
        """Copy the run folder to ``path`` (a new folder, or an empty one), which the model
        then uses; a temporary run folder is deleted. Every ``cbow`` command reads the copy
        (``cbow similar PATH king``), and ``cbow.train(..., out=PATH, resume=True)`` continues
        it. The copy appears whole or not at all."""
        dest = Path(path).expanduser()
        if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
            raise InputError(f"{dest} exists; save the run into a new (or empty) folder")
        source = RunFolder(self.path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", suffix=".tmp",
                                          dir=dest.parent))
        try:
            with source.lock():  # nobody trains into it while it is copied
                shutil.copytree(source.path, temporary, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(RunFolder.LOCK))
            _set_out_dir(RunFolder(temporary).config_path, dest)
            if dest.exists():
                dest.rmdir()
            os.rename(temporary, dest)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        checkpoint = self.result.checkpoint
        if checkpoint is not None:
            checkpoint = dest / Path(checkpoint).relative_to(source.path)
        self.result = dataclasses.replace(self.result, out_dir=dest, checkpoint=checkpoint)
        self.config = dataclasses.replace(self.config, out_dir=str(dest))
        self._vectors = None
        if self._temporary is not None:
            self._temporary.remove()
            self._temporary = None
        return dest

    def summary(self) -> str:
        """What ``cbow train`` prints at the end: steps, speed, losses, figures, folder."""
        return self.result.summary()

    def __repr__(self) -> str:
        r = self.result
        loss = "n/a" if r.val_loss_end is None else f"{r.val_loss_end:.4f}"
        state = ", stopped before its end" if r.interrupted else ""
        return (f"TrainedModel({r.model.name}, V={len(r.vocab):,}, N={r.model.N}, step "
                f"{r.step}{state}, held-out loss {loss}, run folder {self.path}"
                f"{' (temporary)' if self.temporary else ''})")


def _set_out_dir(config_path: Path, out_dir: Path) -> None:
    """``config.yaml`` of a copied run with ``out_dir`` saying where the copy is."""
    if not config_path.is_file():
        return
    values = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    values["out_dir"] = str(out_dir)
    atomic_write_bytes(config_path, yaml.safe_dump(values, sort_keys=False).encode("utf-8"))
