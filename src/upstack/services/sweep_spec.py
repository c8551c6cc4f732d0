"""A sweep file: the command to run and the space of parameters to try, read and checked whole.

The format is W&B's sweep file made smaller, so that one written for W&B mostly reads as is::

    name: probe-lr                 # default: the file's name
    command: python train.py --steps 50
    method: grid                   # grid (every combination) or random (count draws)
    metric: loss                   # what `upstack sweep show` reports (final and best)
    parameters:
      lr: {values: [0.05, 0.5]}
      width: [64, 128]             # a list: the values
      seed: 0                      # one value: the same in every trial
      dropout: {min: 0, max: 0.5}  # random only: uniform (integers when min and max are)
      wd: {min: 1e-5, max: 1e-2, log: true}

For ``method: random``, ``count`` trials are drawn with ``seed`` (default 0): trial i is drawn
from the seed and i alone, so the same file gives the same trials, and a larger count the same
first ones. A trial's parameters reach the command as ``--key=value`` arguments (``arguments:
hydra`` makes them ``key=value``; ``none`` leaves them to the command's ``{key}`` placeholders and
the UPSTACK_SWEEP variable), or where the command names them (``lr={lr}``), as one argument each;
no shell reads them.

What a W&B sweep file says that means the same here is read as W&B means it: ``program: train.py``
(run by ``python``), ``metric: {name: loss, goal: minimize}``, and a parameter's ``distribution``
(categorical, constant, uniform, int_uniform, log_uniform_values). The rest (``bayes``,
``early_terminate``, other distributions) needs W&B's service and is refused, saying so.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from upstack.errors import BadInput

__all__ = ["SweepSpec", "Trial", "read_spec", "parse_spec", "trials", "trial_argv", "format_value",
           "MOST_TRIALS"]

MOST_TRIALS = 100_000  # a grid larger than this is a typo, not a plan
_NAME = re.compile(r"[A-Za-z_][\w.-]*")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.-]*)\}")
# YAML 1.1 (PyYAML) reads 1e-3 as text: a learning rate written as people write it is a number here.
_FLOAT = re.compile(r"^[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)[eE][-+]?\d+$")

Scalar = bool | int | float | str | None


@dataclass(frozen=True)
class Parameter:
    """One parameter's space: ``values`` to choose from, or a range ``low``..``high``."""

    name: str
    values: tuple[Scalar, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    def to_dict(self) -> dict[str, Any]:
        if self.values:
            return {"values": list(self.values)}
        return {"min": self.low, "max": self.high, "log": self.log, "int": self.integer}


ARGUMENT_STYLES = ("flags", "hydra", "none")
DISTRIBUTIONS = ("categorical", "constant", "uniform", "int_uniform", "log_uniform_values")


@dataclass(frozen=True)
class SweepSpec:
    name: str
    command: tuple[str, ...]
    method: Literal["grid", "random"]
    parameters: tuple[Parameter, ...]
    count: int | None = None
    seed: int = 0
    metric: str | None = None
    goal: str | None = None  # "min" or "max" for the metric; None: the run's own (from the name)
    arguments: str = "flags"  # how parameters join the command: ARGUMENT_STYLES

    @property
    def key(self) -> str:
        """What identifies this sweep's trials: the same file gives the same key on every machine."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "command": list(self.command), "method": self.method, "count": self.count,
                "seed": self.seed, "metric": self.metric, "goal": self.goal, "arguments": self.arguments,
                "parameters": {p.name: p.to_dict() for p in self.parameters}}


@dataclass(frozen=True)
class Trial:
    index: int
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "params": self.params}


def read_spec(path: Path) -> SweepSpec:
    """The sweep in ``path`` (YAML, or TOML by its ``.toml`` name); BadInput naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"no sweep file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the sweep file {path}: {exc}") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            raw = tomllib.loads(text)
        else:
            import yaml

            raw = yaml.load(text, Loader=_loader())  # noqa: S506 (a SafeLoader, reading 1e-3 as a number)
    except Exception as exc:  # the parser's own words, on one line
        raise BadInput(f"{path.name}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: "
                       f"{' '.join(str(exc).split())}") from None
    return parse_spec(raw, default_name=path.stem, where=path.name)


def _loader() -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
    return Loader


# -- the checks: pydantic for the shape, then the rules between keys ---------------------------


