"""jrnl's settings that say how its journal file reads: ``timeformat`` and ``tagsymbols``.

jrnl keeps one global config, ``$XDG_CONFIG_HOME/jrnl/jrnl.yaml`` (``~/.config/jrnl/jrnl.yaml``),
or the legacy ``~/.jrnl_config`` when that is missing (``jrnl.install.find_default_config``).
A journal listed under ``journals:`` with its own settings overrides the global ones
(``jrnl.config.scope_config``); they apply here when that journal's file is the one imported.
A config that cannot be read is a warning, and jrnl's defaults are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.interop.jrnl_text import DEFAULT_TAGSYMBOLS, DEFAULT_TIMEFORMAT

__all__ = ["JrnlSettings", "jrnl_config_path", "jrnl_settings"]


@dataclass(frozen=True)
class JrnlSettings:
    timeformat: str = DEFAULT_TIMEFORMAT
    tagsymbols: str = DEFAULT_TAGSYMBOLS
    origin: str = "jrnl's default"  # where the timeformat comes from, for messages
    warnings: tuple[str, ...] = ()


def jrnl_config_path() -> Path | None:
    """The config file jrnl would read, if there is one."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    for candidate in (Path(config_home) / "jrnl" / "jrnl.yaml", Path(os.path.expanduser("~")) / ".jrnl_config"):
        if candidate.is_file():
            return candidate
    return None


def _load(path: Path) -> dict[str, Any]:
    """The config as a mapping. Raises ValueError saying why it cannot be read."""
    import yaml  # only when a jrnl text journal is imported

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))  # jrnl 1.x wrote JSON: YAML reads it
    except OSError as exc:
        raise ValueError(exc.strerror) from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValueError(f"not valid YAML{f' (line {mark.line + 1})' if mark else ''}") from None
    if not isinstance(document, dict):
        raise ValueError("not a mapping of settings")
    return document


def _same_file(written: object, journal: Path) -> bool:
    if not isinstance(written, str):
        return False
    try:
        return Path(os.path.expandvars(written)).expanduser().resolve() == journal.resolve()
    except (OSError, RuntimeError):
        return False


def _scoped(config: dict[str, Any], journal: Path) -> dict[str, Any]:
    """The global settings, with those of the listed journal whose file this is."""
    journals = config.get("journals")
    for settings in journals.values() if isinstance(journals, dict) else ():
        if isinstance(settings, dict) and _same_file(settings.get("journal"), journal):
            return {**config, **settings}
    return config


def jrnl_settings(journal: Path, timeformat: str | None = None) -> JrnlSettings:
    """How to read ``journal``: ``timeformat`` if given, else jrnl's config, else jrnl's defaults."""
    found: dict[str, Any] = {}
    warnings: list[str] = []
    path = jrnl_config_path()
    if path is not None:
        try:
            found = _scoped(_load(path), journal)
        except ValueError as exc:
            warnings.append(f"cannot read jrnl's config {path}: {exc}; using jrnl's default timeformat "
                            f"{DEFAULT_TIMEFORMAT!r} and tag symbols {DEFAULT_TAGSYMBOLS!r}")
    settings: dict[str, str] = {}
    for key in ("timeformat", "tagsymbols"):
        value = found.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value:
            settings[key] = value
        else:
            warnings.append(f"jrnl's config {path}: {key} {value!r} is not text; using jrnl's default")
    origin = f"from {path}" if "timeformat" in settings else "jrnl's default"
    if timeformat is not None:
        settings["timeformat"], origin = timeformat, "from --timeformat"
    return JrnlSettings(timeformat=settings.get("timeformat", DEFAULT_TIMEFORMAT),
                        tagsymbols=settings.get("tagsymbols", DEFAULT_TAGSYMBOLS),
                        origin=origin, warnings=tuple(warnings))
