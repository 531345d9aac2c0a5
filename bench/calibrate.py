"""Calibration: Ladder's rung classes and level against an expert's, on a corpus of public repositories.

Run: .venv/bin/python bench/calibrate.py [--corpus DIR] [--only NAME] [--jobs N] [--runs DIR] [--reuse]

Reads bench/calibration.yml (written before running Ladder), finds each repository's clone under
--corpus (default $LADDER_CORPUS) as DIR/<owner>+<name> or DIR/<name>, builds the small immature
repositories of bench/immature.py, runs `ladder assess` on each (with --as-of last-commit; the kind
is left to Ladder to detect, and compared with the expected one), and prints one row per repository
and rung: expected, Ladder's score and class, agreement, and the explanation kept under
`disagreements:`; then kind, rung and level agreement against the targets. Missing clones are listed as skipped. Exit 0, or 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from immature import BUILDERS  # noqa: E402

HERE = Path(__file__).resolve().parent
CALIBRATION = HERE / "calibration.yml"
CLASSES = ("high", "medium", "low", "n-a", "unknown")
KINDS = ("service", "library", "self-hosted")
HIGH, MEDIUM = 7.0, 4.0
RUNG_TARGET, LEVEL_TARGET = 0.85, 0.75
TIMEOUT = 3600


class CalibrationError(ValueError):
    """calibration.yml is malformed: the message names the entry, the field and the fix."""


@dataclass(frozen=True)
class Row:
    """One repository x rung: what the expert expected, what Ladder gave, and why they differ."""

    repo: str
    rung: str
    expected: str
    score: float | None
    got: str
    note: str = ""

    @property
    def agree(self) -> bool:
        """True when Ladder's class is the expected one."""
        return self.expected == self.got


def classify(rung: Mapping[str, Any]) -> str:
    """A rung of assessment.json as high/medium/low, 'n-a' (not applicable) or 'unknown' (inconclusive)."""
    score = rung.get("score")
    if rung.get("applicable") is False or "n/a" in (score, rung.get("status"), rung.get("label")):
        return "n-a"
    if score is None or rung.get("status") == "inconclusive":
        return "unknown"
    return "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"


def _entry_name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("repo") or entry.get("name"))


def validate(data: Any, rung_ids: Iterable[str]) -> dict[str, Any]:
    """The calibration document, checked: rung ids from the model, classes, kinds, levels, notes."""
    known = set(rung_ids)
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        raise CalibrationError("calibration.yml: needs a `repos:` list; see the file header")
    rungs = [str(r) for r in data.get("rungs") or []]
    if unknown := set(rungs) - known:
        raise CalibrationError(f"calibration.yml: rungs {sorted(unknown)} are not in the model; use {sorted(known)}")
    entries = list(data["repos"]) + list(data.get("built") or [])
    for entry in entries:
        name = _entry_name(entry)
        if "repo" in entry and ("/" not in entry["repo"] or len(str(entry.get("commit", ""))) != 40):
            raise CalibrationError(f"calibration.yml: {name}: give `repo: owner/name` and the 40-hex `commit`")
        if "name" in entry and entry["name"] not in BUILDERS:
            raise CalibrationError(f"calibration.yml: built {name}: no builder; choose one of {sorted(BUILDERS)}")
        if entry.get("kind") not in KINDS:
            raise CalibrationError(f"calibration.yml: {name}: kind must be one of {KINDS}")
        expected = {str(k): v for k, v in (entry.get("expected") or {}).items()}
        if set(expected) != set(rungs):
            raise CalibrationError(f"calibration.yml: {name}: `expected` must give exactly the rungs {rungs}")
        for rung, item in expected.items():
            if not isinstance(item, dict) or item.get("value") not in CLASSES or not item.get("why"):
                raise CalibrationError(
                    f"calibration.yml: {name} rung {rung}: give `value` ({'|'.join(CLASSES)}) and `why`"
                )
            if "original" in item and (item["original"] not in CLASSES or not item.get("changed")):
                raise CalibrationError(
                    f"calibration.yml: {name} rung {rung}: `original` needs a class and `changed: why`"
                )
        if str(entry.get("level")) not in known | {"0", "3"}:
            raise CalibrationError(f"calibration.yml: {name}: level {entry.get('level')!r} is not a rung id, 0 or 3")
        entry["expected"] = expected
    names = {_entry_name(e) for e in entries}
    for name, notes in (data.get("disagreements") or {}).items():
        if name not in names or not isinstance(notes, dict):
            raise CalibrationError(f"calibration.yml: disagreements: {name!r} is not a repo or built name of this file")
        if bad := {str(k) for k in notes} - set(rungs) - {"level"}:
            raise CalibrationError(
                f"calibration.yml: disagreements: {name}: {sorted(bad)} are neither rungs nor `level`"
            )
    return data


