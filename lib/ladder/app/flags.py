"""Feature flags on a host: a JSON file of name -> on/off in the host's shared config, which the app re-reads.

Facts read it (get_flags runs one command, parse_flags is pure); operations change it with an atomic
write (a temporary file renamed over the old one), so the app never reads half a file.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core import ops
from ..core.errors import HostError, OptionError
from ..core.fleet import run_all
from ..core.hosts import Host
from .layout import Layout, layout_of

q = shlex.quote
FILENAME = "flags.json"
TIMEOUT = 30  # seconds for each read or write of a flags file
MISSING = "missing"
PRESENT = "present"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
VALUES = {"on": True, "off": False, "true": True, "false": False}


def flags_path(layout: Layout) -> str:
    """Where a host keeps its environment's flags: the shared config, which outlives a release."""
    return f"{layout.shared}/{FILENAME}"


def check_name(name: str) -> str:
    """A flag name as written in the flags file (lower case, digits, - and _), or OptionError."""
    if not isinstance(name, str) or not NAME.match(name):
        raise OptionError("NAME", str(name), "a flag name is lower-case letters, digits, - and _, like redesign")
    return name


def parse_value(value: str | bool) -> bool:
    """on/off (or true/false, or a bool) as a bool, or OptionError."""
    if isinstance(value, bool):
        return value
    found = VALUES.get(str(value).strip().lower())
    if found is None:
        raise OptionError("VALUE", str(value), "a flag is turned on or off: pass on or off")
    return found


def shown(value: bool | None) -> str:
    """on, off, or - for a flag the file does not hold."""
    return "-" if value is None else ("on" if value else "off")


def parse_flags(text: str) -> dict[str, bool]:
    """A flags file's text as {name: on}; ValueError naming what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError('must be a JSON object of flag names to true or false, like {"redesign": false}')
    bad = sorted(str(k) for k, v in data.items() if not isinstance(v, bool) or not NAME.match(str(k)))
    if bad:
        raise ValueError(f"flags {', '.join(bad)} are not a name with true or false")
    return dict(sorted(data.items()))


def render(flags: Mapping[str, bool]) -> str:
    """A flags file's text: sorted keys, so writing the same flags again changes nothing."""
    return json.dumps(dict(sorted(flags.items())), indent=2) + "\n"


def parse_output(output: str) -> dict[str, bool] | None:
    """Parse get_flags's command output: None when the host has no flags file."""
    head, _, rest = output.partition("\n")
    if head.strip() == MISSING:
        return None
    if head.strip() != PRESENT:
        raise ValueError(f"unexpected output {head[:60]!r}")
    return parse_flags(rest)


def get_flags(host: Host, timeout: float = TIMEOUT) -> dict[str, bool] | None:
    """The host's flags, or None when it has no flags file; HostError for a file the app cannot read."""
    path = flags_path(layout_of(host))
    cmd = f"if [ -f {q(path)} ]; then echo {PRESENT}; cat -- {q(path)}; else echo {MISSING}; fi"
    try:
        return parse_output(host.run(cmd, timeout=timeout).stdout)
    except ValueError as exc:
        raise HostError(
            f"{path}: {exc}; fix the file or write it again with `ladder flags set`", host=host.name
        ) from None


def write_command(path: str, flags: Mapping[str, bool]) -> str:
    """Shell that writes the flags file atomically: the app reads the old file or the new one, never half of one."""
    folder = path.rsplit("/", 1)[0]
    tmp = f"{path}.ladder-new"
    return f"mkdir -p -- {q(folder)} && printf '%s' {q(render(flags))} > {q(tmp)} && mv -f -- {q(tmp)} {q(path)}"


@dataclass(frozen=True)
class Flip:
    """One flag on one host: its value before (None: not in the file) and the value wanted, with the Change."""

    host: str
    flag: str
    old: bool | None
    new: bool
    change: ops.Change

    def to_dict(self) -> dict:
        """A plain dict for tables, JSON and the journal."""
        return {
            "host": self.host,
            "flag": self.flag,
            "old": shown(self.old),
            "new": shown(self.new),
            "outcome": self.change.outcome,
        }


def _write(host: Host, flags: Mapping[str, bool], reason: str, *, dry_run: bool) -> ops.Change:
    path = flags_path(layout_of(host))
    action = ops.command(host, write_command(path, flags), TIMEOUT)
    return ops.settle(host, "flags", path, [action], reason, dry_run=dry_run)


def set_flag(
    host: Host, name: str, value: bool, *, current: Mapping[str, bool] | None = None, dry_run: bool = True
) -> Flip:
    """Set one flag in the host's file, keeping its other flags; a plan unless dry_run is False.

    current is the file's flags when already read (so a fleet reads once, before it changes anything).
    """
    flags = dict(get_flags(host) or {}) if current is None else dict(current)
    old = flags.get(name)
    if old is value:
        return Flip(host.name, name, old, value, ops.settle(host, "flags", flags_path(layout_of(host)), []))
    flags[name] = value
    change = _write(host, flags, f"{name}: {shown(old)} -> {shown(value)}", dry_run=dry_run)
    return Flip(host.name, name, old, value, change)


def read_all(hosts: Iterable[Host]) -> dict[str, dict[str, bool] | None]:
    """Every host's flags (None: no file), read in parallel; FleetError naming each host that failed."""
    return run_all(hosts, get_flags, deadline=TIMEOUT + 30)  # type: ignore[return-value]


def set_everywhere(hosts: Iterable[Host], name: str, value: str | bool, *, dry_run: bool = True) -> list[Flip]:
    """Set a flag on every host of an environment; refused before any write when a host does not know the flag.

    A flag is known once installed (install); a second call changes nothing.
    """
    name, wanted = check_name(name), parse_value(value)
    hosts = list(hosts)
    found = read_all(hosts)
    unknown = sorted(h for h, flags in found.items() if name not in (flags or {}))
    if unknown:
        known = sorted({k for flags in found.values() for k in (flags or {})})
        raise OptionError(
            "NAME",
            name,
            f"no flag of that name on {', '.join(unknown)} (known: {', '.join(known) or 'none'}); "
            "add it to the app's flags first (rung 2 installs them)",
        )
    done = run_all(
        hosts, lambda h: set_flag(h, name, wanted, current=found[h.name], dry_run=dry_run), deadline=TIMEOUT + 30
    )
    return list(done.values())  # type: ignore[arg-type]


def install(host: Host, defaults: Mapping[str, bool], *, dry_run: bool = True) -> ops.Change:
    """Add each flag the host's file lacks with its default; a flag already there keeps its value (set owns it)."""
    for name in defaults:
        check_name(name)
    current = get_flags(host) or {}
    missing = {k: bool(v) for k, v in defaults.items() if k not in current}
    if not missing:
        return ops.settle(host, "flags", flags_path(layout_of(host)), [], dry_run=dry_run)
    reason = "add " + ", ".join(f"{k}={shown(v)}" for k, v in sorted(missing.items()))
    return _write(host, {**current, **missing}, reason, dry_run=dry_run)
