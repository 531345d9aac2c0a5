"""Typed input files: a strict pydantic base, YAML read without surprises, and errors told in words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from .errors import ConfigError
from .names import WORDS


class Strict(BaseModel):
    """A section of an input file: exact types (no '22' for 22, no true for 1), unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
    # field -> how to fix it, said after what is wrong with it
    fixes: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        """Refuse an unknown key where it is, listing the allowed ones (a typo is the usual cause)."""
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key {key}; allowed: {allowed}",
                        {"key": _shown(key), "allowed": ", ".join(cls.model_fields)},
                    )
        return data


def _shown(value: Any, limit: int = 60) -> str:
    """A value as a short one-line repr."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def dotted(loc: tuple[int | str, ...]) -> str | None:
    """('environments', 'prod', 'hosts', 0, 'port') -> 'environments.prod.hosts[0].port'."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int) or not _PLAIN.fullmatch(part):
            out += f"[{_shown(part)}]"  # a list index, or a key that is no plain word
        else:
            out += f".{part}" if out else part
    return out or None


_KINDS = {
    bool: "a boolean",
    int: "a whole number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
}


def kind(value: Any) -> str:
    """What a value is, in words: 'a list', 'a mapping', 'text'."""
    return next((words for t, words in _KINDS.items() if type(value) is t), type(value).__name__)


_MESSAGES = {
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "finite_number": "must be a finite number",
    "none_required": "must be null",
}


def describe(error: ErrorDetails) -> str:
    """One pydantic error in words."""
    kind_, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind_ in _MESSAGES:
        return f"{_MESSAGES[kind_]}, got {_shown(value)} ({kind(value)})"
    if kind_ == "missing":
        return f"is required; add {error['loc'][-1] if error['loc'] else 'it'}:"
    if kind_ == "string_pattern_mismatch":
        return f"{_shown(value)} is not valid; use {WORDS.get(ctx.get('pattern', ''), 'the documented form')}"
    if kind_ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = format(next(iter(ctx.values())), "g")
        word = {"greater_than": "above", "greater_than_equal": "at least", "less_than": "below"}.get(kind_, "at most")
        return f"{_shown(value)} is out of range; use a value {word} {bound}"
    if kind_ == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{_shown(value)} is not known; use one of {expected}"
    if kind_ == "too_short":
        return "must not be empty"
    if kind_ == "too_long":
        return f"is too long; use at most {ctx.get('max_length')} items"
    return error["msg"].removeprefix("Value error, ")


def explain(
    exc: ValidationError, model: type[Strict], *, path: Any, error: type[ConfigError] = ConfigError
) -> ConfigError:
    """The first problem of a validation as a Ladder error naming the file, the dotted key and the fix."""
    problems = exc.errors(include_url=False)
    first = problems[0]
    loc = first["loc"]
    message = describe(first)
    fix = _holder(model, loc).fixes.get(str(loc[-1])) if loc and first["type"] != "unknown_key" else None
    if fix:
        message = f"is required; {fix}" if first["type"] == "missing" else f"{message}; {fix}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return error(message, path=path, key=dotted(loc))


def _holder(model: type[Strict], loc: tuple[int | str, ...]) -> type[Strict]:
    """The model that holds loc's last field, found by walking the models along loc (the root when lost)."""
    current: type[Strict] = model
    for part in loc[:-1]:
        info = current.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            continue  # a list index or a mapping key: the same model's items
        inner = _model_in(info.annotation)
        if inner is None:
            return model
        current = inner
    return current


def _model_in(annotation: Any) -> Any:
    """The first Strict model inside an annotation such as `EnvSection | None` or `dict[str, EnvSection]`."""
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def read_yaml(path: Path, *, error: type[ConfigError] = ConfigError) -> Any:
    """A YAML file's data; an unreadable, non-UTF-8, invalid or absurdly nested file raises `error` naming it."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"is not UTF-8 text (byte {exc.start}); save it as UTF-8", path=path) from None
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror}); pass a readable file", path=path) from None
    return parse_yaml(text, path=path, error=error)


def parse_yaml(text: str, *, path: Any = None, key: str | None = None, error: type[ConfigError] = ConfigError) -> Any:
    """YAML text's data, or `error` naming where it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = str(getattr(exc, "problem", None) or exc).replace("\n", " ")
        raise error(f"not valid YAML{where}: {problem}", path=path, key=key) from None
    except RecursionError:
        raise error("is nested too deeply to read; flatten it", path=path, key=key) from None
