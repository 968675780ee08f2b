"""Training configuration as typed plain data, each key declared once.

- :mod:`cbow.config.rules`: what a key accepts (:class:`Rule`, :func:`integer`, ...), how a key
  is declared (:func:`key`), and what an objective declares of its own (:class:`Declaration`);
- :mod:`cbow.config.schema`: the sections and :class:`Config`, composed from the core keys and
  every registered objective's, :data:`KEYS`, the run identity and the key table;
- :mod:`cbow.config.loading`: YAML, overrides and the checks: :func:`load_config`.

The names below are loaded on first use: an objective's settings module imports
:mod:`cbow.config.rules` while the schema, which loads those modules, may not be built yet.
"""
from __future__ import annotations

import importlib

#: name -> the module of this package that defines it.
_EXPORTS = {
    **dict.fromkeys(("BOOLEAN", "ConfigError", "Declaration", "KeySpec", "Rule", "Values",
                     "integer", "is_int", "is_number", "key", "number", "one_of", "optional",
                     "text"), "rules"),
    **dict.fromkeys(("Config", "KEYS", "SECTIONS", "RECORDS", "DECLARED", "declarations",
                     "objectives_of", "to_dict", "flatten", "from_dict", "run_identity", "dump",
                     "key_table", "ModelConfig", "TrainConfig", "EvalConfig", "CheckpointConfig",
                     "VocabConfig", "PrepareConfig", "ClusterConfig", "MAX_C", "MAX_WORKERS"),
                    "schema"),
    **dict.fromkeys(("load_config", "from_mapping", "find_config", "bundled_configs",
                     "parse_override", "parse_assignment", "short_names", "SHARED_NAMES",
                     "with_scheduler", "MAX_CONFIG_BYTES"), "loading"),
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
