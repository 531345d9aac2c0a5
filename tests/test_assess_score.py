"""Scores: evidence vs answers, rung scores, the level rule, next steps; and the validation on real repos."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.assess import Answers, assess, gather_repo_evidence, load_model, score
from ladder.assess.catalogue import CHECKS
from ladder.assess.checks import INFERRED, MEASURED, result
from ladder.assess.score import levels

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model():
    return load_model()


def evidence_for(model, met: set[str], *, low: float = 0.0, high: float = 10.0):
    """A measured result for every check: high in the given rungs, low elsewhere."""
    out = {}
    for p in model.practices:
        for cid in p.checks:
            out[cid] = result(cid, CHECKS[cid].source, high if p.rung in met else low, "test")
    return list(out.values())


# ---- one practice ----------------------------------------------------------------------------


def one(model, checks, answer=None, practice="dev-setup"):
    return score(model, checks, Answers({practice: answer})).practice(practice)


@pytest.mark.unit
def test_measured_evidence_wins_over_a_contradicting_answer(model):
    p = one(model, [result("dev-setup", "repo", 0, "no make target", label=MEASURED)], "yes")
    assert p.score == 0 and p.label == "measured"
    c = p.contradiction
    assert c.kept == "evidence" and c.answer == "yes" and c.evidence_score == 0
    assert "the measurement is kept" in c.note


@pytest.mark.unit
def test_an_answer_wins_over_a_contradicting_inference(model):
    p = one(model, [result("dev-setup", "repo", 0, "no make target", label=INFERRED)], "yes")
    assert p.score == 10 and p.label == "self-reported"
    assert p.contradiction.kept == "answer"


@pytest.mark.unit
def test_agreeing_answer_keeps_evidence_and_records_nothing(model):
    p = one(model, [result("dev-setup", "repo", 8, "make dev", label=INFERRED)], "yes")
    assert p.score == 8 and p.label == "inferred" and p.contradiction is None


@pytest.mark.unit
def test_answer_alone_is_self_reported(model):
    p = one(model, [], "partly")
    assert p.score == 5 and p.label == "self-reported"
    assert "not gathered" in p.checks[0].reason


@pytest.mark.unit
def test_no_evidence_and_no_answer_is_inconclusive_not_guessed(model):
    p = one(model, [], None)
    assert p.score is None and p.label == "inconclusive" and not p.met and "not answered" in p.reason


@pytest.mark.unit
def test_measured_checks_outrank_inferred_ones(model):
    checks = [
        result("env-separation", "repo", 4, "env vars", label=INFERRED),
        result("separate-hosts", "host", 10, "two hosts", label=MEASURED),
    ]
    p = one(model, checks, "no", practice="env-separation")
    assert p.score == 10 and p.label == "measured" and p.contradiction.kept == "evidence"
    assert [c.id for c in p.checks] == ["env-separation", "separate-hosts"]  # the inference is still shown
    both = [result("separate-hosts", "host", 10, "x"), result("env-separation", "repo", 4, "x", label=MEASURED)]
    assert one(model, both, practice="env-separation").score == 7


@pytest.mark.unit
def test_host_checks_not_gathered_say_why(model):
    p = one(model, [], practice="prod-unmodified")
    assert p.checks[0].reason == "not gathered: no ladder.yml given"


# ---- rungs and the level ---------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    "met, level",
    [
        (set(), "0"),
        ({"1"}, "1"),
        ({"1", "2"}, "1"),  # 1+ missing: rung 2 is met but not reached
        ({"1", "1+"}, "1+"),
        ({"1", "1+", "2", "3a"}, "3a"),
        ({"1", "1+", "2", "3b"}, "3b"),  # 3a and 3b in either order
        ({"1", "1+", "2", "3a", "3b"}, "3"),
        ({"1", "1+", "2", "3a", "4"}, "3a"),  # 4 needs 3b too
        ({"1", "1+", "2", "3a", "3b", "4", "5"}, "5"),
        ({"2", "3a", "3b", "4", "5"}, "0"),
    ],
)
def test_level_is_highest_rung_with_every_rung_below_met(model, met, level):
    a = score(model, evidence_for(model, met))
    assert a.level == level
    assert {r.id for r in a.rungs if r.met} == met


@pytest.mark.unit
def test_levels_run_from_zero_up_the_ladder_with_3_once_3a_and_3b_are_both_reached(model):
    assert levels(model) == ["0", "1", "1+", "2", "3a", "3b", "3", "4", "5"]
    every_rung = {r.id for r in model.ladder}
    assert score(model, evidence_for(model, every_rung)).level == levels(model)[-1]


@pytest.mark.unit
def test_a_rung_needs_enough_scored_practices(model):
    # Rung 1 with only two of six practices scored (both 10): under min_coverage, so not met.
    checks = [result("dev-setup", "repo", 10, "x"), result("config-out-of-code", "repo", 10, "x")]
    a = score(model, checks)
    r1 = a.rung("1")
    assert r1.score == 10 and r1.coverage == pytest.approx(2 / 6) and not r1.met and a.level == "0"


@pytest.mark.unit
def test_overall_is_the_mean_of_scored_practices(model):
    checks = [result("dev-setup", "repo", 10, "x"), result("canary", "repo", 4, "x")]
    a = score(model, checks)
    assert a.overall == 7 and a.coverage == pytest.approx(2 / len([p for p in model.practices if p.applies("service")]))


@pytest.mark.unit
def test_next_steps_are_ordered_and_name_runbooks(model):
    a = score(model, evidence_for(model, {"1"}, low=2))
    steps = a.next_steps
    assert [s.order for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0].rung == "1+" and steps[0].runbook == "runbooks/1-separate-dev-and-prod.ipynb"
    rung_order = [r.id for r in model.rungs]
    assert [rung_order.index(s.rung) for s in steps] == sorted(rung_order.index(s.rung) for s in steps)
    assert steps[-1].rung == "all"
    assert {s.runbook for s in steps} <= set(model.runbooks)


@pytest.mark.unit
def test_next_steps_carry_cost_and_benefit_and_put_quick_wins_first_within_a_rung(model):
    steps = score(model, evidence_for(model, {"1+", "2", "3a", "3b", "4", "5", "all"}, low=2)).next_steps
    assert {s.rung for s in steps} == {"1"}
    per_day = [s.benefit / s.effort_days for s in steps]
    assert per_day == sorted(per_day, reverse=True)
    first = steps[0]
    assert first.practice == "prod-unmodified" and first.effort_days == 1 and first.effort_why
    assert first.moves == ("change-fail-rate", "time-to-restore") and first.benefit == 4.8  # 8 points * 3/5 * 1
    assert steps[-1].practice == "env-separation"  # 3 person-days for one metric: last on its rung
    assert first.to_dict()["moves"] == ["change-fail-rate", "time-to-restore"]


# ---- validation on real repositories ---------------------------------------------------------


def sandbox_repo(path: Path) -> Path:
    """The sandbox app's seeded repository."""
    from ladder.sandbox.repo import seed_repo

    return seed_repo(path)


