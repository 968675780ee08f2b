"""Each kind of configuration error, caught before any work, naming the key and the value."""
import dataclasses

import pytest

from cbow.config import (KEYS, Config, ConfigError, flatten, load_config, run_identity,
                         to_dict, with_scheduler)
from conftest import REPO_ROOT


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_plus_steps_are_valid():
    cfg = load_config(None, ["train.steps=10"])
    assert cfg.train.steps == 10
    assert cfg.model.N == Config().model.N == 50


def test_shipped_configs_are_valid():
    for path in sorted((REPO_ROOT / "configs").glob("*.yaml")):
        load_config(path)


def test_unknown_key_names_it_and_the_closest_valid_key(tmp_path):
    path = write(tmp_path, "train:\n  alhpa: 0.1\n  steps: 5\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown key 'train.alhpa'; did you mean 'train.alpha'"):
        load_config(path)


def test_misspelt_section_suggests_the_full_key(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'trian.steps'; did you mean 'train.steps'"):
        load_config(write(tmp_path, "trian:\n  steps: 5\n"))


@pytest.mark.parametrize("override, key", [
    ("model.N=0", "model.N"), ("model.C=0", "model.C"), ("train.alpha=0", "train.alpha"),
    ("train.alpha=-1", "train.alpha"), ("train.batch_size=0", "train.batch_size"),
    ("train.batch_size=2.5", "train.batch_size"), ("train.val_fraction=0.5", "train.val_fraction"),
    ("train.val_fraction=-0.1", "train.val_fraction"), ("train.dtype=float16", "train.dtype"),
    ("train.batcher=random", "train.batcher"), ("tokenizer=spacy", "tokenizer"),
    ("train.decay=1.5", "train.decay"), ("checkpoint.keep=0", "checkpoint.keep"),
    ("model.N=fifty", "model.N"), ("train.shuffle=maybe", "train.shuffle"),
    ("train.steps=true", "train.steps"),
])
def test_bad_value_names_key_value_and_source(override, key):
    value = override.split("=", 1)[1]
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.steps=5", override])
    message = str(info.value)
    assert f"--set {override}: {key} must be" in message and value in message


def test_bad_value_in_file_names_the_file(tmp_path):
    path = write(tmp_path, "model:\n  N: -3\ntrain:\n  steps: 5\n")
    with pytest.raises(ConfigError, match=r"c.yaml: model.N must be an integer >= 1; got -3"):
        load_config(path)


def test_steps_or_epochs_required():
    with pytest.raises(ConfigError, match="set train.steps or train.epochs"):
        load_config(None, [])


def test_invalid_yaml_gives_line(tmp_path):
    with pytest.raises(ConfigError, match=r"c.yaml, line 2, column \d+: invalid YAML"):
        load_config(write(tmp_path, "train:\n  steps: 5: 6\n"))


def test_missing_file_and_wrong_top_level(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="'train' must be a mapping"):
        load_config(write(tmp_path, "train: 5\n"))


def test_override_syntax_error():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(None, ["train.steps"])


def test_overrides_are_parsed_as_yaml_and_applied_in_order():
    cfg = load_config(None, ["train.steps=5", "train.alpha=1e-2", "train.steps=7",
                             "train.epochs=null", "corpus=my text.txt"])
    assert cfg.train.steps == 7
    assert cfg.train.alpha == 0.01
    assert cfg.corpus == "my text.txt"
    assert set(flatten(to_dict(cfg))) == set(KEYS)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, "model:\n  N: 0\n  C: x\ntrain:\n  alhpa: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["train.dtype=float16"])
    message = str(info.value)
    assert message.startswith("5 problems in the config:")
    for part in ("c.yaml: model.N must be", "c.yaml: model.C must be",
                 "unknown key 'train.alhpa'", "--set train.dtype=float16: train.dtype must be",
                 "set train.steps or train.epochs"):
        assert part in message, part


def test_config_is_typed_plain_data():
    cfg = load_config(None, ["train.steps=3"])
    with pytest.raises(AttributeError):
        cfg.train.alhpa  # a typo in our own code is a bug, not a user error
    assert dataclasses.is_dataclass(cfg) and dataclasses.is_dataclass(cfg.train)


def test_resume_identity_comes_from_the_declaration():
    identity = run_identity(load_config(None, ["train.steps=3"]))
    assert set(identity) == {k for k, spec in KEYS.items() if spec.identity}
    assert {"model.N", "train.alpha", "train.seed", "corpus"} <= set(identity)
    assert not {"train.steps", "train.eval_every", "checkpoint.every", "out_dir"} & set(identity)


def test_config_folder_and_non_utf8_file_name_the_path(tmp_path):
    with pytest.raises(ConfigError, match=f"config file {tmp_path} is a folder"):
        load_config(tmp_path)
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"train:\n  steps: 5\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1.yaml, line 3: not UTF-8"):
        load_config(path)


