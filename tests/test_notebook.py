"""``cbow.train`` in one call, as a notebook uses it: the README's example as written, the
keywords, token lists, the temporary run folder, Ctrl-C and resume, and errors shown in one
line by IPython."""
from __future__ import annotations

import ast
import dataclasses
import gc
import inspect
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

import cbow
from cbow.cli import main
from cbow.models import checkpoint as ckpt
from conftest import REPO_ROOT, run_cbow


def _ipython(cells: list[str]) -> list[str]:
    """What IPython's shell prints for each cell (plain text), run in a fresh process."""
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance(colors='nocolor')\n"
            f"for cell in {cells!r}:\n"
            "    shell.run_cell(cell)\n"
            "    print('<end of cell>')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return out.split("<end of cell>\n")[:-1]


def test_ipython_shows_a_user_error_as_one_line_and_a_bug_with_its_traceback():
    # IPython shows an exception's _render_traceback_() lines in place of its traceback
    shown = _ipython(["import cbow\ncbow.train(min_cont=5)",
                      "from cbow.errors import InputError\n"
                      "raise InputError('line one\\n  line two')",
                      "raise ValueError('a bug in cbow')"])
    assert shown[0] == ("ConfigError: min_cont=5: unknown key 'min_cont'; did you mean "
                        "'min_count'?\n")
    assert shown[1] == "InputError: line one\n  line two\n"
    assert "Traceback" in shown[2] and "raise ValueError('a bug in cbow')" in shown[2]


# ---- a corpus of token lists, the same in every process that builds it

ROYAL = "king queen man woman prince princess crown throne castle knight lord lady".split()
FILLER = "the a of and to in is was with for on by".split()


def royal_sentences(n: int = 2000, seed: int = 0):
    """``n`` token lists drawn from a few words, as a generator (read once)."""
    rng = random.Random(seed)
    for _ in range(n):
        yield [rng.choice(ROYAL if rng.random() < 0.5 else FILLER)
               for _ in range(rng.randint(4, 12))]


SENTENCES_CODE = (f"ROYAL, FILLER = {ROYAL!r}, {FILLER!r}\n"
                  f"{inspect.getsource(royal_sentences)}")
#: Small settings for the in-process runs: seconds each, one worker (the same bits every time).
SMALL = dict(N=8, C=2, epochs=2, workers=1, batch_size=500, quiet=True)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The temporary area of cbow.train, in this test's folder (tempfile's TMPDIR)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp / f"cbow-{os.getuid()}"


