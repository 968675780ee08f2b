"""A training run as one self-contained HTML page: ``cbow report RUN --out report.html``.

The page holds the run's config, the description of its prepared corpus (files, tokens, V),
the loss curves with the unigram baseline and the benchmark scores over training
(:func:`cbow.analysis.plot.loss_figure`), the nearest neighbours of a few frequent and a few
rare words, and a 2-D PCA map of the most frequent words
(:func:`cbow.analysis.plot.words_figure`). Pictures are PNG files embedded as ``data:`` URIs,
the style sheet is inline: the page needs no network and no other file, so it can be mailed or
attached as it is. Everything taken from the run (words, paths, config values) is HTML-escaped.

The run folder does not name its prepared corpus; its checkpoints record the corpus's
fingerprint (``corpus_sha256``), and the report looks for the prepared folder with that
fingerprint in the cache the run's config names (``prepare.cache_dir``, else the default).
"""
from __future__ import annotations

import base64
import html
import io
import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from cbow.vectors.embeddings import Embeddings, readable
from cbow.errors import InputError
from cbow.io import atomic_write_bytes
from cbow.training.run import (RunFolder, RunFolderError, checkpoint_meta, load_embeddings,
                               read_metrics_file)

#: How many words of each kind the report shows; a person reads them, so a handful.
FREQUENT_QUERIES = 6
RARE_QUERIES = 6
NEIGHBOURS = 8
MAP_WORDS = 60
BENCHMARK_ROWS = 12  # evaluations listed in the benchmark table (first, last, evenly between)

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1040px; padding: 1.5em 2em 3em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.2em 0.9em 0.2em 0; vertical-align: top; }
th { color: #555; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.neighbours td { padding-right: 1.2em; }
table.neighbours td:first-child { white-space: nowrap; }
.nb { white-space: nowrap; margin-right: 0.8em; }
.cos { color: #888; font-size: 0.85em; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
pre.config { column-width: 22em; column-gap: 2em; }
.note { color: #666; font-size: 0.9em; }
"""


def build_report(run: str | Path, which: str | None = None,
                 words: Sequence[str] | None = None) -> str:
    """The HTML page of the run folder ``run``, as text.

    Parameters
    ----------
    run : str or Path
        A training run folder (its newest readable checkpoint is used).
    which : str, optional
        Which vector set of the model (full softmax: ``mean``, ``w1``, ``w2``).
    words : sequence of str, optional
        Query words for the neighbour table instead of the chosen frequent and rare ones.

    Raises
    ------
    RunFolderError
        If ``run`` is not a run folder (no ``metrics.jsonl`` or checkpoints).
    MatplotlibMissing
        If matplotlib is not installed (the message names the ``plot`` extra).
    """
    folder = RunFolder(run)
    if not folder.path.is_dir():
        raise RunFolderError(f"{run} is not a run folder; give the folder `cbow train` wrote")
    rows = read_metrics_file(folder.metrics_path, warn_cut=True)
    embeddings = load_embeddings(folder.path, which=which)
    meta = checkpoint_meta(Path(embeddings.source))
    config_text = (folder.config_path.read_text(encoding="utf-8")
                   if folder.config_path.is_file() else None)
    try:
        config = yaml.safe_load(config_text) if config_text else None
    except yaml.YAMLError:
        config = None  # shown as text all the same; only the corpus lookup needs it
    config = config if isinstance(config, dict) else {}
    if words is not None:
        words = list(dict.fromkeys(embeddings.vocab.resolve_case(w) for w in words))
        embeddings.check_words(words)
        frequent, rare = list(words), []
    else:
        frequent, rare = query_words(embeddings)
    # The pictures first: without matplotlib, fail before any other work.
    loss_png = _png(_loss_figure(folder.path, rows))
    map_words = [embeddings.words[i] for i in _word_rows(embeddings)[:MAP_WORDS]]
    map_png = _png(_words_figure(embeddings, map_words, f"PCA of the {len(map_words)} most "
                                 f"frequent words ({embeddings.which} vectors)"))

    name = folder.path.resolve().name
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>cbow run {_esc(name)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>cbow run {_esc(name)}</h1>",
        f'<p class="sub">{_esc(folder.path.resolve())} &middot; checkpoint '
        f"{_esc(Path(embeddings.source).name)} &middot; {_esc(embeddings.which)} vectors</p>",
        "<h2>Summary</h2>", _summary(rows, embeddings, meta),
        "<h2>Corpus</h2>", _corpus(config, meta, embeddings),
        "<h2>Loss and benchmarks over training</h2>", _img(loss_png, "loss curves"),
        _benchmarks(rows),
        "<h2>Nearest neighbours</h2>", _neighbours(embeddings, frequent, rare),
        "<h2>The most frequent words in two dimensions</h2>",
        _img(map_png, "PCA map of the most frequent words"),
        '<p class="note">The first two principal components of the vectors of the '
        f"{len(map_words)} most frequent words that contain a letter; distances in 2-D only "
        "hint at cosines in N dimensions.</p>",
        "<h2>Config</h2>",
        f'<pre class="config">{_esc(config_text)}</pre>' if config_text is not None
        else f'<p class="note">{_esc(folder.config_path)} is missing.</p>',
        "</body>", "</html>", "",
    ]
    return "\n".join(parts)


def write_report(run: str | Path, out: str | Path, which: str | None = None,
                 words: Sequence[str] | None = None) -> Path:
    """:func:`build_report` written to ``out`` (atomically); returns ``out``."""
    out = Path(out)
    page = build_report(run, which=which, words=words)
    atomic_write_bytes(out, page.encode("utf-8"))
    return out


def query_words(embeddings: Embeddings) -> tuple[list[str], list[str]]:
    """``(frequent, rare)`` words to show neighbours of, among the words holding a letter.

    Frequent: the most frequent ones. Rare: evenly spread over the rarer half by frequency
    rank, down to the rarest, so that the table shows how neighbours degrade with rarity.
    """
    ranked = _word_rows(embeddings)
    frequent = ranked[:FREQUENT_QUERIES]
    rest = ranked[len(frequent):]
    rare = []
    if rest:
        picks = np.linspace(len(ranked) // 2, len(ranked) - 1, RARE_QUERIES).round().astype(int)
        rare = [ranked[p] for p in dict.fromkeys(picks.tolist()) if ranked[p] not in frequent]
    return ([embeddings.words[i] for i in frequent], [embeddings.words[i] for i in rare])


def _word_rows(embeddings: Embeddings) -> list[int]:
    """Rows of the words holding a letter (not punctuation or numbers), most frequent first.

    Ties, and every row when counts are unknown, keep row order.
    """
    rows = (np.arange(len(embeddings)) if embeddings.counts is None
            else np.argsort(-embeddings.counts, kind="stable"))
    words = embeddings.words
    return [i for i in rows.tolist() if any(ch.isalpha() for ch in words[i])]


def find_prepared_description(config: dict, fingerprint: str | None) -> tuple[dict, Path] | None:
    """``(description.json contents, its folder)`` of the prepared corpus with ``fingerprint``.

    Looks in the cache that ``config`` (a run's ``config.yaml`` as a mapping) names; None when
    no prepared folder there has that fingerprint (deleted, or another cache).
    """
    from cbow.data.cache import default_cache_root
    from cbow.data.prepared_corpus import DESCRIPTION_FILE

    if not fingerprint:
        return None
    cache_dir = (config.get("prepare") or {}).get("cache_dir")
    root = Path(cache_dir).expanduser() if cache_dir else default_cache_root()
    for path in sorted(root.glob(f"*/{DESCRIPTION_FILE}")):
        try:
            description = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a folder being written, or not ours: not the one we look for
        if isinstance(description, dict) and description.get("fingerprint") == fingerprint:
            return description, path.parent
    return None


# --------------------------------------------------------------------------- sections

def _summary(rows: list[dict], embeddings: Embeddings, meta: dict) -> str:
    trained = [r for r in rows if r.get("loss") is not None]
    held_out = [r for r in rows if r.get("val_loss") is not None]
    baseline = next((r["unigram_val_loss"] for r in rows
                     if r.get("unigram_val_loss") is not None), None)
    items = [
        ("objective", meta.get("objective")),
        ("steps", meta.get("step", rows[-1]["step"] if rows else None)),
        ("epochs", _fmt(meta.get("epoch"), 3)),
        ("vocabulary (V)", f"{len(embeddings):,}"),
        ("vector size (N)", embeddings.vector_size),
        ("last training loss (batch)", _fmt(trained[-1]["loss"]) if trained else None),
        ("held-out loss", " → ".join(_fmt(r["val_loss"]) for r in
                                     (held_out[:1] + held_out[-1:] if len(held_out) > 1
                                      else held_out)) or None),
        ("held-out loss of word frequencies alone", _fmt(baseline)),
        ("training time", f"{rows[-1]['elapsed_s']:.1f} s"
         if rows and rows[-1].get("elapsed_s") is not None else None),
    ]
    return _table([(k, v) for k, v in items if v is not None])


def _corpus(config: dict, meta: dict, embeddings: Embeddings) -> str:
    found = find_prepared_description(config, meta.get("corpus_sha256"))
    corpus = config.get("corpus")
    problem = None if found is None else description_problem(found[0])
    if found is None or problem is not None:
        counts = embeddings.counts
        items = [("corpus (config)", corpus), ("vocabulary (V)", f"{len(embeddings):,}")]
        if counts is not None:
            items.append(("tokens of the vocabulary's words", f"{int(counts.sum()):,}"))
        if problem is not None:
            where = found[1] / "description.json"
            warnings.warn(f"{where}: {problem}; the report leaves out the corpus's files and "
                          f"token counts", stacklevel=2)
            return (_table(items) + f'<p class="note">{_esc(where)} is damaged ({_esc(problem)}), '
                    f"so the files and token counts are not shown.</p>")
        return (_table(items) + '<p class="note">The prepared corpus of this run (fingerprint '
                f"{_esc(meta.get('corpus_sha256') or 'not recorded')}) is not in the cache "
                "its config names, so the files and token counts are not shown.</p>")
    description, prepared = found
    tokens, words = description.get("tokens", {}), description.get("words", {})
    settings = description.get("settings", {})
    items = [
        ("corpus (config)", corpus),
        ("tokens", f"{tokens.get('kept', 0):,}" + (
            f" kept of {tokens.get('counted', 0):,} ({tokens['dropped']:,} tokens of words "
            f"below vocab.min_count or beyond vocab.max_size dropped)"
            if tokens.get("dropped") else "")),
        ("vocabulary (V)", f"{words.get('kept', 0):,} words kept of {words.get('counted', 0):,}"),
        ("sentences", f"{description.get('sentences', 0):,} "
                      f"({description.get('sentence_rule', '')})"),
        ("settings", ", ".join(f"{k} {v}" for k, v in settings.items())),
        ("prepared folder", prepared),
    ]
    sources = description.get("sources", [])
    files = "".join(
        f"<tr><td>{_esc(s.get('path'))}</td><td class=\"num\">{s.get('size', 0):,}"
        f"</td></tr>" for s in sources[:20])
    more = (f'<p class="note">... and {len(sources) - 20:,} more files.</p>'
            if len(sources) > 20 else "")
    return (_table(items) + f"<table><tr><th>file</th><th>bytes</th></tr>{files}</table>"
            + more)


def description_problem(description: dict) -> str | None:
    """What in a prepared corpus's ``description.json`` is not as ``cbow prepare`` writes it
    (of what the report shows), or None."""
    whole = (lambda v: isinstance(v, int) and not isinstance(v, bool))  # noqa: E731
    for key in ("tokens", "words"):
        part = description.get(key, {})
        if not isinstance(part, dict) or not all(whole(v) for v in part.values()):
            return f"{key!r} is not a map of whole numbers"
    if not isinstance(description.get("settings", {}), dict):
        return "'settings' is not a map"
    if not whole(description.get("sentences", 0)):
        return "'sentences' is not a whole number"
    sources = description.get("sources", [])
    if not isinstance(sources, list) or not all(
            isinstance(s, dict) and whole(s.get("size", 0)) for s in sources):
        return "'sources' is not a list of files with their sizes"
    return None


def _benchmarks(rows: list[dict]) -> str:
    names = list(dict.fromkeys(n for r in rows for n in r.get("benchmarks", {})))
    if not names:
        return ('<p class="note">No benchmark was scored during training (set '
                "<code>eval.pairs</code> or <code>eval.analogies</code> in the config).</p>")
    scored = [r for r in rows if r.get("benchmarks")]
    if len(scored) > BENCHMARK_ROWS:  # the figure has them all; the table, a readable sample
        picks = np.linspace(0, len(scored) - 1, BENCHMARK_ROWS).round().astype(int)
        scored = [scored[i] for i in dict.fromkeys(picks.tolist())]
    head = "".join(f"<th>{_esc(n)}</th>" for n in names)
    body = "".join(
        f'<tr><td class="num">{r["step"]:,}</td>'
        + "".join(f'<td class="num">{_esc(_fmt(r["benchmarks"].get(n)) or "-")}</td>'
                  for n in names)
        + "</tr>" for r in scored)
    return f"<table><tr><th>step</th>{head}</tr>{body}</table>"


def _neighbours(embeddings: Embeddings, frequent: list[str], rare: list[str]) -> str:
    counts = embeddings.counts

    def row(word: str) -> str:
        if word not in embeddings:  # subword vectors: an unseen word has its n-grams' vector
            count = " (not in the vocabulary: the vector of its character n-grams)"
        else:
            count = "" if counts is None else f" ({counts[embeddings.index(word)]:,})"
        if not embeddings[word].any():  # no direction, so no neighbours (an untrained row)
            cells = ('<span class="note">a zero vector: no word is nearer to it than '
                     'another</span>')
        else:
            cells = "".join(f'<span class="nb">{_esc(w)} <span class="cos">{c:.2f}</span>'
                            f'</span> ' for w, c in embeddings.most_similar(word, topn=NEIGHBOURS))
        return f"<tr><td><strong>{_esc(word)}</strong>{_esc(count)}</td><td>{cells}</td></tr>"

    parts = []
    for label, words in (("frequent words", frequent), ("rare words", rare)):
        if words:
            parts.append(f"<tr><th colspan=\"2\">{label} (count in the corpus)</th></tr>"
                         + "".join(row(w) for w in words))
    return (f'<table class="neighbours">{"".join(parts)}</table>'
            f'<p class="note">The {NEIGHBOURS} nearest words by cosine (in grey).</p>')


# --------------------------------------------------------------------------- helpers

def _loss_figure(run: Path, rows: list[dict]):
    from cbow.analysis.plot import loss_figure
    return loss_figure(run, rows)


def _words_figure(embeddings: Embeddings, words: list[str], title: str):
    from cbow.analysis.plot import words_figure
    if len(words) < 2:
        raise InputError(f"the run has {len(words)} word(s); a map needs 2")
    return words_figure(embeddings, words, title, figsize=(10, 8), fontsize=8)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _table(items: list[tuple[str, object]]) -> str:
    """A two-column table; an item whose value is unknown (None) is left out, not 'None'."""
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in items
                   if v is not None)
    return f"<table>{rows}</table>"


def _fmt(value, digits: int = 4) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.{digits}f}"
    return str(value)


def _esc(value) -> str:
    return html.escape(readable(str(value)), quote=True)
