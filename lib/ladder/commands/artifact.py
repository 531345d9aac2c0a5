"""`ladder artifact build|list`: the app's versioned artifact, built once per version into the artifact store."""

from __future__ import annotations

import argparse

from ..app import artifact
from ..core.config import load_config
from .console import CONFIG_HELP, table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder artifact ...` to the CLI's subcommands."""
    actions = sub.add_parser("artifact", help="the app's wheel and wheelhouse: build, list").add_subparsers(
        dest="action", required=True
    )
    p = actions.add_parser("build", help="build a version on the build host into the store (a plan unless --apply)")
    p.add_argument("--ref", default="HEAD", help="branch, tag or commit of app.repo (default: its HEAD)")
    p.add_argument("--apply", action="store_true", help="build it (default: only show the plan)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_build)
    p = actions.add_parser("version", help="print the version a ref of app.repo builds as (what the pipeline ships)")
    p.add_argument("--ref", default="HEAD", help="branch, tag or commit of app.repo (default: its HEAD)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_version)
    p = actions.add_parser("list", help="the versions in the store: version, git sha, built at, Python, files")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_list)


def cmd_build(args: argparse.Namespace) -> int:
    """Plan or build one version; print each change and one line on the version."""
    built = artifact.build_from_config(load_config(args.config), args.ref, dry_run=not args.apply)
    table(
        [("host", "operation", "outcome", "reason")]
        + [(c.host, c.operation, c.outcome, c.reason) for c in built.changes]
    )
    print(built.summary())
    if not args.apply and not built.reused:
        print("dry run: nothing was built; run again with --apply to build it")
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    """Print only the version of ref, for a script or a CI step to read."""
    print(artifact.get_source(load_config(args.config).app.repo, args.ref).version)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print one line per version in the store, oldest first."""
    cfg = load_config(args.config)
    store = artifact.open_store(cfg)
    with store.host:
        found = [artifact.read_manifest(store, cfg.app.name, v) for v in artifact.versions(store, cfg.app.name)]
    if not found:
        print(f"no artifact of {cfg.app.name} in {store.host.name}:{store.path} yet (ladder artifact build --apply)")
        return 0
    rows = [(m.version, m.git_sha[:12], m.built_at, m.python, str(len(m.files))) for m in found]
    table([("version", "git sha", "built at", "python", "files")] + rows)
    return 0
