"""Pictures of a training run: a labelled 2-D PCA scatter of chosen words, and the loss curve.

matplotlib is an optional extra (``pip install 'cbow[plot]'``), imported only when a picture is
drawn. Figures are drawn on matplotlib's Agg canvas directly, never through ``pyplot``: that works
without a display and leaves the backend of an interactive session (e.g. a notebook) alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from cbow.vectors.embeddings import Embeddings, readable
from cbow.errors import InputError, UserError
from cbow.io import atomic_writer
from cbow.vectors.pca import pca_project
from cbow.training.run import RunFolderError, load_embeddings, read_metrics_file

MATPLOTLIB_MISSING = ("matplotlib is needed for pictures: pip install 'cbow[plot]' "
                      "(or pip install matplotlib)")


class MatplotlibMissing(UserError, ImportError):
    """matplotlib is not installed; the message says how to install it."""


def plot_words(embeddings: Embeddings, words: Sequence[str], out: str | Path,
               title: str = "") -> Path:
    """Draw ``words`` at their first two principal components, each point labelled.

    Parameters
    ----------
    embeddings : Embeddings
        Vectors of shape ``(V, N)``, ``N >= 2``.
    words : sequence of str
        At least two distinct words, all in ``embeddings`` (repeats are drawn once).
    out : str or Path
        Picture file; its suffix picks the format (``.png``, ``.svg``, ``.pdf``, ...).
    title : str

    Returns
    -------
    Path
        ``out``, written atomically.

    Raises
    ------
    KeyError
        Naming every unknown word; nothing is written.
    MatplotlibMissing
        If matplotlib is not installed.
    """
    return _save(words_figure(embeddings, words, title), out)


def words_figure(embeddings: Embeddings, words: Sequence[str], title: str = "",
                 figsize: tuple[float, float] = (7, 6), fontsize: float | None = None):
    """The matplotlib ``Figure`` that :func:`plot_words` saves; ``fontsize`` of the labels."""
    words = list(dict.fromkeys(words))
    embeddings.check_words(words)
    if len(words) < 2:
        raise InputError(f"a PCA picture needs at least 2 distinct words; got {words}")
    if embeddings.vector_size < 2:
        raise InputError(f"a 2-D PCA needs vectors of at least 2 dimensions; these have "
                         f"{embeddings.vector_size}")
    points = pca_project(embeddings[words], n_components=2)  # (len(words), 2)

    fig = _new_figure(figsize=figsize)
    ax = fig.add_subplot()
    ax.scatter(points[:, 0], points[:, 1], s=18)
    for word, (x, y) in zip(words, points):
        # A small offset in points (not data units) keeps labels off their dots at any scale.
        ax.annotate(readable(word), (x, y), xytext=(4, 4), textcoords="offset points",
                    fontsize=fontsize, parse_math=False)  # a word is text: "$" starts no formula
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(title)
    return fig


def plot_run_words(run: str | Path, words: Sequence[str], out: str | Path,
                   which: str | None = None) -> Path:
    """:func:`plot_words` for the final checkpoint of a run (or a checkpoint file).

    The title names the run, the checkpoint and ``which`` vectors are shown.
    """
    embeddings = load_embeddings(run, which=which)
    which = embeddings.which
    title = f"{_run_name(run)} ({Path(embeddings.source).stem}): PCA of {which} word vectors"
    return plot_words(embeddings, words, out, title=title)


def plot_loss(run: str | Path, out: str | Path) -> Path:
    """Training loss and held-out ``val_loss`` against the step, with the unigram baseline.

    When the run scored benchmarks (``eval.pairs``, ``eval.analogies``), a second panel
    shows each figure against the step.

    Parameters
    ----------
    run : str or Path
        A run folder, or its ``metrics.jsonl``.
    out : str or Path
        Picture file, written atomically.

    Returns
    -------
    Path
        ``out``.
    """
    return _save(loss_figure(run), out)


def loss_figure(run: str | Path, rows: list[dict] | None = None):
    """The matplotlib ``Figure`` that :func:`plot_loss` saves; ``rows``: the run's metrics
    rows when already read (:func:`~cbow.training.run.read_metrics_file`)."""
    if rows is None:
        rows = read_metrics_file(run, warn_cut=True)
    if not rows:
        raise RunFolderError(f"{run} holds no measurements yet")
    names = list(dict.fromkeys(name for r in rows for name in r.get("benchmarks", {})))
    fig = _new_figure(figsize=(8, 8 if names else 5))
    ax = fig.add_subplot(2, 1, 1) if names else fig.add_subplot()
    trained = [r for r in rows if r["loss"] is not None]  # step 0 has a held-out loss only
    ax.plot([r["step"] for r in trained], [r["loss"] for r in trained], lw=1,
            label="training loss (batch)")
    held_out = [r for r in rows if r.get("val_loss") is not None]
    if held_out:
        ax.plot([r["step"] for r in held_out], [r["val_loss"] for r in held_out], "o-", ms=4,
                label="held-out loss")
    baseline = next((r["unigram_val_loss"] for r in rows
                     if r.get("unigram_val_loss") is not None), None)
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1,
                   label=f"held-out loss of word frequencies alone ({baseline:.2f})")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss (nats)")
    ax.set_title(f"{_run_name(run)}: loss")
    ax.grid(alpha=0.3)
    ax.legend()
    if names:
        bench = fig.add_subplot(2, 1, 2, sharex=ax)
        for name in names:
            points = [(r["step"], r["benchmarks"][name]) for r in rows
                      if r.get("benchmarks", {}).get(name) is not None]
            if points:
                bench.plot(*zip(*points), "o-", ms=4, label=name)
        bench.set_xlabel("step")
        bench.set_ylabel("benchmark score")
        bench.grid(alpha=0.3)
        bench.legend()
    return fig


def _run_name(run: str | Path) -> str:
    run = Path(run).resolve()
    if run.is_file():  # a checkpoint or metrics file: name the run folder it belongs to
        run = run.parent.parent if run.parent.name == "checkpoints" else run.parent
    return run.name


def _new_figure(figsize: tuple[float, float]):
    try:
        # matplotlib itself first: a submodule cached in sys.modules would skip the parent check.
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise MatplotlibMissing(MATPLOTLIB_MISSING) from err
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas renders without a display
    return fig


def _save(fig, out: str | Path) -> Path:
    out = Path(out)
    image_format = out.suffix.lstrip(".").lower() or "png"
    supported = fig.canvas.get_supported_filetypes()
    if image_format not in supported:
        raise InputError(f"cannot write a .{image_format} picture ({out}); use one of "
                         f"{', '.join('.' + s for s in sorted(supported))}")
    with atomic_writer(out) as f:
        fig.savefig(f, format=image_format, dpi=150)
    return out
