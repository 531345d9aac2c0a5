"""Hostile input, generated: configs, -p values and answers files end in success or one line and exit 2.

Never a traceback, never a file written by a run that was refused.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ladder.assess import load_answers, load_model
from ladder.cli import main
from ladder.core.errors import AnswersError, RefError
from ladder.core.names import check_ref

pytestmark = pytest.mark.local

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RUNG1 = Path(__file__).parent.parent / "runbooks" / "1-separate-dev-and-prod.ipynb"
GOOD = {
    "app": {"name": "shop", "repo": "app", "health_path": "/health", "port": 8000},
    "environments": {
        "dev": {"hosts": [{"name": "dev", "address": "local", "base": "hosts/dev"}]},
        "prod": {"hosts": [{"name": "web1", "address": "10.0.0.5", "user": "deploy", "base": "/srv/shop"}]},
    },
    "ssh": {"known_hosts": "known_hosts", "connect_timeout": 10, "command_timeout": 300},
    "runs": "runs",
}
HOSTILE = [
    "../../../../tmp/x", "$(touch pwned)", "a; touch pwned", "--upload-pack=touch pwned", "", " ", ".hidden",
    "-x", "a\nb", "\x00", "é", "health", "/proc/x", ".nan", ".inf", "-5", "0", "[1, 2", "{a: 1}",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(HOSTILE)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def configs(draw: st.DrawFn) -> str:
    """ladder.yml text: a good file with some values (or keys) replaced by anything, or plain nonsense."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "values", "text"]))
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "values":
        return yaml.safe_dump(draw(values))
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for _ in range(draw(st.integers(1, 3))):
        node = data
        path = draw(st.sampled_from([p for p in _paths(data) if p]))
        for part in path[:-1]:
            node = node[part]
        if draw(st.booleans()):
            node[path[-1]] = draw(values)
        elif isinstance(node, dict):
            node[draw(st.text(max_size=8) | st.sampled_from(HOSTILE))] = node.pop(path[-1])
    return yaml.safe_dump(data, allow_unicode=True)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    return [prefix] + [p for k, v in items for p in _paths(v, (*prefix, k))]


@contextlib.contextmanager
def site() -> Iterator[Path]:
    """A fresh folder to work in, as the current directory, with the clone and known_hosts rung 1 needs."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app" / ".git").mkdir(parents=True)
        (root / "known_hosts").write_text("")
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(here)


def files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def cli(*argv: str) -> tuple[int, str]:
    """Run `ladder ...` in this process: its exit status and what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse refusing a flag
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def refused_in_one_line(code: int, err: str) -> bool:
    return code == 2 and err.count("\n") == 1 and err.startswith("ladder") and "Traceback" not in err


@FAST
@given(text=configs())
def test_any_config_is_accepted_or_refused_in_one_line(text):
    with site() as root:
        (root / "ladder.yml").write_text(text, errors="surrogatepass")
        before = files(root)
        code, err = cli("config", "check", "--config", "ladder.yml")
        assert code == 0 or refused_in_one_line(code, err), err
        assert files(root) == before


@FAST
@given(data=st.binary(max_size=100))
def test_any_bytes_as_a_config_are_refused_in_one_line(data):
    with site() as root:
        (root / "ladder.yml").write_bytes(data)
        code, err = cli("config", "check", "--config", "ladder.yml")
        assert code == 0 or refused_in_one_line(code, err), err


@FAST
@given(
    name=st.sampled_from(["ref", "ref", "ref", "dry_run", "run_dir", "config"]) | st.text(min_size=1, max_size=10),
    value=st.text(max_size=30) | st.sampled_from(HOSTILE),
)
def test_any_parameter_of_a_run_that_cannot_start_is_refused_with_nothing_written(name, value):
    with site() as root:
        # No dev environment: every run is refused, after the parameters were checked, before anything is written.
        config = dict(GOOD, environments={"prod": GOOD["environments"]["prod"]})
        (root / "ladder.yml").write_text(yaml.safe_dump(config))
        before = files(root)
        code, err = cli("run", str(RUNG1), "--config", "ladder.yml", "-p", name, value)
        assert refused_in_one_line(code, err) or (code == 2 and "usage:" in err), err
        assert files(root) == before


@FAST
@given(ref=st.text(max_size=30) | st.sampled_from(HOSTILE))
def test_a_ref_ladder_accepts_is_one_git_accepts(ref):
    with contextlib.suppress(RefError):
        check_ref(ref)
        done = subprocess.run(["git", "check-ref-format", "--allow-onelevel", ref], capture_output=True, timeout=30)
        assert done.returncode == 0, ref


MODEL = load_model()


@FAST
@given(data=values | st.fixed_dictionaries({"answers": values}) | st.fixed_dictionaries({"notes": values}))
def test_any_answers_file_is_read_or_refused_in_one_line(data):
    with site() as root:
        path = root / "answers.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
        try:
            answers = load_answers(path, MODEL)
        except AnswersError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
        else:
            assert set(answers.values) == {p.id for p in MODEL.practices}