def readme_example() -> str:
    """The Python block of the README's "In a notebook" section, as written."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## In a notebook\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section holds one Python block"
    return blocks[0]


def test_the_readme_example_runs_as_written(tmp_path):
    # texts.txt: 2,000 sentences of 25 words; the example runs in IPython as a notebook's cell
    with open(tmp_path / "texts.txt", "w", encoding="utf-8") as f:
        for sentence in royal_sentences():
            f.write(" ".join(sentence) + "\n")
    (tmp_path / "tmp").mkdir()
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance(colors='nocolor')\n"
            f"result = shell.run_cell({readme_example()!r})\n"
            "result.raise_error()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = proc.stdout.split("\nOut[", 1)[1]  # the cell's value: three (word, cosine) pairs
    neighbours = ast.literal_eval(shown.split("]: ", 1)[1])
    assert len(neighbours) == 3
    assert all(word in ROYAL + FILLER and word != "king" for word, _ in neighbours)
    run = tmp_path / "runs" / "texts"
    assert ckpt.list_checkpoints(run / "checkpoints") and (run / "config.yaml").is_file()
    assert cbow.load_config(run / "config.yaml").out_dir == "runs/texts"
    # the temporary folder went when the run was saved, the token file when it was prepared
    assert not list((tmp_path / "tmp").glob("cbow-*/runs/*"))
    assert not list((tmp_path / "tmp").glob("cbow-*/tokens-*"))


def test_keywords_are_config_keys_by_short_name(scratch):
    model = cbow.train(list(royal_sentences(300)), N=8, C=2, min_count=3, epochs=1,
                       workers=1, set={"train.alpha": 0.05, "prepare.workers": 2}, quiet=True)
    cfg = model.config
    assert (cfg.model.N, cfg.model.C, cfg.vocab.min_count, cfg.train.epochs) == (8, 2, 3, 1)
    # workers sets both worker counts; set= is applied before the keywords
    assert (cfg.train.workers, cfg.prepare.workers, cfg.train.alpha) == (1, 1, 0.05)
    # the default starting point is configs/word2vec.yaml
    word2vec = cbow.load_config("word2vec")
    assert (cfg.model.objective, cfg.train.schedule, cfg.train.sample) == (
        word2vec.model.objective, word2vec.train.schedule, word2vec.train.sample)
    assert cfg.tokenizer == "whitespace" and cfg.prepare.lowercase is False
    assert all(len(word) and word in ROYAL + FILLER for word in model.vectors.words)


@pytest.mark.parametrize("keywords, message", [
    (dict(min_cont=5), "min_cont=5: unknown key 'min_cont'; did you mean 'min_count'?"),
    (dict(vector_size=100), "vector_size=100: unknown key 'vector_size'; cbow calls it 'N' "
                            "(model.N)"),
    (dict(set={"phrases.min_cont": 5}), "set['phrases.min_cont']=5: unknown key "),
    (dict(N=0), "N=0: model.N must be an integer >= 1; got 0"),
    (dict(tokenizer="course"), "tokenizer='course': the corpus is token lists, already split"),
    (dict(out_dir="runs/x"), "give the run folder as out=, not as a key"),
])
def test_bad_keywords_are_one_user_error(scratch, keywords, message):
    with pytest.raises(cbow.UserError) as info:
        cbow.train([["a", "b"]], **keywords)
    assert str(info.value).startswith(message)
    assert not scratch.exists() or not list(scratch.rglob("*.txt")), "nothing written"


def test_a_bad_keyword_is_the_same_line_as_the_clis_set(tmp_path):
    proc = run_cbow("train", "--config", "word2vec", "--set", "min_cont=5", "--out",
                    tmp_path / "run")
    assert proc.returncode == 2
    with pytest.raises(cbow.ConfigError) as info:
        cbow.train(min_cont=5)
    assert proc.stderr == f"error: --set {info.value}\n"


def test_token_lists_train_as_the_cli_trains_their_file(scratch, tmp_path):
    # the same tokens as a list, a generator read once, and a re-iterable object
    class Sentences:
        def __iter__(self):
            return royal_sentences(1000)

    settings = dict(SMALL, set={"vocab.min_count": 2})
    models = [cbow.train(source, **settings) for source in
              (list(royal_sentences(1000)), royal_sentences(1000), Sentences())]
    text = tmp_path / "texts.txt"
    text.write_text("".join(" ".join(s) + "\n" for s in royal_sentences(1000)), encoding="utf-8")
    code = main(["train", "--config", "word2vec", "--set", f"corpus={text}", "--set",
                 "tokenizer=whitespace", "--set", "lowercase=false", "--set", "N=8", "--set",
                 "C=2", "--set", "epochs=2", "--set", "workers=1", "--set", "batch_size=500",
                 "--set", "min_count=2", "--set", f"cache_dir={tmp_path / 'cache'}", "--out",
                 str(tmp_path / "cli"), "--quiet"])
    assert code == 0
    cli = cbow.load_embeddings(tmp_path / "cli")
    for model in models:
        assert model.vectors.words == cli.words
        assert np.array_equal(model.vectors.vectors, cli.vectors)
        assert [r["loss"] for r in model.history] == [r["loss"] for r in models[0].history]
    # the same tokens found their prepared corpus again: one in the temporary area
    assert len(list((scratch / "prepared").iterdir())) == 1


def test_a_stream_of_token_lists_is_written_as_it_comes(scratch):
    # each sentence is let go once written: at most the one being written is alive
    class Tokens(list):  # a list that can be weakly referenced
        pass

    alive, most, given = [0], 0, 0

    def let_go():
        alive[0] -= 1

    def stream():
        nonlocal most, given
        for sentence in royal_sentences(3000):
            most = max(most, alive[0])
            tokens = Tokens(sentence)
            alive[0] += 1
            weakref.finalize(tokens, let_go)
            given += 1
            yield tokens

    model = cbow.train(stream(), **SMALL)
    assert given == 3000 and most <= 1
    assert sum(model.result.vocab.counts) == sum(len(s) for s in royal_sentences(3000))


def test_tokens_keep_their_case_unless_lowercase(scratch):
    sentences = [["King", "of", "the", "North"], ["the", "king", "of", "Spain"]] * 50
    kept = cbow.train(sentences, **SMALL)
    assert {"King", "king", "North"} <= set(kept.vectors.words)
    lowered = cbow.train(sentences, lowercase=True, **SMALL)
    assert "king" in lowered.vectors.words and "King" not in lowered.vectors.words


@pytest.mark.parametrize("bad, message", [
    ([["a", "b c"]], "corpus, sentence 2: the token 'b c' holds whitespace"),
    ([["a", "b\nc"]], "corpus, sentence 2: the token 'b\\nc' holds whitespace"),
    ([["a", ""]], "corpus, sentence 2: the token '' is empty"),
    (["a b"], "corpus, sentence 2 is a string, not a list of tokens"),
    ([["a", 3]], "corpus, sentence 2: the token 3 is of type int; tokens are strings"),
    ([["a", "b\x00"]], "corpus, sentence 2: the token 'b\\x00' holds a NUL character"),
    ([["a", "\ud800"]], "corpus, sentence 2: '\\ud800' is not a character UTF-8 can hold"),
    ([5], "corpus, sentence 2 is of type int, not a list of tokens"),
])
def test_a_sentence_that_would_change_is_an_error_naming_it(scratch, bad, message):
    with pytest.raises(cbow.UserError) as info:
        cbow.train([["fine", "tokens"], *bad], **SMALL)
    assert str(info.value).startswith(message)
    assert not list(scratch.glob("*tokens-*")), "the half-written file is removed"


def test_a_leading_byte_order_mark_and_an_empty_corpus_are_errors(scratch):
    with pytest.raises(cbow.UserError, match=r"sentence 1: the token '\\ufeffa' starts with U\+FEFF"):
        cbow.train([["\ufeffa", "b"]], **SMALL)
    with pytest.raises(cbow.UserError, match="the token lists hold no token"):
        cbow.train([[], []], **SMALL)
    with pytest.raises(cbow.UserError, match="corpus: a path, a list of paths or an iterable"):
        cbow.train(42, **SMALL)


def test_a_temporary_run_folder_goes_with_its_model(scratch):
    model = cbow.train(royal_sentences(500), **SMALL)
    assert model.temporary and model.path.parent == scratch / "runs" and model.path.is_dir()
    assert not list(scratch.glob("tokens-*")), "the token file goes once prepared"
    path = model.path
    del model
    gc.collect()
    assert not path.exists()


def test_save_keeps_the_run_and_out_resumes_it(scratch, tmp_path):
    model = cbow.train(royal_sentences(500), **SMALL)
    temporary, vectors = model.path, model.vectors.vectors.copy()
    saved = model.save(tmp_path / "kept")
    assert saved == model.path == tmp_path / "kept" and not model.temporary
    assert not temporary.exists()
    assert cbow.load_config(saved / "config.yaml").out_dir == str(saved)
    assert np.array_equal(cbow.load_embeddings(saved).vectors, vectors)
    assert model.result.checkpoint.parent == saved / "checkpoints"
    with pytest.raises(cbow.UserError, match="exists; save the run into a new"):
        model.save(saved)
    again = cbow.train(royal_sentences(500), out=saved, resume=True, **SMALL)
    assert again.result.already_complete and again.step == model.step
    assert np.array_equal(again.vectors.vectors, vectors)


def test_resume_without_a_stopped_run_says_so(scratch):
    with pytest.raises(cbow.UserError, match="resume=True: no stopped run of these settings"):
        cbow.train(royal_sentences(500), resume=True, **SMALL)
    model = cbow.train(royal_sentences(500), resume="auto", **SMALL)
    assert model.step > 0 and not model.interrupted


def test_a_config_trains_as_it_is(scratch, tmp_path):
    corpus = tmp_path / "texts.txt"
    corpus.write_text("".join(" ".join(s) + "\n" for s in royal_sentences(500)), encoding="utf-8")
    cfg = cbow.load_config("word2vec", ["N=8", "epochs=1", "workers=1", "tokenizer=whitespace",
                                         f"corpus={corpus}", f"out_dir={tmp_path / 'run'}",
                                         f"cache_dir={tmp_path / 'cache'}"])
    model = cbow.train(cfg, quiet=True)
    assert model.path == tmp_path / "run" and not model.temporary
    assert model.vectors.vector_size == 8 and model.val_loss is not None
    with pytest.raises(cbow.UserError, match=r"cbow.train\(cfg\): a Config is trained as it is"):
        cbow.train(cfg, N=4)
    # as the starting point of a call, a Config is a config file's settings
    changed = cbow.train(config=cfg, N=4, quiet=True)
    assert changed.config == dataclasses.replace(
        cfg, model=dataclasses.replace(cfg.model, N=4), out_dir=str(changed.path))
    assert changed.temporary and changed.vectors.vector_size == 4


# ---- Ctrl-C, then resume=True, in processes of their own as a kernel runs them

RUN_SCRIPT = """\
import json, random, sys
import numpy as np
import cbow
{sentences}
steps, resume = int(sys.argv[1]), sys.argv[2]
model = cbow.train(royal_sentences(), N=8, C=2, workers=1, batch_size=64, epochs=None,
                   steps=steps, schedule="step", decay=1.0, every=20, resume=resume == "yes",
                   quiet=True)