@pytest.mark.local
def test_sandbox_repository_alone_is_level_zero_failing_rung_one_on_its_missing_dev_setup(model, tmp_path):
    # Its repository shows no dev setup (measured low: one lives in the repository) and no deploy
    # (which may be made elsewhere): rung 1 fails on the missing dev setup.
    a = assess(sandbox_repo(tmp_path / "app"), model=model)
    assert a.level == "0" and a.kind.kind == "service"
    assert a.rung("1").status == "failed"
    assert a.practice("env-separation").score == 7  # its settings come from the environment
    assert a.practice("dev-setup").score == 2 and a.practice("dev-setup").label == "measured"
    assert a.practice("one-step-deploy").score is None and "not answered" in a.practice("one-step-deploy").reason
    assert a.rung("1+").status == "failed" and a.next_steps[0].practice == "dev-setup"
    assert a.practice("tests-present").score == 0 and a.practice("ci-tests").score == 0
    assert a.practice("long-lived-branches").score < 10  # the stale branch is seen
    assert a.practice("versioned-routes").score == 0


@pytest.mark.local
def test_ladders_own_repository_scores_higher_than_the_sandbox(model, tmp_path):
    if not (ROOT / ".git").exists():
        pytest.fail(f"{ROOT} is not a git clone; the validation needs Ladder's own history")
    ladder = score(model, gather_repo_evidence(ROOT))
    sandbox = score(model, gather_repo_evidence(sandbox_repo(tmp_path / "app")))
    for rung in ("2", "3a"):
        mine, theirs = ladder.rung(rung).score, sandbox.rung(rung).score
        assert mine is not None and theirs is not None
        assert mine >= theirs + 1.5, f"rung {rung}: ladder {mine:.1f} vs sandbox {theirs:.1f}"
    assert ladder.rung("3b").score > sandbox.rung("3b").score
    assert ladder.practice("tests-present").score > 5 and ladder.practice("packaging").score >= 8