def implied_level(expected: Mapping[str, Mapping[str, Any]], rungs: Sequence[Any]) -> str:
    """The level an entry's rung classes give by the file's rule, the model's `requires` and groups.

    A rung is reached when it is high and every rung it requires is reached or n-a (n-a passing its own
    requirements on); unknown blocks. A group ("3") is the level once all its rungs are reached.
    """
    clear: dict[str, bool] = {}  # reached, or n-a with every requirement clear
    level = "0"
    for rung in (r for r in rungs if r.ladder):
        value = expected[rung.id]["value"]
        below = all(clear.get(req, False) for req in rung.requires)
        reached = value == "high" and below
        clear[rung.id] = below and (reached or value == "n-a")
        if reached:
            level = rung.id
            group = [r.id for r in rungs if r.group and r.group == rung.group]
            if group and all(expected[g]["value"] == "high" and clear.get(g) for g in group):
                level = rung.group
    return level


def check_levels(data: Mapping[str, Any], rungs: Sequence[Any]) -> None:
    """Every entry's `level` is the one its rung classes give; else the entry, both levels and the fix."""
    for entry in list(data["repos"]) + list(data.get("built") or []):
        implied = implied_level(entry["expected"], rungs)
        if str(entry["level"]) != implied:
            raise CalibrationError(
                f"calibration.yml: {_entry_name(entry)}: level {entry['level']!r} is not the {implied!r} its rung "
                "classes give by the header's rule; change the level or a class (keeping the original and why)"
            )


def load_calibration(path: Path = CALIBRATION) -> dict[str, Any]:
    """Read and validate calibration.yml against Ladder's model: rungs, classes, and levels that follow from them."""
    from ladder.assess.model import load_model

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CalibrationError(f"{path}: cannot read ({exc})") from None
    rungs = load_model().rungs
    data = validate(data, [r.id for r in rungs])
    check_levels(data, rungs)
    return data


def rows_for(entry: Mapping[str, Any], doc: Mapping[str, Any], notes: Mapping[str, str]) -> list[Row]:
    """One row per calibrated rung, Ladder's rung classified; a rung the assessment lacks is 'unknown'."""
    by_id = {str(r["id"]): r for r in doc.get("rungs", [])}
    name = _entry_name(entry)
    out = []
    for rung, item in entry["expected"].items():
        got = by_id.get(rung, {"score": None})
        score = got.get("score") if isinstance(got.get("score"), int | float) else None
        note = str(notes.get(rung, ""))
        if "original" in item:
            note = f"(expected {item['original']} before running Ladder) {note}".strip()
        out.append(Row(name, rung, item["value"], score, classify(got), note))
    return out


def agreement(rows: Iterable[Row]) -> float | None:
    """Share of rows where Ladder's class is the expected one (None when there are none)."""
    rows = list(rows)
    return sum(r.agree for r in rows) / len(rows) if rows else None


def level_agreement(levels: Iterable[tuple[str, str]]) -> float | None:
    """Share of (expected, got) level pairs that are equal."""
    pairs = list(levels)
    return sum(str(a) == str(b) for a, b in pairs) / len(pairs) if pairs else None


def table(rows: Iterable[Row]) -> str:
    """The rows as a plain-text table: repo, rung, expected, got (score and class), agree, explanation."""
    head = ("repo", "rung", "expected", "got", "agree", "explanation")
    lines = [
        (
            r.repo,
            r.rung,
            r.expected,
            f"{'-' if r.score is None else f'{r.score:.1f}'} {r.got}",
            "✓" if r.agree else "✗",
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=False)][:-1]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    return "\n".join(fmt.format(*line).rstrip() for line in [head, *lines])


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def summary(
    rows: list[Row],
    levels: list[tuple[str, str, str, str]],
    skipped: list[str],
    kinds: Sequence[tuple[str, str, str]] = (),
) -> str:
    """Agreement figures against the targets, the level and kind per repository, what was skipped."""
    rung_rate = agreement(rows)
    level_rate = level_agreement((e, g) for _, e, g, _ in levels)
    out = ["", "level (expected/got):"]
    out += [f"  {n:<38} {e:>2} / {g:<2} {'✓' if e == g else '✗ ' + note}".rstrip() for n, e, g, note in levels]
    if kinds:
        out += ["kind (expected/detected):"]
        out += [f"  {n:<38} {e} / {g} {'✓' if e == g else '✗'}" for n, e, g in kinds]
        out.append(f"kind agreement:  {_pct(level_agreement((e, g) for _, e, g in kinds))}")
    out += [
        f"rung agreement:  {_pct(rung_rate)} ({sum(r.agree for r in rows)}/{len(rows)}), target >= {RUNG_TARGET:.0%}",
        f"level agreement: {_pct(level_rate)} ({sum(e == g for _, e, g, _ in levels)}/{len(levels)}), "
        f"target >= {LEVEL_TARGET:.0%}",
    ]
    if skipped:
        out.append("skipped: " + "; ".join(skipped))
    return "\n".join(out)


