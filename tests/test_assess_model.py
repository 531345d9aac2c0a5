"""The maturity model: Ladder's model.yml is complete, and bad models fail naming file, key and fix."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
import yaml

from ladder.assess import load_model, score
from ladder.assess.catalogue import CHECKS
from ladder.assess.checks import CheckSpec, result
from ladder.assess.model import DEFAULT_MODEL, DORA_METRICS, parse_model
from ladder.core.errors import ConfigError, ModelError

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = [
    "runbooks/1-separate-dev-and-prod.ipynb",
    "runbooks/2-trunk-based-development.ipynb",
    "runbooks/3a-packaged-artifacts.ipynb",
    "runbooks/3b-continuous-integration.ipynb",
    "runbooks/4-continuous-delivery.ipynb",
    "runbooks/5-canary-rollback-observability.ipynb",
]


def raw() -> dict:
    return yaml.safe_load(DEFAULT_MODEL.read_text())


@pytest.mark.unit
def test_default_model_has_every_rung_in_order():
    model = load_model()
    assert [r.id for r in model.rungs] == ["1", "1+", "2", "3a", "3b", "4", "5", "all"]
    assert [r.id for r in model.ladder] == ["1", "1+", "2", "3a", "3b", "4", "5"]
    assert model.rung("3a").group == model.rung("3b").group == "3"
    assert model.rung("4").requires == ("3a", "3b")
    assert model.runbooks == RUNBOOKS


@pytest.mark.unit
def test_every_practice_is_complete_and_every_check_is_used():
    model = load_model()
    used = set()
    for p in model.practices:
        assert p.title and p.why and p.question.endswith("?") and p.runbook in RUNBOOKS
        used.update(p.checks)
    assert used == set(CHECKS), "a check in the catalogue that no practice uses, or the reverse"


@pytest.mark.unit
def test_a_named_step_is_a_heading_of_its_runbook():
    model = load_model()
    named = {p.id: (p.runbook, p.step) for p in model.practices if p.step}
    assert named["versioned-routes"] == ("runbooks/1-separate-dev-and-prod.ipynb", "Route versions")
    for runbook, step in named.values():
        cells = nbformat.read(ROOT / runbook, as_version=4).cells
        headings = {c.source.splitlines()[0] for c in cells if c.cell_type == "markdown" and c.source}
        assert f"## {step}" in headings, f"{runbook} has no step headed '## {step}'"


@pytest.mark.unit
def test_every_practice_has_an_estimate_with_its_reason_and_the_dora_metrics_it_moves():
    for p in load_model().practices:
        assert p.effort is not None and 0 < p.effort.days <= 10 and len(p.effort.why) > 20, p.id
        assert p.moves and set(p.moves) <= set(DORA_METRICS), p.id
    model = load_model()
    assert model.practice("dev-setup").effort.days == 1 and model.practice("ci-tests").effort.days == 2
    assert model.practice("canary").effort.days == 5
    assert model.practice("one-step-deploy").moves == ("deployment-frequency", "lead-time", "time-to-restore")


@pytest.mark.unit
def test_a_model_without_estimates_still_loads():
    data = raw()
    for rung in data["rungs"]:
        for p in rung["practices"]:
            p.pop("effort")
            p.pop("moves")
    model = parse_model(data)
    assert all(p.effort is None and p.moves == () for p in model.practices)


@pytest.mark.unit
def test_issue_checks_are_all_present():
    ids = {p.id for p in load_model().practices}
    assert {
        "env-separation",
        "config-out-of-code",
        "versioned-routes",
        "long-lived-branches",
        "trunk-frequency",
        "change-size",
        "feature-flags",
        "tests-present",
        "tests-with-changes",
        "packaging",
        "release-tags",
        "no-binaries",
        "ci-tests",
        "deploy-pipeline",
        "canary",
        "rollback-tooling",
        "observability",
        "migrations",
        "dependency-updates",
    } <= ids


@pytest.mark.local
@pytest.mark.parametrize(
    "edit, key, words",
    [
        (
            lambda d: d["rungs"][0]["practices"].append(copy.deepcopy(d["rungs"][0]["practices"][0])),
            "rungs[1].practices[env-separation]",
            "duplicate practice id",
        ),
        (
            lambda d: d["rungs"][0]["practices"][1].update(checks=["no-such-check"]),
            "rungs[1].practices[config-out-of-code].checks",
            "add a check function under this id",
        ),
        (
            lambda d: d["rungs"][2]["practices"][0].pop("question"),
            "rungs[2].practices[long-lived-branches].question",
            "add a yes/no question",
        ),
        (lambda d: d["rungs"][1].update(requires=["9"]), "rungs[1+].requires", "list rungs in ladder order"),
        (lambda d: d["rungs"][1].pop("runbook"), "rungs[1+].runbook", "name the runbook"),
        (lambda d: d.update(pass_mark=12), "pass_mark", "between 0 and 10"),
        (lambda d: d.update(answers={"yes": "lots"}), "answers.yes", "0-10"),
        (lambda d: d["rungs"].append(dict(d["rungs"][0])), "rungs[1]", "duplicate rung id"),
        (
            lambda d: d["rungs"][0]["practices"][0].update(applies_to=["service", "app"]),
            "rungs[1].practices[env-separation].applies_to",
            "out of service, library, self-hosted",
        ),
        (
            lambda d: d["rungs"][0]["practices"][1].update(applies_to=[]),
            "rungs[1].practices[config-out-of-code].applies_to",
            "leave it out when the practice fits every kind",
        ),
        (
            lambda d: d["rungs"][0]["practices"][2]["effort"].update(days=0),
            "rungs[1].practices[dev-setup].effort.days",
            "must be a positive number of person-days, got 0; write effort: {days: 2",
        ),
        (
            lambda d: d["rungs"][0]["practices"][2]["effort"].update(days="two"),
            "rungs[1].practices[dev-setup].effort.days",
            "positive number",
        ),
        (
            lambda d: d["rungs"][0]["practices"][2].update(effort=3),
            "rungs[1].practices[dev-setup].effort",
            "must be a mapping with days and why",
        ),
        (
            lambda d: d["rungs"][0]["practices"][2]["effort"].pop("why"),
            "rungs[1].practices[dev-setup].effort.why",
            "say in one line what the work is",
        ),
        (
            lambda d: d["rungs"][0]["practices"][2].update(moves=["mttr"]),
            "rungs[1].practices[dev-setup].moves",
            "unknown DORA metric 'mttr'; use one of deployment-frequency, lead-time, change-fail-rate, time-to-restore",
        ),
        (
            lambda d: d["rungs"][0]["practices"][2].update(moves="lead-time"),
            "rungs[1].practices[dev-setup].moves",
            "must be a list of DORA metric ids",
        ),
    ],
)
def test_bad_models_name_the_key_and_the_fix(edit, key, words, tmp_path):
    data = raw()
    edit(data)
    path = tmp_path / "model.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ModelError) as err:
        load_model(path)
    assert isinstance(err.value, ConfigError)
    assert err.value.key == key and words in str(err.value) and str(path) in str(err.value)


@pytest.mark.local
def test_missing_and_broken_model_files(tmp_path):
    with pytest.raises(ModelError, match="file not found"):
        load_model(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("rungs: [\n")
    with pytest.raises(ModelError, match="not valid YAML"):
        load_model(bad)


@pytest.mark.unit
def test_every_kind_has_practices_on_every_ladder_rung_it_can_climb():
    model = load_model()
    assert model.practice("config-out-of-code").applies_to == ("service", "library", "self-hosted")
    assert model.practice("env-separation").applies_to == ("service",)
    for kind in ("service", "library", "self-hosted"):
        fits = {p.rung for p in model.practices if p.applies(kind)}
        assert {"1", "2", "3a", "3b", "4"} <= fits, kind  # a counterpart keeps each kind on the ladder


@pytest.mark.unit
def test_numeric_ids_become_strings():
    data = raw()
    data["rungs"][2]["id"] = 2
    data["rungs"][3]["requires"] = [2]
    model = parse_model(data)
    assert model.rung("2").id == "2" and model.rung("3a").requires == ("2",)


@pytest.mark.local
def test_adding_a_practice_is_data_plus_one_function(monkeypatch, tmp_path):
    def has_codeowners(facts):
        """A CODEOWNERS file names who reviews what."""
        return result("codeowners", "repo", 10, "CODEOWNERS present")

    monkeypatch.setitem(CHECKS, "codeowners", CheckSpec("codeowners", "repo", has_codeowners))
    data = raw()
    data["rungs"][2]["practices"].append(
        {
            "id": "codeowners",
            "title": "Owners review changes",
            "why": "Someone always reviews.",
            "question": "Is there a CODEOWNERS?",
        }
    )
    path = tmp_path / "model.yml"
    path.write_text(yaml.safe_dump(data))
    model = load_model(path)
    practice = model.practice("codeowners")
    assert practice.checks == ("codeowners",) and practice.runbook == "runbooks/2-trunk-based-development.ipynb"
    a = score(model, [has_codeowners(None)])
    assert a.practice("codeowners").score == 10 and a.practice("codeowners").label == "measured"
