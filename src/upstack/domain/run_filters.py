"""What ``upstack runs --where``, ``--sort`` and ``--group`` say, read into plain values.

A field names one number or value of a run: ``lr`` or ``optim.name`` (its config, flattened),
``final(val/acc)``, ``best(loss)``, ``min(loss)``, ``max(loss)`` (a metric's last, best, lowest or
highest value), ``summary(best_loss)`` (a value given to ``run.summary``), or ``config(lr)`` to say
"config" outright. A bare name is the config value, unless no run's config has it and a metric has
that name (then its final value), or a summary value does.

>>> parse_condition("best(loss)<0.1")
Condition(field=Field(source='best', key='loss'), op='<', value='0.1')
>>> parse_sort("val/acc desc")
Sort(field=Field(source='', key='val/acc'), descending=True)
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from upstack.errors import BadInput

__all__ = ["Field", "Condition", "Sort", "GroupBy", "METRIC_SOURCES", "SOURCES", "parse_field",
           "parse_condition", "parse_sort", "parse_group", "as_number", "as_text"]

METRIC_SOURCES = ("final", "best", "min", "max")
SOURCES = ("config", *METRIC_SOURCES, "summary")


@dataclass(frozen=True)
class Field:
    """One value of a run. ``source`` is one of SOURCES, or "" for a bare name (see the module)."""

    source: str
    key: str

    def __str__(self) -> str:
        return f"{self.source}({self.key})" if self.source else self.key

    @property
    def is_metric(self) -> bool:
        return self.source in METRIC_SOURCES


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt}
# Each quantifier of these meets the next only at a character it cannot take (a parenthesis, an
# operator), so a match takes time in proportion to the text: a spacing one could share with its
# neighbour ("\s*(.+?)\s*\)") made "best(" and 4,000 spaces take 40 seconds of the server, holding
# every request. The spaces inside the parentheses and after the value are taken off in code.
_FIELD = re.compile(r"^\s*(?:(" + "|".join(SOURCES) + r")\((.+?)\)|([^=!<>\s()]+))\s*$")
_CONDITION = re.compile(r"^\s*(" + "|".join(SOURCES) + r")?(\(.+?\)|[^=!<>\s()]+)"
                        r"\s*(==|!=|<=|>=|=|<|>)\s*(.*)$")


def parse_field(text: str, *, what: str = "the field") -> Field:
    match = _FIELD.match(text)
    if not match:
        raise BadInput(f"cannot read {what} {text!r}: write a config key (lr), or "
                       f"{', '.join(f'{s}(KEY)' for s in SOURCES)}")
    source, inner, bare = match.groups()
    if source and not inner.strip():
        raise BadInput(f"cannot read {what} {text!r}: name a metric inside {source}( )")
    return Field(source, inner.strip()) if source else Field("", bare)


@dataclass(frozen=True)
class Condition:
    """A ``--where`` filter: ``lr=3e-4``, ``optim.name!=adam``, ``val/acc>0.9``, ``best(loss)<0.1``."""

    field: Field
    op: str
    value: str

    @functools.cached_property
    def _wanted(self) -> float | None:
        return as_number(self.value)

    def matches(self, found: Any) -> bool:
        """Whether a run's value (None: it has none) passes. Numbers compare as numbers; otherwise
        only = and != apply, to the text. NaN passes nothing but !=."""
        if found is None:
            return False
        compare = _OPS[self.op]
        wanted = self._wanted
        if type(found) is float and wanted is not None:  # a metric: the common case, kept quick
            return bool(compare(found, wanted))
        have = as_number(found)
        if wanted is not None and have is not None:
            return bool(compare(have, wanted))
        if self.op in ("=", "!="):
            return bool(compare(as_text(found), self.value))
        return False


def parse_condition(text: str) -> Condition:
    match = _CONDITION.match(text)
    if not match:
        raise BadInput(f"cannot read the filter {text!r}: write KEY=VALUE, KEY!=VALUE, KEY<VALUE or KEY>VALUE "
                       "(KEY a config key, or final(M), best(M), min(M), max(M) of a metric, summary(K))")
    source, name, op, value = match.groups()
    value = value.rstrip()
    op = "=" if op == "==" else op  # Python's and pandas' way of writing it
    if op not in ("=", "!=") and as_number(value) is None:  # it would match nothing, silently
        raise BadInput(f"cannot read the filter {text!r}: {op} compares numbers, and {value[:40]!r} is not one")
    if source and not name.startswith("("):  # "finalize=1": a key that merely starts like a source
        field = Field("", source + name)
    elif source:
        field = parse_field(source + name, what="the filter")
    else:
        if name.startswith("("):
            raise BadInput(f"cannot read the filter {text!r}: a key cannot start with '('")
        field = Field("", name)
    return Condition(field, op, value)


@dataclass(frozen=True)
class Sort:
    """``--sort FIELD [asc|desc]``. Without a direction a metric sorts best first (its goal),
    anything else ascending."""

    field: Field
    descending: bool | None = None


def parse_sort(text: str) -> Sort:
    words = text.strip().rsplit(None, 1)
    descending = None
    if len(words) == 2 and words[1].lower() in ("asc", "desc"):
        descending = words[1].lower() == "desc"
        text = words[0]
    return Sort(parse_field(text, what="the sort key"), descending)


@dataclass(frozen=True)
class GroupBy:
    """``--group lr,width`` (these config keys) or ``--group -seed`` (every config key whose value
    differs between the runs, but seed)."""

    keys: tuple[str, ...] = ()
    all_but: tuple[str, ...] = ()

    def chosen(self, differing: Sequence[str]) -> list[str]:
        if self.keys:
            return list(self.keys)
        return [k for k in differing if k not in self.all_but]


def parse_group(text: str) -> GroupBy:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise BadInput("a grouping needs config keys (lr,width), or keys to leave out (-seed)")
    left_out = [n for n in names if n.startswith("-")]
    if left_out and len(left_out) != len(names):
        raise BadInput(f"cannot read the grouping {text!r}: name the keys to group by (lr,width) or the keys to "
                       "leave out (-seed), not both")
    if left_out:
        return GroupBy(all_but=tuple(n[1:] for n in left_out))
    return GroupBy(keys=tuple(names))


def as_number(value: Any) -> float | None:
    """A value as a number, if it is one (``"3e-4"`` is; ``True`` is not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