np.save(sys.argv[3], model.vectors.vectors)
print(json.dumps({{"interrupted": model.interrupted, "step": model.step,
                  "path": str(model.path)}}))
"""


def test_ctrl_c_saves_and_the_same_call_with_resume_continues(tmp_path):
    # A constant learning rate (schedule step, decay 1), so that a run's total steps do not
    # change its numbers: the stopped run, resumed to step s + 30, equals a run of s + 30.
    script = tmp_path / "run.py"
    script.write_text(RUN_SCRIPT.format(sentences=SENTENCES_CODE), encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    runs = temp / f"cbow-{os.getuid()}" / "runs"
    env = {**os.environ, "TMPDIR": str(temp)}

    def python(*args, **kwargs):
        return subprocess.Popen([sys.executable, str(script), *map(str, args)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                **kwargs)

    endless = python(10**8, "no", tmp_path / "stopped.npy")
    deadline = time.monotonic() + 120
    while (not list(runs.glob("*/checkpoints/step_*.npz")) and endless.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.05)
    endless.send_signal(signal.SIGINT)
    out, err = endless.communicate(timeout=120)
    assert endless.returncode == 0, err
    stopped = json.loads(out.splitlines()[-1])
    assert stopped["interrupted"] and Path(stopped["path"]).parent == runs
    assert (f"interrupted by SIGINT at step {stopped['step']}" in out
            and "(kept in the temporary area); the same call with resume=True continues it" in out)
    assert Path(stopped["path"]).is_dir(), "a stopped run's folder is kept at exit"

    target = stopped["step"] + 30
    resumed = python(target, "yes", tmp_path / "resumed.npy")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    done = json.loads(out.splitlines()[-1])
    assert done == {"interrupted": False, "step": target, "path": stopped["path"]}
    straight = python(target, "no", tmp_path / "straight.npy")
    out, err = straight.communicate(timeout=300)
    assert straight.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["path"] != stopped["path"]
    assert np.array_equal(np.load(tmp_path / "resumed.npy"), np.load(tmp_path / "straight.npy"))
    assert not list(runs.iterdir()), "finished temporary runs are removed at exit"
