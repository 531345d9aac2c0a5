"""Runbook parameters: what a notebook declares, and checks on what a caller passes."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ConfigError, ParameterError, SecretParameterError
from ..core.validation import read_yaml
from .redact import secret_values

# Parameters the runner sets itself; a caller passes them through the runner's own options.
RESERVED = {
    "run_id": "it is set by the runner for every run",
    "run_dir": "it is set by the runner for every run",
    "prod_confirmed": "pass --apply (or apply=True to ladder.engine.runner.run) instead",
    "config": "pass --config PATH (or config= to ladder.runner.run) instead",
}

SECRET_NAME = re.compile(
    r"passw(or)?d|passphrase|secret|token|api_?key|access_?key|private_?key|credential", re.IGNORECASE
)
# A parameter that names where a secret lives (a key file, an env var) is the recommended practice.
LOCATION_SUFFIX = re.compile(r"_(file|path|dir|env|var|name)$", re.IGNORECASE)
SECRET_VALUE = [
    (re.compile(r"-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|CERTIFICATE)"), "private key material"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "a GitHub token"),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), "a GitHub token"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "an API secret key"),
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "a URL with a password in it"),
]
FIX = "pass secrets through an environment variable, an ssh-agent or a key file named by path instead"

_TYPES: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str, "list": list, "dict": dict}
_ANNOTATION = re.compile(r"^(?:typing\.)?(Optional\[)?\s*(\w+)")


@dataclass(frozen=True)
class Parameter:
    """One parameter declared in a notebook's `parameters` cell."""

    name: str
    type_name: str  # 'bool', 'int', 'float', 'str', 'list', 'dict', or 'any' when unknown
    default: str  # the default's source text
    help: str
    optional: bool = False  # None is accepted (default None, or Optional[...])

    @property
    def default_value(self) -> Any:
        """The default as a Python value, or its source text when it is not a literal."""
        try:
            return ast.literal_eval(self.default)
        except (ValueError, SyntaxError):
            return self.default


def _declared_type(annotation: str, default: str) -> tuple[str, bool]:
    """A parameter's type from its annotation, else from its literal default."""
    if annotation and annotation != "None":
        m = _ANNOTATION.match(annotation.strip())
        base = m.group(2).lower() if m else ""
        base = {"list": "list", "dict": "dict"}.get(base, base)
        return (base if base in _TYPES else "any"), bool(m and m.group(1))
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError):
        return "any", False
    if value is None:
        return "any", True
    for name, kind in _TYPES.items():
        if type(value) is kind:
            return name, False
    return "any", False


def declared(notebook: str | Path) -> dict[str, Parameter]:
    """The parameters a notebook declares, read with papermill's inspection."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    out: dict[str, Parameter] = {}
    for name, p in found.items():
        type_name, optional = _declared_type(p["inferred_type_name"], p["default"])
        out[name] = Parameter(name, type_name, p["default"], p["help"], optional)
    return out


def _resolve_untyped(text: str) -> Any:
    """Read a string the way papermill's `-p` does when no type is declared."""
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if text in ("None", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def coerce(param: Parameter, text: str, source: str = "") -> Any:
    """Turn a command-line string into the parameter's declared type, or raise ParameterError."""
    kind = param.type_name
    if param.optional and text in ("None", "null"):
        return None
    if kind == "any":
        return _resolve_untyped(text)
    if kind == "str":
        return text
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise _wrong_type(param, text, source)
    if kind in ("int", "float"):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            raise _wrong_type(param, text, source) from None
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        raise _wrong_type(param, text, source) from None
    if not isinstance(value, _TYPES[kind]):
        raise _wrong_type(param, text, source)
    return value


def _wrong_type(param: Parameter, value: Any, source: str) -> ParameterError:
    where = f" in {source}" if source else ""
    example = {
        "bool": "true or false",
        "int": "a whole number like 3",
        "float": "a number like 0.5",
        "list": "a YAML list like '[a, b]'",
        "dict": "a YAML mapping like '{a: 1}'",
    }.get(param.type_name, "")
    hint = f"; pass {example}" if example else ""
    return ParameterError(
        f"parameter {param.name!r}{where} expects {param.type_name} (default {param.default}), "
        f"got {value!r} ({type(value).__name__}){hint}"
    )


def _type_ok(param: Parameter, value: Any) -> bool:
    if value is None:
        return param.optional or param.type_name == "any"
    if param.type_name == "any":
        return True
    kind = _TYPES[param.type_name]
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple, set)):
        return [s for v in value for s in _strings(v)]
    return []


def check_secret(name: str, value: Any) -> None:
    """Refuse a parameter whose name or value looks like a secret."""
    if SECRET_NAME.search(name) and not LOCATION_SUFFIX.search(name):
        raise SecretParameterError(f"parameter {name!r} looks like a secret by its name; {FIX}")
    known = secret_values()
    for text in _strings(value):
        for pattern, what in SECRET_VALUE:
            if pattern.search(text):
                raise SecretParameterError(f"parameter {name!r} has a value that looks like {what}; {FIX}")
        if any(secret and secret in text for secret in known):
            raise SecretParameterError(f"parameter {name!r} holds the value of a secret environment variable; {FIX}")


def check(
    notebook: str | Path,
    values: Mapping[str, Any],
    *,
    strings: bool = False,
    source: str = "",
    declared_params: Mapping[str, Parameter] | None = None,
    allow_reserved: bool = False,
) -> dict[str, Any]:
    """Validate values against the notebook's declared parameters; return them typed.

    With strings=True the values are command-line text and are coerced to each
    declared type; otherwise they must already have it.
    """
    params = dict(declared(notebook) if declared_params is None else declared_params)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if not allow_reserved and name in RESERVED:
            raise ParameterError(f"parameter {name!r} cannot be passed: {RESERVED[name]}")
        check_secret(name, value)
        if name not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ParameterError(f"unknown parameter {name!r} for {Path(notebook).name}; it declares: {known}")
        param = params[name]
        if strings and isinstance(value, str):
            value = coerce(param, value, source)
        elif not _type_ok(param, value):
            raise _wrong_type(param, value, source)
        out[name] = value
    return out


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a params.yml: a mapping of parameter name to value."""
    file = Path(path)
    if not file.is_file():
        raise ParameterError(f"{file}: parameters file not found; pass -f PATH to an existing YAML file")
    try:
        data = read_yaml(file)  # not UTF-8, not YAML, or nested absurdly deep: one line, no traceback
    except ConfigError as exc:
        raise ParameterError(str(exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ParameterError(f"{file}: must be a mapping of parameter name to value, like 'dry_run: false'")
    return data
