"""Typed settings from the environment, failing with the variable's name.

Read settings at module level (init phase) so a missing variable fails the first invocation
loudly, instead of surfacing as `KeyError: 'TABLE'` deep inside a handler. An empty value counts as
missing: it is almost always a templating mistake (`${UNSET}`), never a meaningful setting.
`env` is injectable so tests do not have to mutate `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Final, overload

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Final = _Missing()


class SettingError(Exception):
    """Base class: a setting is missing or has an invalid value. `name` is the variable."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class MissingSetting(SettingError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"required environment variable {name} is not set (or is empty); "
                               "set it in the function's environment")


class InvalidSetting(SettingError, ValueError):
    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(name, f"environment variable {name}={value!r} is invalid: expected {expected}")


def _raw(name: str, env: Mapping[str, str] | None) -> str | None:
    value = (os.environ if env is None else env).get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


@overload
def get_str(name: str, default: str | _Missing = REQUIRED, *, choices: Collection[str] | None = None,
            env: Mapping[str, str] | None = None) -> str: ...
@overload
def get_str(name: str, default: None, *, choices: Collection[str] | None = None,
            env: Mapping[str, str] | None = None) -> str | None: ...
def get_str(name: str, default: str | _Missing | None = REQUIRED, *, choices: Collection[str] | None = None,
            env: Mapping[str, str] | None = None) -> str | None:
    """The variable's value, stripped; `default` when unset; `MissingSetting` when required."""
    raw = _raw(name, env)
    if raw is None:
        if isinstance(default, _Missing):
            raise MissingSetting(name)
        return default
    if choices is not None and raw not in choices:
        raise InvalidSetting(name, raw, f"one of {', '.join(sorted(choices))}")
    return raw


@overload
def get_int(name: str, default: int | _Missing = REQUIRED, *, minimum: int | None = None,
            maximum: int | None = None, env: Mapping[str, str] | None = None) -> int: ...
@overload
def get_int(name: str, default: None, *, minimum: int | None = None, maximum: int | None = None,
            env: Mapping[str, str] | None = None) -> int | None: ...
def get_int(name: str, default: int | _Missing | None = REQUIRED, *, minimum: int | None = None,
            maximum: int | None = None, env: Mapping[str, str] | None = None) -> int | None:
    """An integer, optionally within [minimum, maximum]; the default is not range-checked."""
    raw = _raw(name, env)
    if raw is None:
        if isinstance(default, _Missing):
            raise MissingSetting(name)
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise InvalidSetting(name, raw, "an integer") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "-inf" if minimum is None else str(minimum)
        high = "inf" if maximum is None else str(maximum)
        raise InvalidSetting(name, raw, f"an integer from {low} to {high}")
    return value


@overload
def get_bool(name: str, default: bool | _Missing = REQUIRED, *,
             env: Mapping[str, str] | None = None) -> bool: ...
@overload
def get_bool(name: str, default: None, *, env: Mapping[str, str] | None = None) -> bool | None: ...
def get_bool(name: str, default: bool | _Missing | None = REQUIRED, *,
             env: Mapping[str, str] | None = None) -> bool | None:
    """true/false, 1/0, yes/no, on/off (any case). Anything else is an error, not False:
    `DRY_RUN=ture` silently meaning "not a dry run" is how production data gets deleted."""
    raw = _raw(name, env)
    if raw is None:
        if isinstance(default, _Missing):
            raise MissingSetting(name)
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidSetting(name, raw, "true/false, 1/0, yes/no or on/off")
