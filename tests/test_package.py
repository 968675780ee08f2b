"""The package's face: ``import cbow`` is light and gives what a user needs."""
from __future__ import annotations

import subprocess
import sys
import types

import cbow


def _heavy_modules_after(imports: str) -> str:
    code = (f"import sys, {imports}; "
            "print(sorted(m for m in ('numpy', 'nltk', 'numba') if m in sys.modules))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_cbow_loads_nothing_heavy():
    assert _heavy_modules_after("cbow") == "[]"
    # the registries give names to the config and the commands without their code's imports
    assert _heavy_modules_after("cbow.registry") == "[]"
    assert _heavy_modules_after("cbow.config, cbow.data.prepare") == "['numpy']"


def test_exports_are_the_user_facing_names():
    from cbow.config import Config, load_config
    from cbow.vectors.embeddings import Embeddings
    from cbow.training.run import load_embeddings
    from cbow.data.vocab import Vocabulary
    assert (cbow.Config, cbow.load_config, cbow.Embeddings, cbow.load_embeddings,
            cbow.Vocabulary) == (Config, load_config, Embeddings, load_embeddings, Vocabulary)
    assert "train_step" not in cbow.__all__
    from cbow.training.api import TrainedModel, train as one_call
    assert (cbow.train, cbow.TrainedModel) == (one_call, TrainedModel)
    from cbow.training import loop as train  # the module: no package attribute hides it
    assert isinstance(train, types.ModuleType) and callable(train.train)


def test_cbow_help_loads_neither_nltk_nor_numba():
    # every subcommand's parser is built for --help: none may import its work's libraries
    code = ("import sys, runpy; sys.argv = ['cbow', '--help']\n"
            "try:\n    runpy.run_module('cbow', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('nltk', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_whitespace_prepare_and_train_do_not_import_nltk(tmp_path):
    # NLTK (~50-90 MB resident) is for the Punkt tokenizers; a whitespace corpus is prepared
    # (with two workers too) and its training modules imported without it
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20, encoding="utf-8")
    code = ("import sys\n"
            "from cbow.data.prepare import prepare\n"
            "for workers in (1, 2):\n"
            f"    prepare({str(corpus)!r}, tokenizer='whitespace', workers=workers,\n"
            f"            cache_root={str(tmp_path)!r} + f'/cache{{workers}}', progress=False)\n"
            "import cbow.training.loop, cbow.models.word2vec.objective\n"
            "print(sorted(m for m in ('nltk', 'cbow.data.punkt') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert _heavy_modules_after("cbow.data.text") == "[]"