# --- running Ladder ------------------------------------------------------------
def find_clone(corpus: Path, repo: str) -> Path | None:
    """The clone of owner/name under corpus: corpus/owner+name, else corpus/name."""
    owner, name = repo.split("/", 1)
    for candidate in (corpus / f"{owner}+{name}", corpus / name):
        if (candidate / ".git").exists() or (candidate / "HEAD").is_file():
            return candidate
    return None


def head_of(path: Path) -> str:
    """The commit HEAD names in a clone."""
    return subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def ladder_command() -> list[str]:
    """The `ladder` CLI of this interpreter's environment."""
    script = Path(sys.executable).parent / "ladder"
    return [str(script)] if script.exists() else [shutil.which("ladder") or "ladder"]


def assess_flags() -> list[str]:
    """--as-of last-commit when this Ladder's `assess` has it; never --kind: detecting the kind is under test."""
    text = subprocess.run([*ladder_command(), "assess", "--help"], capture_output=True, text=True, timeout=120).stdout
    return ["--as-of", "last-commit"] if "--as-of" in text else []


def detected_kind(doc: Mapping[str, Any]) -> str:
    """The project kind an assessment detected ('-' when it has none)."""
    kind = doc.get("kind")
    return str(kind.get("kind")) if isinstance(kind, dict) else "-"


def assess(path: Path, runs: Path, flags: list[str], *, reuse: bool = False) -> dict[str, Any]:
    """Run `ladder assess PATH --out RUNS` (or reuse the one there) and read its assessment.json."""
    found = sorted(runs.rglob("assessment.json")) if reuse and runs.is_dir() else []
    if not found:
        runs.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, LADDER_HOME=str(runs))
        done = subprocess.run(
            [*ladder_command(), "assess", str(path), "--out", str(runs), *flags],
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT,
        )
        found = sorted(runs.rglob("assessment.json"), key=lambda p: p.stat().st_mtime)
        if done.returncode != 0 or not found:
            raise RuntimeError(f"ladder assess exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return json.loads(found[-1].read_text())


def _slug(name: str) -> str:
    return name.replace("/", "+")


def run_entry(entry: dict[str, Any], corpus: Path | None, runs: Path, build: Path, reuse: bool) -> tuple[Any, str]:
    """(assessment.json document or None, a warning or skip reason) for one calibration entry."""
    name = _entry_name(entry)
    if "name" in entry:
        repo = BUILDERS[entry["name"]](build / entry["name"])
        warning = ""
    else:
        clone = find_clone(corpus, name) if corpus else None
        if clone is None:
            return None, f"{name}: no clone under --corpus"
        head = head_of(clone)
        warning = (
            "" if head == entry["commit"] else f"{name}: clone is at {head[:12]}, calibrated at {entry['commit'][:12]}"
        )
        repo = clone
    try:
        return assess(repo, runs / _slug(name), assess_flags(), reuse=reuse), warning
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as exc:
        return None, f"{name}: assessment failed ({exc})"


def main(argv: list[str] | None = None) -> int:
    """Assess every calibrated repository found and print the agreement table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=os.environ.get("LADDER_CORPUS") or None)
    ap.add_argument("--calibration", type=Path, default=CALIBRATION)
    ap.add_argument("--only", action="append", default=[], help="owner/name, name or built name (repeatable)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--runs", type=Path, default=None, help="keep runs here (default: a temporary folder)")
    ap.add_argument(
        "--reuse", action="store_true", help="read an assessment.json already in --runs instead of assessing"
    )
    args = ap.parse_args(argv)
    try:
        data = load_calibration(args.calibration)
    except CalibrationError as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 2
    if args.corpus is not None and not Path(args.corpus).is_dir():
        print(f"calibrate: --corpus {args.corpus}: not a folder; give the folder holding the clones", file=sys.stderr)
        return 2
    entries = list(data["repos"]) + list(data.get("built") or [])
    if args.only:
        entries = [e for e in entries if {_entry_name(e), _entry_name(e).split("/")[-1]} & set(args.only)]
        if not entries:
            print(f"calibrate: --only {args.only}: no such entry in {args.calibration.name}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        runs = args.runs or Path(tmp) / "runs"
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = list(
                pool.map(lambda e: run_entry(e, args.corpus, runs, Path(tmp) / "built", args.reuse), entries)
            )
    notes = data.get("disagreements") or {}
    rows: list[Row] = []
    levels: list[tuple[str, str, str, str]] = []
    kinds: list[tuple[str, str, str]] = []
    skipped = []
    for entry, (doc, message) in zip(entries, results, strict=True):
        if doc is None:
            skipped.append(message)
            continue
        if message:
            print(f"warning: {message}", file=sys.stderr)
        name = _entry_name(entry)
        rows += rows_for(entry, doc, notes.get(name) or {})
        levels.append((name, str(entry["level"]), str(doc.get("level")), str((notes.get(name) or {}).get("level", ""))))
        kinds.append((name, str(entry["kind"]), detected_kind(doc)))
    print(table(rows))
    print(summary(rows, levels, skipped, kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
