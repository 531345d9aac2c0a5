"""The stages of the CI server's trunk builds (Buildbot's steps), read over REST: the pipeline each commit went through."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core.errors import HostError, LadderError
from ..core.hosts import Host
from .ci_render import BUILDER
from .ci_server import READ_TIMEOUT, RESULTS, split_answers

q = shlex.quote
_SEP = "--ladder-ci--"  # ci_server's separator between JSON answers
# Buildbot's own steps before the team's: not stages of the pipeline.
HIDDEN = ("worker_preparation",)
FOLLOW_LIMIT = 5  # the latest builds read while following one: a pushed revision's build is among them


@dataclass(frozen=True)
class Stage:
    """One step of a build: its name, result (or running / not run) and times."""

    name: str
    result: str
    started: datetime | None
    complete: datetime | None

    @property
    def seconds(self) -> float | None:
        """How long it took; None while it runs or when it never ran."""
        if self.started is None or self.complete is None:
            return None
        return (self.complete - self.started).total_seconds()


@dataclass(frozen=True)
class Run:
    """One trunk build with its stages, oldest stage first."""

    number: int
    revision: str
    result: str
    started: datetime
    complete: datetime | None
    stages: tuple[Stage, ...]

    def stage(self, name: str) -> Stage | None:
        """The stage with this name, if the build has it."""
        return next((s for s in self.stages if s.name == name), None)

    @property
    def reached(self) -> str:
        """The last stage that passed ('' when none did)."""
        passed = [s.name for s in self.stages if s.result == "success"]
        return passed[-1] if passed else ""

    @property
    def failed_at(self) -> str:
        """The first stage that failed ('' when none did; a stage still running or not run has not)."""
        return next((s.name for s in self.stages if s.result not in ("success", "running", "not run")), "")


def _time(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def _result(item: dict) -> str:
    if not item.get("complete"):
        return "running" if item.get("started_at") else "not run"
    code = item.get("results")
    return RESULTS[code] if isinstance(code, int) and 0 <= code < len(RESULTS) else "running"


def parse_stages(answer: dict) -> tuple[Stage, ...]:
    """A build's stages from the REST answer of /builds/<id>/steps."""
    ordered = sorted(answer["steps"], key=lambda s: s["number"])
    return tuple(
        Stage(
            s["name"],
            _result(s),
            _time(s.get("started_at")),
            _time(s.get("complete_at")) if s.get("complete") else None,
        )
        for s in ordered
        if s["name"] not in HIDDEN
    )


def parse_run(build: dict, steps: dict) -> Run:
    """A trunk build (with its revision property) and its steps' answer as a Run."""
    props = build.get("properties") or {}
    revision = str((props.get("got_revision") or props.get("revision") or [""])[0])
    return Run(
        build["number"],
        revision,
        _result(build),
        datetime.fromtimestamp(build["started_at"], UTC),
        _time(build.get("complete_at")) if build.get("complete") else None,
        parse_stages(steps),
    )


def _get(host: Host, api: str, paths: list[str], timeout: float) -> list[dict]:
    each = max(1.0, timeout / (len(paths) + 1))
    cmd = f"; echo {_SEP}; ".join(f"curl -fsS --max-time {each:g} {q(api + p)}" for p in paths)
    return split_answers(host.run(f"set -e; {cmd}", timeout=timeout).stdout)


def get_runs(host: Host, url: str, limit: int = 20, timeout: float = READ_TIMEOUT) -> list[Run]:
    """The latest trunk builds with their stages, oldest first, read on the master's host."""
    api = url.rstrip("/") + "/api/v2/"
    (builders,) = _get(host, api, ["builders"], timeout)
    ids = [b["builderid"] for b in builders["builders"] if b["name"] == BUILDER]
    if not ids:
        return []
    props = "property=got_revision&property=revision"
    (builds,) = _get(host, api, [f"builders/{ids[0]}/builds?order=-number&limit={limit}&{props}"], timeout)
    found = builds["builds"]
    if not found:
        return []
    answers = _get(host, api, [f"builds/{b['buildid']}/steps" for b in found], timeout * 2)
    return sorted((parse_run(b, s) for b, s in zip(found, answers, strict=True)), key=lambda r: r.number)


def follow_run(host: Host, url: str, revision: str, deadline: float, *, gated: bool = False) -> list[Run]:
    """Read the trunk builds until revision's is done (or, gated, waits for approval); LadderError past deadline."""
    end = time.monotonic() + deadline
    while True:
        try:
            runs = get_runs(host, url, limit=FOLLOW_LIMIT)
        except HostError:  # a busy master: ask again within the deadline
            runs = []
        mine = [r for r in runs if r.revision == revision]
        waiting = gated and mine and (s := mine[-1].stage("wait for approval")) and s.result == "running"
        if mine and (mine[-1].complete is not None or waiting):
            return runs
        if time.monotonic() > end:
            raise LadderError(
                f"{url}: the trunk build of {revision[:12]} did not finish in {deadline:g}s; "
                "see the CI server's web page and the worker's twistd.log on the build host"
            )
        time.sleep(1)
