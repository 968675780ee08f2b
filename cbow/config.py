"""Training configuration: plain nested dicts from YAML, validated before any work starts.

:data:`DEFAULTS` is the whole schema: every valid key, with its default. :data:`RULES` says what
each key accepts. ``load_config`` reads a YAML file over the defaults, applies ``--set`` overrides
and validates everything, so a typo or an impossible value stops the run at once with a message
naming the key, the value and where it came from.
"""
from __future__ import annotations

import copy
import difflib
import math
import re
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

DEFAULTS: dict[str, Any] = {
    "corpus": "shakespeare",
    "tokenizer": "course",
    "model": {"N": 50, "C": 2},
    "train": {
        "batch_size": 128,
        "alpha": 0.03,
        "decay": 0.66,
        "decay_every": 100,
        "steps": None,
        "epochs": None,
        "seed": 282,
        "batcher": "default",
        "shuffle": True,
        "dtype": "float64",
        "val_fraction": 0.05,
        "eval_every": 200,
        "log_every": 10,
    },
    "checkpoint": {"every": 500, "keep": 3},
    "out_dir": "runs/default",
}

# Keys whose change would make a checkpoint's numbers mean something else: resuming is refused
# when any of them differs from the checkpoint's run.
RUN_IDENTITY_KEYS = ("corpus", "tokenizer", "model.N", "model.C", "train.batch_size",
                     "train.alpha", "train.decay", "train.decay_every", "train.seed",
                     "train.batcher", "train.shuffle", "train.dtype", "train.val_fraction")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-3`` as a float as YAML 1.2 does (1.1 says string)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _yaml_load(text: str):
    return yaml.load(text, Loader=_Loader)


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the key and what to change."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _int(minimum: int) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: _is_int(v) and v >= minimum), f"an integer >= {minimum}"


def _one_of(*choices: str) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in choices), "one of " + ", ".join(map(repr, choices))


def _optional(rule: tuple[Callable[[Any], bool], str]) -> tuple[Callable[[Any], bool], str]:
    check, text = rule
    return (lambda v: v is None or check(v)), f"null or {text}"


RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "corpus": ((lambda v: isinstance(v, str) and v.strip() != ""),
               "'shakespeare' or the path of a UTF-8 text file"),
    "tokenizer": _one_of("course", "nltk"),
    "model.N": _int(1),
    "model.C": _int(1),
    "train.batch_size": _int(1),
    "train.alpha": ((lambda v: _is_number(v) and v > 0), "a number > 0"),
    "train.decay": ((lambda v: _is_number(v) and 0 < v <= 1), "a number in (0, 1]"),
    "train.decay_every": _int(1),
    "train.steps": _optional(_int(1)),
    "train.epochs": _optional(((lambda v: _is_number(v) and v > 0), "a number > 0")),
    "train.seed": _int(0),
    "train.batcher": _one_of("default", "course"),
    "train.shuffle": ((lambda v: isinstance(v, bool)), "true or false"),
    "train.dtype": _one_of("float64", "float32"),
    "train.val_fraction": ((lambda v: _is_number(v) and 0 <= v < 0.5), "a number in [0, 0.5)"),
    "train.eval_every": _int(1),
    "train.log_every": _int(1),
    "checkpoint.every": _int(1),
    "checkpoint.keep": _int(1),
    "out_dir": ((lambda v: isinstance(v, str) and v.strip() != ""), "a folder path"),
}


def flatten(cfg: dict, prefix: str = "") -> dict[str, Any]:
    """``{"train": {"alpha": 0.1}}`` -> ``{"train.alpha": 0.1}`` (the leaves only)."""
    flat = {}
    for key, value in cfg.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def get(cfg: dict, dotted_key: str) -> Any:
    for part in dotted_key.split("."):
        cfg = cfg[part]
    return cfg


def _unknown_key_error(dotted_key: str, source: str) -> ConfigError:
    close = difflib.get_close_matches(dotted_key, list(RULES) + _sections(), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(RULES)}"
    return ConfigError(f"{source}: unknown key '{dotted_key}'{hint}")


def _sections() -> list[str]:
    return [k for k, v in DEFAULTS.items() if isinstance(v, dict)]


def _merge(base: dict, update: dict, source: str, origins: dict, prefix: str = "") -> None:
    """Copy ``update`` into ``base`` key by key, refusing keys that ``base`` does not have.

    ``origins`` records, for each dotted key set here, the ``source`` it came from.
    """
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if not isinstance(key, str) or key not in base:
            # Suggest a full key: 'trian: {steps: 3}' is most likely 'train.steps'.
            leaf = next(iter(flatten(value, dotted + "."))) if isinstance(value, dict) and value else dotted
            raise _unknown_key_error(leaf, source)
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{dotted}' must be a mapping of "
                                  f"{', '.join(base[key])}; got {value!r}")
            _merge(base[key], value, source, origins, dotted + ".")
        else:
            base[key] = value
            origins[dotted] = source


def parse_override(text: str) -> dict:
    """``"train.alpha=0.1"`` -> ``{"train": {"alpha": 0.1}}``; the value is parsed as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set train.alpha=0.05")
    try:
        value = _yaml_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {text!r}: the value is not valid YAML ({err})") from None
    nested: dict = {}
    node = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return nested


def validate(cfg: dict, origins: dict[str, str] | None = None) -> dict:
    """Check every key of ``cfg``; return it, or raise :class:`ConfigError` naming the problem.

    ``origins`` maps dotted keys to where their values came from, for the error messages.
    """
    origins = origins or {}
    for key in flatten(cfg):
        if key not in RULES:
            raise _unknown_key_error(key, origins.get(key, "config"))
    for key, (check, expected) in RULES.items():
        value = get(cfg, key)
        if not check(value):
            raise ConfigError(f"{origins.get(key, 'defaults')}: {key} must be {expected}; "
                              f"got {value!r}")
    train = cfg["train"]
    if train["steps"] is None and train["epochs"] is None:
        raise ConfigError("set train.steps or train.epochs in the config (or both: the run "
                          "stops at whichever comes first)")
    return cfg


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> dict:
    """Defaults, then the YAML file at ``path``, then each ``KEY=VALUE`` override; validated."""
    cfg = copy.deepcopy(DEFAULTS)
    origins: dict[str, str] = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        try:
            loaded = _yaml_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(err, "problem", None) or err
            raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys (corpus, model, train, ...); "
                              f"got {type(loaded).__name__}")
        _merge(cfg, loaded, str(path), origins)
    for text in overrides:
        _merge(cfg, parse_override(text), f"--set {text}", origins)
    return validate(cfg, origins)


def run_identity(cfg: dict) -> dict[str, Any]:
    """The settings that a resumed run must share with the checkpoint it continues."""
    flat = flatten(cfg)
    return {key: flat[key] for key in RUN_IDENTITY_KEYS}


def dump(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False)
