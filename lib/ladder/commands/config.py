"""`ladder config schema|check`: ladder.yml's JSON Schema, and a check of a file against it."""

from __future__ import annotations

import argparse
import json

from ..core.config import load_config, schema


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder config ...` to the CLI's subcommands."""
    actions = sub.add_parser("config", help="ladder.yml: its schema, and a check").add_subparsers(
        dest="action", required=True
    )
    p = actions.add_parser("schema", help="print the JSON Schema of ladder.yml (for editors and CI)")
    p.set_defaults(func=cmd_schema)
    p = actions.add_parser("check", help="validate a ladder.yml as every command reads it (exit 2 when not valid)")
    p.add_argument(
        "--config", default=None, help="ladder.yml, or 'sandbox' (default: $LADDER_CONFIG, ./ladder.yml, the sandbox)"
    )
    p.set_defaults(func=cmd_check)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema, made from the models load_config validates with."""
    print(json.dumps(schema(), indent=2))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Load the config with LADDER_* variables merged in; say what it defines."""
    cfg = load_config(args.config)
    envs = "; ".join(
        f"{name}: {', '.join(h.name for h in env.hosts) or 'no hosts'}" for name, env in cfg.environments.items()
    )
    print(f"ok: {cfg.path}: app {cfg.app.name}; {envs}; runs {cfg.runs_dir}")
    return 0
