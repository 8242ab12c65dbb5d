"""Project configuration: ``corpus-tools.toml`` merged over documented defaults.

>>> from corpus_tools.config import load_config
>>> cfg = load_config()                  # ./corpus-tools.toml if present, else the defaults
>>> cfg["report"]["k_topics"]
8

The file has four sections, ``[ingest]``, ``[analysis]``, ``[report]`` and ``[export]``; every
option and its default is in :data:`DEFAULTS` and documented in ``docs/config.md`` (an example
file is ``corpus-tools.toml.example`` at the repository root). Options left out keep their
defaults. An unknown section or option, or a value of the wrong type, raises
:class:`ConfigError` naming the file and the option, so a typo never passes silently.
Command-line options override the file.
"""
from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["DEFAULTS", "CONFIG_FILENAME", "ConfigError", "load_config", "find_config", "defaults",
           "argparse_defaults"]

CONFIG_FILENAME = "corpus-tools.toml"

# None = "not set" (TOML has no null: leave the option out, or use "" for paths).
DEFAULTS: dict[str, dict[str, Any]] = {
    "ingest": {
        "workers": 1,                 # worker processes; 0 = one per core
        "boilerplate": None,          # path to your own boilerplate rules (TOML)
        "learn_templates": True,      # learn lines repeated across pages as site chrome
        "template_min_pages": 3,      # pages a line must recur in to count as template
        "max_page_mb": 64.0,          # larger pages get status=error
        "max_page_seconds": 300.0,    # per-page processing time limit
        "strict": False,              # any page error makes the run fail (exit 1)
    },
    "analysis": {
        "unit": "document",           # "document" or "section"
        "lexicon": None,              # themes TOML replacing the shipped lexicon
        "extend": None,               # themes TOML whose themes/terms are added
        "stopwords": "default+filler",
        "userdict": "default",
        "topics_k": 10,               # `corpus-tools topics` number of topics
        "topics_method": "lda",       # "lda" or "nmf"
        "topics_passes": "auto",      # LDA passes; "auto": 10 below 2000 documents, fewer (online) above
        "seed": 13,
        "slogans_top": 50,
        "slogans_min_documents": 2,
    },
    "report": {
        "output": "report.html",      # relative to the corpus directory
        "k_topics": 8,                # small topic model for the report
        "topic_passes": 5,
        "top_slogans": 30,
        "seed": 13,
        "max_pages_listed": 5000,     # rows of the page table (the rest are summarised)
        "min_years_for_timeline": 3,  # fewer distinct years → themes by genre instead of year
        "embed_font": True,           # embed a subset of the CJK font (renders without Chinese fonts)
    },
    "export": {
        "format": "jsonl",            # "jsonl", "parquet" or "hf"
        "unit": "document",
        "split": "0.8,0.1,0.1",       # train,validation,test fractions
        "seed": 13,
        "threshold": 0.8,             # near-duplicate similarity threshold
        "min_chars": 200,
        "max_placeholder_density": 5.0,
        "drop_truncated": False,
        "drop_repeated_paragraphs": True,
        "section_level": 1,
    },
}

_CHOICES = {
    ("analysis", "unit"): ("document", "section"),
    ("analysis", "topics_method"): ("lda", "nmf"),
    ("export", "format"): ("jsonl", "parquet", "hf"),
    ("export", "unit"): ("document", "section"),
}
_INT_OR_AUTO = {("analysis", "topics_passes")}  # a positive integer or "auto"
_PATH_OPTIONS = {("ingest", "boilerplate"), ("analysis", "lexicon"), ("analysis", "extend")}


class ConfigError(ValueError):
    """A bad ``corpus-tools.toml``: unknown option, wrong type or value, unreadable TOML."""


def defaults() -> dict[str, dict[str, Any]]:
    """A fresh deep copy of :data:`DEFAULTS`."""
    return copy.deepcopy(DEFAULTS)


def find_config(start: str | os.PathLike | None = None) -> Path | None:
    """``corpus-tools.toml`` in ``start`` (default: the current directory), or None."""
    p = Path(start or os.getcwd()) / CONFIG_FILENAME
    return p if p.is_file() else None


def _check(section: str, key: str, value: Any, default: Any, where: str) -> Any:
    name = f"{where}: [{section}] {key}"
    if (section, key) in _INT_OR_AUTO:
        if value != "auto" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f'{name} must be a positive integer or "auto", not {value!r}')
        return value
    if (section, key) in _PATH_OPTIONS or default is None:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string (a path), not {type(value).__name__}")
        return value or None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, not {value!r}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer, not {value!r}")
        if value < 0:
            raise ConfigError(f"{name} must be >= 0, not {value}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, not {value!r}")
        value = float(value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, not {value!r}")
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def load_config(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Read a config file and merge it over :data:`DEFAULTS`.

    ``path=None`` reads ``./corpus-tools.toml`` if it exists (otherwise returns the defaults);
    an explicit ``path`` must exist. The result always has every section and option; its
    ``"_source"`` key is the file read (or None).
    """
    cfg: dict[str, Any] = defaults()
    if path is None:
        found = find_config()
        if found is None:
            cfg["_source"] = None
            return cfg
        path = found
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    for section, values in data.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{path}: unknown section [{section}] (known: {', '.join(DEFAULTS)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: {section} must be a [{section}] table")
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"{path}: unknown option [{section}] {key} "
                                  f"(known: {', '.join(DEFAULTS[section])})")
            cfg[section][key] = _check(section, key, value, DEFAULTS[section][key], str(path))
    cfg["_source"] = str(path)
    return cfg


def argparse_defaults(section: str, cfg: dict | None = None) -> dict[str, Any]:
    """The options of ``section`` as argparse ``dest`` names, for ``parser.set_defaults(**…)``
    (or to fill options the user left at None) — so a command reads the file and its own
    flags still win. ``[ingest] learn_templates`` becomes ``no_templates`` (inverted);
    options without a flag of that name are passed through unchanged."""
    cfg = cfg if cfg is not None else load_config()
    values = dict(cfg[section])
    if section == "ingest":
        values["no_templates"] = not values.pop("learn_templates")
    return values