@pytest.mark.parametrize("override, key, bound", [
    ("model.negative=1000000000", "model.negative", "an integer from 1 to 1,000"),
    ("model.C=100000", "model.C", "an integer from 1 to 1,000"),
    ("prepare.workers=100000", "prepare.workers", "null or an integer from 1 to 1,024"),
    ("train.workers=100000", "train.workers", "null or an integer from 1 to 1,024"),
])
def test_keys_that_multiply_the_work_of_an_example_are_bounded(override, key, bound):
    # issue 18, item 8: model.negative 1e9 made a step that never ends
    with pytest.raises(ConfigError, match=f"--set {override}: {key} must be {bound}"):
        load_config(None, ["train.steps=5", "model.objective=negative", "train.dtype=float32",
                           override])
    assert load_config(None, ["train.steps=5", "model.negative=1000", "model.C=1000"])


def test_min_alpha_above_alpha_is_refused_naming_min_alpha():
    # issue 18, item 9: it was accepted, and the run then "diverged" blaming train.alpha
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.steps=5", "train.schedule=linear", "train.alpha=0.01",
                           "train.min_alpha=0.5", "model.N=0"])
    message = str(info.value)
    assert "2 problems" in message and "model.N must be" in message  # reported with the others
    assert "--set train.min_alpha=0.5: train.min_alpha=0.5 is above train.alpha=0.01" in message
    # the step schedule never reaches min_alpha: a small alpha there is fine
    assert load_config(None, ["train.steps=5", "train.alpha=0.00001"]).train.min_alpha == 0.0001
    assert load_config(None, ["train.steps=5", "train.schedule=linear", "train.alpha=0.01",
                              "train.min_alpha=0.01"])


def test_a_bare_name_finds_the_bundled_config(tmp_path, monkeypatch):
    # issue 18, item 10: a non-editable install has no configs/ beside the working directory
    from cbow.config import bundled_configs, find_config
    monkeypatch.chdir(tmp_path)
    assert set(bundled_configs()) >= {"course", "shakespeare", "word2vec"}
    assert find_config("word2vec") == REPO_ROOT / "configs" / "word2vec.yaml"
    assert find_config("word2vec.yaml") == REPO_ROOT / "configs" / "word2vec.yaml"
    cfg = load_config("word2vec", ["train.steps=5"])
    shipped = load_config(REPO_ROOT / "configs" / "word2vec.yaml")
    assert cfg.model.objective == shipped.model.objective == "negative"
    (tmp_path / "word2vec").write_text("train:\n  steps: 7\n")  # a file that exists wins
    assert load_config("word2vec").train.steps == 7
    # every bundled config is listed (configs/fasttext.yaml came with issue 20)
    with pytest.raises(ConfigError, match="config file nope does not exist; the bundled configs "
                                          "are course, fasttext, shakespeare, word2vec"):
        load_config("nope")


def test_the_configs_are_package_data_of_the_installed_package():
    # configs/ is installed as cbow.configs (pyproject's package-dir): one copy of each file
    import tomllib
    setup = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "cbow.configs" in setup["packages"]
    assert setup["package-dir"] == {"cbow.configs": "configs"}
    assert setup["package-data"]["cbow.configs"] == ["*.yaml"]


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    # PyYAML keeps the last one silently: the second train: dropped train.steps of the first
    path = write(tmp_path, "train:\n  steps: 5\ntrain:\n  alpha: 0.5\n")
    with pytest.raises(ConfigError, match=r"c.yaml, line 3, column 1: invalid YAML: 'train' is "
                                          r"given twice in the same mapping"):
        load_config(path)
    with pytest.raises(ConfigError, match="line 3, column 3: invalid YAML: 'steps' is given"):
        load_config(write(tmp_path, "train:\n  steps: 5\n  steps: 6\n"))


def test_an_endless_config_file_is_refused_not_read_for_ever():
    with pytest.raises(ConfigError, match="config file /dev/zero is over 1 MB: not a config"):
        load_config("/dev/zero")


def test_objective_keys_belong_to_the_objectives_that_declare_them():
    assert KEYS["model.negative"].owners == KEYS["train.fast_dot"].owners == ("negative",
                                                                             "hierarchical")
    assert KEYS["train.batcher"].owners == ("softmax",)
    assert KEYS["model.N"].owners == KEYS["train.dtype"].owners == ()  # core keys


def test_an_objectives_rules_are_reported_in_order():
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.steps=3", "model.objective=negative", "train.dtype=float64",
                           "train.batcher=course", "model.maxn=3", "model.minn=5"])
    assert str(info.value) == (
        "4 problems in the config:\n"
        "  --set train.dtype=float64: model.objective 'negative' trains float32 weights; set "
        "train.dtype: float32\n"
        "  --set train.batcher=course: the course batcher feeds the softmax objective only\n"
        "  --set model.maxn=3: model.maxn 3 (subwords) draws the word and n-gram rows as word2vec "
        "or gensim does; set model.init: word2vec or gensim\n"
        "  --set model.minn=5: model.minn 5 is longer than model.maxn 3: no n-gram would be cut; "
        "set minn <= maxn (or maxn: 0 for none)")
    with pytest.raises(ConfigError) as info:  # the softmax: word2vec's keys at their defaults
        load_config(None, ["train.steps=3", "train.sample=0.01", "model.maxn=3", "model.minn=5"])
    assert str(info.value).splitlines()[1:] == [
        "  --set train.sample=0.01: train.sample=0.01 needs a word2vec objective (model.objective "
        "negative or hierarchical); the softmax objective is the course's model",
        "  --set model.maxn=3: model.maxn=3 needs a word2vec objective (model.objective negative "
        "or hierarchical); the softmax objective is the course's model",
        "  --set model.minn=5: model.minn 5 is longer than model.maxn 3: no n-gram would be cut; "
        "set minn <= maxn (or maxn: 0 for none)"]