def _models() -> tuple[Any, Any]:
    """The file's shape as pydantic models (made on first use: pydantic is not imported otherwise)."""
    from pydantic import BaseModel, ConfigDict, Field

    class ParameterModel(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        values: list[Scalar] | None = Field(None, min_length=1)
        value: Scalar = None
        min: int | float | None = None
        max: int | float | None = None
        log: bool = False
        distribution: Literal[DISTRIBUTIONS] | None = None  # type: ignore[valid-type]  # W&B's word

    class MetricModel(BaseModel):  # W&B's form of `metric`
        model_config = ConfigDict(extra="forbid", strict=True)
        name: str
        goal: Literal["minimize", "maximize"] | None = None

    class SpecModel(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        name: str | None = None
        command: str | list[str] | None = None
        program: str | None = None  # W&B's: the script, run by python
        method: Literal["grid", "random"] = "grid"
        count: int | None = Field(None, ge=1, le=MOST_TRIALS)
        seed: int = 0
        metric: str | MetricModel | None = None
        arguments: Literal[ARGUMENT_STYLES] = "flags"  # type: ignore[valid-type]
        description: str | None = None  # W&B's; kept out of the trials' identity
        parameters: dict[str, ParameterModel] = Field(min_length=1)

    return SpecModel, ParameterModel


def parse_spec(raw: Any, *, default_name: str = "sweep", where: str = "sweep") -> SweepSpec:
    """A sweep from its file's data (a dict); BadInput with the first problem, naming its key."""
    from pydantic import ValidationError

    spec_model, _ = _models()
    if not isinstance(raw, dict):
        raise BadInput(f"{where}: a sweep file is a mapping of keys (command, method, parameters ...)")
    if raw.get("method") == "bayes" or "early_terminate" in raw:
        said = "method: bayes" if raw.get("method") == "bayes" else "early_terminate"
        raise BadInput(f"{where}: {said} needs W&B's sweep service, which upstack does not run: use method: "
                       "random (or grid)")
    raw = {**raw, "parameters": _long_forms(raw.get("parameters"), where)}
    try:
        model = spec_model.model_validate(raw)
    except ValidationError as exc:
        raise BadInput(f"{where}: {_first_problem(exc)}") from None
    if (model.command is None) == (model.program is None):
        raise BadInput(f"{where}: command: give the command to run (or W&B's program:), one of them")
    command = (("python", model.program) if model.program is not None else
               tuple(shlex.split(model.command) if isinstance(model.command, str) else model.command or ()))
    if not command or not command[0].strip():
        raise BadInput(f"{where}: command is empty: give the program to run, e.g. `python train.py`")
    parameters = tuple(_parameter(name, p, model.method, where) for name, p in model.parameters.items())
    if model.method == "random" and model.count is None:
        raise BadInput(f"{where}: count: method random needs it: how many trials to draw")
    if model.method == "grid" and model.count is not None:
        raise BadInput(f"{where}: count: is for method random (a grid runs every combination once)")
    metric, goal = (model.metric, None) if not hasattr(model.metric, "name") else (
        model.metric.name, {"minimize": "min", "maximize": "max", None: None}[model.metric.goal])
    spec = SweepSpec(name=(model.name or default_name).strip() or default_name, command=command,
                     method=model.method, parameters=parameters, count=model.count, seed=model.seed,
                     metric=metric, goal=goal, arguments=model.arguments)
    size = math.prod(len(p.values) for p in parameters) if spec.method == "grid" else spec.count or 0
    if size > MOST_TRIALS:
        raise BadInput(f"{where}: the grid has {size:,} trials, more than {MOST_TRIALS:,}: fewer values, or "
                       "method random with a count")
    return spec


def _long_forms(parameters: Any, where: str) -> Any:
    """``lr: [1, 2]`` is ``lr: {values: [1, 2]}`` and ``seed: 0`` is ``seed: {value: 0}``."""
    if not isinstance(parameters, dict):
        return parameters  # pydantic says what is wrong with it
    out = {}
    for name, given in parameters.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BadInput(f"{where}: parameters: {name!r} is not a parameter name (letters, digits, _ . -; "
                           "a letter or _ first)")
        out[name] = ({"values": given} if isinstance(given, list)
                     else given if isinstance(given, dict) else {"value": given})
    return out


def _parameter(name: str, given: Any, method: str, where: str) -> Parameter:
    at = f"{where}: parameters.{name}"
    fields = given.model_fields_set - {"distribution"}
    wanted = {"categorical": "values", "constant": "value"}.get(given.distribution or "")
    if wanted and wanted not in fields or given.distribution and not wanted and "min" not in fields:
        raise BadInput(f"{at}: distribution {given.distribution} needs {wanted or 'min and max'}")
    if "values" in fields:
        if fields - {"values"}:
            raise BadInput(f"{at}: give values, or value, or min and max, not several")
        return Parameter(name, values=tuple(given.values))
    if "value" in fields:
        if fields - {"value"}:
            raise BadInput(f"{at}: give values, or value, or min and max, not several")
        return Parameter(name, values=(given.value,))
    if given.min is None or given.max is None:
        raise BadInput(f"{at}: give values: [...], value: ..., or a range with min and max")
    if method == "grid":
        raise BadInput(f"{at}: a grid needs values (a range min..max has no grid): give values, or use "
                       "method: random")
    low, high = given.min, given.max
    if not all(math.isfinite(v) for v in (low, high)) or low > high:
        raise BadInput(f"{at}: min must be a number no greater than max (got {low} and {high})")
    log = given.log or given.distribution == "log_uniform_values"
    if log and low <= 0:
        raise BadInput(f"{at}: log: a log range needs min above 0 (got {low})")
    # As W&B: integers when both ends are (int_uniform), unless the distribution says uniform.
    integer = given.distribution == "int_uniform" or (
        given.distribution is None and isinstance(low, int) and isinstance(high, int))
    return Parameter(name, low=low, high=high, log=log, integer=integer)


def _first_problem(exc: Any) -> str:
    """pydantic's first error as one line: where (``parameters.lr.min``) and what."""
    error = exc.errors()[0]
    # A union's branches add their type names to the path (``str``, ``list[str]``): not the user's keys.
    where = ".".join(str(part) for part in error["loc"] if not _is_type_name(part))
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if error["type"] == "missing":
        return f"{where}: missing"
    return f"{where}: {error['msg'][:1].lower()}{error['msg'][1:]} (got {error.get('input')!r})"


def _is_type_name(part: Any) -> bool:
    return isinstance(part, str) and (part in ("str", "int", "float", "bool", "none")
                                      or "[" in part or part.startswith("function-"))


# -- trials -----------------------------------------------------------------------------------


def trials(spec: SweepSpec) -> list[Trial]:
    """Every trial of ``spec``, in order: a grid in the order the parameters are written (the last
    varies fastest), or ``count`` random draws."""
    if spec.method == "grid":
        names = [p.name for p in spec.parameters]
        return [Trial(i, dict(zip(names, combo, strict=True)))
                for i, combo in enumerate(itertools.product(*(p.values for p in spec.parameters)))]
    return [Trial(i, _draw(spec, i)) for i in range(spec.count or 0)]


def _draw(spec: SweepSpec, index: int) -> dict[str, Any]:
    rng = random.Random(f"{spec.seed}/{index}")  # trial i depends on the seed and i only
    params: dict[str, Any] = {}
    for p in spec.parameters:
        if p.values:
            params[p.name] = p.values[0] if len(p.values) == 1 else rng.choice(p.values)
            continue
        assert p.low is not None and p.high is not None
        value = math.exp(rng.uniform(math.log(p.low), math.log(p.high))) if p.log else rng.uniform(p.low, p.high)
        params[p.name] = min(max(round(value), int(p.low)), int(p.high)) if p.integer else float(f"{value:.6g}")
    return params


def format_value(value: Any) -> str:
    """A parameter as a command-line word: numbers as Python writes them, true/false, null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def trial_argv(command: tuple[str, ...] | list[str], params: dict[str, Any], arguments: str = "flags") -> list[str]:
    """The command of a trial: each ``{name}`` in it replaced by that parameter, and the parameters
    it does not name appended as ``--name=value`` (``arguments="hydra"``: ``name=value``; ``"none"``:
    not at all). Each stays one argument, spaces and all."""
    named: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in params:
            return match.group(0)  # braces of the user's own, left as they are
        named.add(match.group(1))
        return format_value(params[match.group(1)])

    words = [_PLACEHOLDER.sub(fill, word) for word in command]
    if arguments == "none":
        return words
    prefix = "" if arguments == "hydra" else "--"
    return words + [f"{prefix}{name}={format_value(value)}" for name, value in params.items() if name not in named]