# ---- the kind of project, n/a practices, unconfirmed rungs ----------------------------------------


def library_kind():
    from ladder.assess.kind import LIBRARY, ProjectKind

    return ProjectKind(LIBRARY, "high", ("package published on a tag: .github/workflows/publish.yml",))


@pytest.mark.unit
def test_practices_that_do_not_fit_the_kind_are_na_never_scored_and_not_counted(model):
    # A library with every check at 0: its deploy practices are n/a, not 0, and leave the coverage alone.
    a = score(model, evidence_for(model, set()), kind=library_kind())
    for pid in ("env-separation", "prod-unmodified", "dev-prod-parity", "one-step-deploy", "canary", "deploy-pipeline"):
        p = a.practice(pid)
        assert (p.score, p.label, p.met) == (None, "n/a", False) and "does not apply to a library" in p.reason
    assert a.practice("release-pipeline").score == 0 and a.practice("release-on-tag").score == 0
    assert a.coverage == 1.0  # every practice that applies was scored
    assert {s.practice for s in a.next_steps}.isdisjoint({"env-separation", "canary"})
    assert a.rung("1+").status == "n/a" and a.rung("5").status == "n/a"
    doc = a.to_dict()
    assert doc["kind"]["kind"] == "library" and doc["rungs"][1]["status"] == "n/a"
    assert next(p for p in doc["practices"] if p["id"] == "canary")["label"] == "n/a"


@pytest.mark.unit
def test_a_service_scores_release_practices_as_na(model):
    a = score(model, evidence_for(model, {"1"}))  # no kind given: a service
    assert a.practice("release-pipeline").label == "n/a" and a.practice("env-separation").score == 10
    assert a.rung("1").met and a.rung("1").coverage == 1.0


@pytest.mark.unit
def test_an_unconfirmed_rung_does_not_block_the_rungs_above_it(model):
    # Rung 1 has no evidence at all (nothing about prod in the repository, no hosts): it is unconfirmed.
    above = {"1+", "2", "3a", "3b", "all"}
    checks = [
        c for c in evidence_for(model, above) if c.id not in {ck for p in model.rung("1").practices for ck in p.checks}
    ]
    a = score(model, checks)
    assert a.rung("1").status == "unconfirmed" and a.rung("1").unanswered == 6
    assert a.level == "3" and [r.id for r in a.unconfirmed] == ["1"]
    assert a.to_dict()["unconfirmed"] == ["1"]
    from ladder.assess.views import headline_lines

    assert (
        headline_lines(a)[0].startswith("Level 3: ")
        and "; rung 1 unconfirmed: answer 6 questions." in headline_lines(a)[0]
    )


@pytest.mark.unit
def test_a_rung_failed_on_evidence_still_blocks(model):
    a = score(model, evidence_for(model, {"1+", "2", "3a", "3b", "all"}))  # rung 1's checks all scored 0
    assert a.rung("1").status == "failed" and a.level == "0" and a.unconfirmed == []
    rung1 = {ck for p in model.rung("1").practices for ck in p.checks}
    above = [c for c in evidence_for(model, {"2", "3a", "3b"}) if c.id not in rung1]  # 1 unconfirmed, 1+ failed
    b = score(model, above)
    assert (b.rung("1").status, b.rung("1+").status, b.level, b.unconfirmed) == ("unconfirmed", "failed", "0", [])


@pytest.mark.unit
def test_a_wholly_na_rung_does_not_block(model):
    # A library: rung 1+ (versioned routes) does not fit; 1 and 2 met make it level 2.
    a = score(model, evidence_for(model, {"1", "2"}), kind=library_kind())
    assert a.rung("1+").status == "n/a" and a.level == "2" and a.unconfirmed == []


