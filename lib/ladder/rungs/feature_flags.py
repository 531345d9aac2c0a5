"""Rung 2's feature flags on an environment's hosts: install the flags files, list them, flip one (journaled)."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..app import flags
from ..app.flags import Flip
from ..core import ops
from ..core.config import Config
from ..core.fleet import run_all
from ..core.hosts import environment_hosts
from ..engine import journal
from . import flagged_app

KIND = "flag"  # the journal's kind for a flag flip


@dataclass(frozen=True)
class FlagValue:
    """One flag's value on one host of an environment (None: the host's file does not hold it)."""

    flag: str
    env: str
    host: str
    value: bool | None


def install(
    config: Config, defaults: Mapping[str, Mapping[str, bool]] | None = None, *, dry_run: bool = True
) -> list[ops.Change]:
    """Put each environment's flags file on its hosts (default: the redesign on in dev, off in prod).

    defaults maps environment -> {flag: value}; a flag a host already holds keeps its value.
    """
    wanted = defaults or {env: flagged_app.flags_defaults(env) for env in config.environments}
    for env, held in wanted.items():
        config.environment(env)
        for name in held:
            flags.check_name(name)
    changes: list[ops.Change] = []
    for env, held in wanted.items():
        hosts = environment_hosts(config, env)
        done = run_all(hosts, partial(flags.install, defaults=held, dry_run=dry_run), deadline=flags.TIMEOUT + 30)
        changes += done.values()  # type: ignore[arg-type]
    return changes


def values(config: Config, env: str | None = None) -> list[FlagValue]:
    """Every flag on every host of one environment (default: all), sorted by flag, environment, host."""
    envs = [config.environment(env).name] if env else list(config.environments)
    rows = []
    for name in envs:
        found = flags.read_all(environment_hosts(config, name))
        names = sorted({k for held in found.values() for k in (held or {})})
        rows += [FlagValue(f, name, host, (held or {}).get(f)) for f in names for host, held in found.items()]
    return sorted(rows, key=lambda r: (r.flag, r.env, r.host))


def flip(
    config: Config, name: str, value: str | bool, *, env: str, dry_run: bool = True, runs_dir: Path | None = None
) -> list[Flip]:
    """Set a flag on every host of env, without a deploy; an apply is journaled (who, when, old and new values).

    Validated before any host is touched: the environment, the name and the value.
    """
    config.environment(env)
    flags.check_name(name)
    wanted = flags.parse_value(value)
    done = flags.set_everywhere(environment_hosts(config, env), name, wanted, dry_run=dry_run)
    if not dry_run:
        record(runs_dir or config.runs_dir, env, name, wanted, done)
    return done


def record(runs_dir: Path, env: str, name: str, value: bool, done: list[Flip]) -> str:
    """Journal a flip: who (the local user), when, the environment, and each host's old and new value."""
    run_id = journal.new_run_id()
    changed = [f for f in done if f.change.outcome == "changed"]
    journal.add(
        journal.journal_path(runs_dir),
        run_id=run_id,
        kind=KIND,
        runbook=f"flags set {name}",
        params={"env": env, "flag": name, "value": flags.shown(value)},
        status="failed" if any(f.change.failed for f in done) else "ok",
        changes=len(changed),
        hosts={f.host: f.change.outcome for f in done},
        summary={"who": getpass.getuser(), "env": env, "flag": name, "flips": [f.to_dict() for f in done]},
    )
    return run_id
