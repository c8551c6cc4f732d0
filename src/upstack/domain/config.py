"""A run's configuration as plain JSON data, whatever the training script keeps it in.

Optional libraries (OmegaConf, pydantic, numpy) are recognised by duck typing or by
their type's module, never imported here unless the object handed in came from them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os
import sys
from collections.abc import Mapping
from typing import Any

from upstack.errors import BadInput

__all__ = ["config_to_dict", "flatten"]


def config_to_dict(config: Any) -> dict[str, Any]:
    """Turn a config into a JSON-serialisable dict with string keys.

    Accepts None (an empty config), a mapping, a dataclass instance, an
    ``argparse.Namespace``, an OmegaConf ``DictConfig`` (interpolations resolved) or a
    pydantic model. Values become JSON types: paths become strings, tuples and sets
    lists, enums their values, numpy scalars Python numbers, anything else its repr.

    >>> config_to_dict({"optim": {"lr": 3e-4, "betas": (0.9, 0.99)}})
    {'optim': {'lr': 0.0003, 'betas': [0.9, 0.99]}}
    """
    if config is None:
        return {}
    if _is_omegaconf(config):
        config = _omegaconf_container(config)
        if not isinstance(config, Mapping):
            raise BadInput("config must be a mapping at the top level; got an OmegaConf ListConfig")
    elif _is_namespace(config):
        config = vars(config)
    elif dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = _dataclass_fields(config)
    elif _is_pydantic(config):
        config = config.model_dump()
    if not isinstance(config, Mapping):
        raise BadInput("config must be a dict, dataclass, argparse namespace or OmegaConf config; "
                       f"got {type(config).__name__}")
    return _mapping(config, set())


def flatten(config: Mapping[str, Any]) -> dict[str, Any]:
    """Nested mappings as one level with dotted keys; other values (lists too) are kept whole.

    An empty nested mapping is kept as a value, so no key disappears.

    >>> flatten({"optim": {"lr": 3e-4, "name": "adam"}, "seed": 1})
    {'optim.lr': 0.0003, 'optim.name': 'adam', 'seed': 1}
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            for inner_key, inner_value in flatten(value).items():
                flat[f"{key}.{inner_key}"] = inner_value
        else:
            flat[str(key)] = value
    return flat


def _is_omegaconf(value: Any) -> bool:
    return type(value).__module__.startswith("omegaconf")


def _omegaconf_container(value: Any) -> Any:
    from omegaconf import OmegaConf  # only reached with an OmegaConf object in hand

    return OmegaConf.to_container(value, resolve=True)


def _is_pydantic(value: Any) -> bool:
    return callable(getattr(value, "model_dump", None)) and not isinstance(value, type)


def _is_namespace(value: Any) -> bool:
    # An argparse.Namespace exists only if argparse was imported: no need to import it here.
    argparse = sys.modules.get("argparse")
    return argparse is not None and isinstance(value, argparse.Namespace)


def _dataclass_fields(value: Any) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies every value, which fails or is slow for
    # objects such as devices, locks or tensors that are only repr'd in the end.
    return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}


def _mapping(value: Mapping[Any, Any], active: set[int]) -> dict[str, Any]:
    active.add(id(value))
    converted = {_key(key): _plain(item, active) for key, item in value.items()}
    active.discard(id(value))
    return converted


def _key(key: Any) -> str:
    return str(key.value) if isinstance(key, enum.Enum) else str(key)


def _plain(value: Any, active: set[int]) -> Any:
    """A JSON value for any Python value; ``active`` holds the containers being converted."""
    if value is None or type(value) in (str, bool, int, float):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value, active)
    for plain_type in (bool, int, float, str):  # subclasses, such as numpy.float64, as the plain type
        if isinstance(value, plain_type):
            return plain_type(value) if plain_type is not str else str.__str__(value)
    if id(value) in active:
        return "<cycle>"  # a container holding itself would otherwise recurse forever
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if _is_omegaconf(value):
        return _plain(_omegaconf_container(value), active)
    if isinstance(value, Mapping):
        return _mapping(value, active)
    if isinstance(value, list | tuple | set | frozenset):
        active.add(id(value))
        items = [_plain(item, active) for item in value]
        active.discard(id(value))
        if isinstance(value, set | frozenset):
            items.sort(key=repr)  # set order changes between processes
        return items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _mapping(_dataclass_fields(value), active)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if _is_namespace(value):
        return _mapping(vars(value), active)
    if _is_pydantic(value):
        return _plain(value.model_dump(), active)
    return _scalar_item(value)


def _scalar_item(value: Any) -> Any:
    """A numpy (or torch) scalar as a Python number; anything else as its repr."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            plain = item()
        except (TypeError, ValueError, RuntimeError):  # arrays with many elements refuse
            plain = value
        if plain is None or type(plain) in (str, bool, int, float):
            return plain
    return repr(value)