@pytest.mark.unit
def test_a_practice_measured_below_the_pass_mark_fails_its_rung_under_min_coverage(model):
    # A committed live cloud key (config-out-of-code measured 0) is evidence, not a gap: rung 1 fails and blocks.
    rung1 = {ck for p in model.rung("1").practices for ck in p.checks}
    above = [c for c in evidence_for(model, {"1+", "2", "3a", "3b", "all"}) if c.id not in rung1]
    key = result("config-out-of-code", "repo", 0, "a live AWS key in settings.py")
    a = score(model, [*above, key])
    assert a.rung("1").coverage < model.min_coverage
    assert a.rung("1").status == "failed" and a.level == "0" and a.unconfirmed == []
    # The same gap with only an inference below the pass mark stays unconfirmed and does not block.
    weak = result("dev-setup", "repo", 3, "no setup script seen", label=INFERRED)
    b = score(model, [*above, weak])
    assert b.rung("1").status == "unconfirmed" and b.level == "3" and [r.id for r in b.unconfirmed] == ["1"]


@pytest.mark.unit
def test_a_sign_measured_absent_gives_way_to_the_practice_observed_working(model):
    absent = result("dev-setup", "repo", 2, "no one-command dev setup", absent=True)
    built = result("dev-environment", "host", 10, "the app is checked out with its virtualenv")
    assert one(model, [absent, built]).score == 10
    assert one(model, [absent]).score == 2 and one(model, [absent]).label == MEASURED


@pytest.mark.unit
def test_a_guard_practice_only_pulls_its_rung_down(model):
    assert model.practice("no-binaries").guard and not model.practice("packaging").guard
    packaging = result("packaging", "repo", 5, "x")
    tags = result("release-tags", "repo", 5, "x")
    clean = result("no-binaries", "repo", 10, "no build outputs")
    assert score(model, [packaging, tags, clean]).rung("3a").score == 5  # the clean tree lifts nothing
    dirty = result("no-binaries", "repo", 0, "dist/ committed")
    assert score(model, [packaging, tags, dirty]).rung("3a").score == pytest.approx(10 / 3)


@pytest.mark.unit
def test_a_low_gate_practice_caps_its_rung_and_a_weak_one_counts_like_any(model):
    assert model.practice("tests-present").gate
    rung2 = {ck: 10 for p in model.rung("2").practices for ck in p.checks}
    no_tests = [result(c, CHECKS[c].source, 0 if c == "tests-present" else v, "x") for c, v in rung2.items()]
    r2 = score(model, no_tests).rung("2")
    assert r2.score == 3.9 and r2.status == "failed"  # the mean (8.3) would pass without a single test
    some = [result(c, CHECKS[c].source, 6 if c == "tests-present" else v, "x") for c, v in rung2.items()]
    assert score(model, some).rung("2").score == pytest.approx((10 * 5 + 6) / 6)  # tests exist, a few


@pytest.mark.unit
@pytest.mark.parametrize("key", ["guard", "gate"])
def test_guard_and_gate_must_be_booleans(key):
    from ladder.assess.model import parse_model
    from ladder.core.errors import ModelError

    practice = {"id": "p", "title": "t", "why": "w", "question": "q?", key: "yes"}
    data = {"version": 1, "rungs": [{"id": "1", "title": "t", "runbook": "r", "practices": [practice]}]}
    with pytest.raises(ModelError, match=rf"{key}.*true or false"):
        parse_model(data)


@pytest.mark.unit
def test_feature_flags_fit_services_and_self_hosted_apps_not_libraries(model):
    flags = [result("feature-flags", "repo", 0, "no flags")]
    assert score(model, flags, kind=library_kind()).practice("feature-flags").label == "n/a"
    assert score(model, flags).practice("feature-flags").score == 0  # a service


@pytest.mark.unit
def test_a_library_s_release_cadence_is_no_delivery_measure_but_publishing_on_a_tag_is(model):
    evidence = [
        result("deploy-frequency", "repo", 3, "0.08 per week (low), from tags"),
        result("release-on-tag", "repo", 10, "publish.yml publishes a python package on a tag"),
    ]
    library = score(model, evidence, kind=library_kind())
    assert library.practice("deploy-frequency").label == "n/a" and library.rung("4").score == 10
    assert score(model, evidence).practice("deploy-frequency").score == 3  # a service's deploys are