def test_an_unknown_objective_is_one_problem():
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.steps=3", "model.objective=glove"])
    assert str(info.value) == ("--set model.objective=glove: model.objective must be one of "
                               "'softmax', 'negative', 'hierarchical'; got 'glove'")


def test_scheduler_option_over_the_config():
    cfg = load_config(None, ["train.steps=3"])
    assert with_scheduler(cfg, None) is cfg
    assert with_scheduler(cfg, "local:2").cluster.scheduler == "local:2"
    with pytest.raises(ConfigError, match="--scheduler 'local:0': must be null, 'local:N'"):
        with_scheduler(cfg, "local:0")


# ---- short names: a key by its last part, as cbow.train's keywords and --set take it

def test_a_short_name_sets_its_key_as_the_dotted_name_does():
    short = load_config("word2vec", ["min_count=5", "N=20", "alpha=0.05", "tokenizer=whitespace"])
    dotted = load_config("word2vec", ["vocab.min_count=5", "model.N=20", "train.alpha=0.05",
                                      "tokenizer=whitespace"])
    assert short == dotted and short.vocab.min_count == 5 and short.model.N == 20


def test_workers_sets_every_worker_count():
    cfg = load_config("word2vec", ["workers=2"])
    assert (cfg.train.workers, cfg.prepare.workers) == (2, 2)
    # a dotted name still sets one of them
    cfg = load_config("word2vec", ["workers=2", "prepare.workers=1"])
    assert (cfg.train.workers, cfg.prepare.workers) == (2, 1)


def test_every_shared_last_part_is_declared_and_declares_real_keys():
    # A new key ending as another one does (phrases.min_count beside vocab.min_count) must be
    # given a meaning in SHARED_NAMES, or the short name would stop working.
    from cbow.config import SHARED_NAMES, short_names
    ends = {}
    for dotted in KEYS:
        ends.setdefault(dotted.rpartition(".")[2], []).append(dotted)
    shared = {leaf for leaf, keys in ends.items() if len(keys) > 1}
    assert shared <= set(SHARED_NAMES), f"give these a meaning in SHARED_NAMES: {shared - set(SHARED_NAMES)}"
    for name, keys in SHARED_NAMES.items():
        assert keys and all(k in KEYS and k.rpartition(".")[2] == name for k in keys), name
    names = short_names()
    assert names["min_count"] == ("vocab.min_count",) and names["alpha"] == ("train.alpha",)
    assert all(len(keys) == 1 or name in SHARED_NAMES for name, keys in names.items())


def test_an_undeclared_shared_name_says_which_keys_it_could_be(monkeypatch):
    from cbow.config import loading
    monkeypatch.setattr(loading, "SHARED_NAMES", {})
    with pytest.raises(ConfigError) as info:
        load_config("word2vec", ["workers=2"])
    assert str(info.value) == ("--set workers=2: 'workers' is the last part of prepare.workers "
                               "and train.workers; give the one you mean by its dotted name")


@pytest.mark.parametrize("name, message", [
    ("min_cont", "unknown key 'min_cont'; did you mean 'min_count'?"),
    ("vocab.min_cont", "unknown key 'vocab.min_cont'; did you mean 'vocab.min_count'?"),
    ("vector_size", "unknown key 'vector_size'; cbow calls it 'N' (model.N)"),
    ("window", "unknown key 'window'; cbow calls it 'C' (model.C)"),
])
def test_an_unknown_name_is_one_line_with_the_closest(name, message):
    with pytest.raises(ConfigError) as info:
        load_config("word2vec", [f"{name}=5"])
    assert str(info.value) == f"--set {name}=5: {message}"
    # the same line for a value given in Python, named as given
    with pytest.raises(ConfigError) as info:
        load_config("word2vec", values=[(name, 5, f"{name}=5")])
    assert str(info.value) == f"{name}=5: {message}"


def test_assignments_report_every_problem_at_once():
    with pytest.raises(ConfigError) as info:
        load_config("word2vec", ["min_cont=5"], [("N", "x", "N='x'")])
    assert str(info.value).splitlines() == [
        "2 problems in the config:",
        "  --set min_cont=5: unknown key 'min_cont'; did you mean 'min_count'?",
        "  N='x': model.N must be an integer >= 1; got 'x'"]
