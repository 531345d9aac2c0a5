"""The catalogue lists every rung module's checks, once and in rung order; nothing registers itself."""

from __future__ import annotations

import pytest

from ladder.assess import all_rungs, rung1, rung1plus, rung2, rung3a, rung3b, rung4, rung5
from ladder.assess.catalogue import CHECKS, index, of_source, run_checks
from ladder.assess.checks import DORA, HOST, REPO, SOURCES, CheckSpec, result

pytestmark = pytest.mark.unit

RUNG_MODULES = (rung1, rung1plus, rung2, rung3a, rung3b, rung4, rung5, all_rungs)


def test_every_rung_modules_checks_are_listed_once_in_rung_order():
    assert list(CHECKS) == [spec.id for module in RUNG_MODULES for spec in module.CHECKS]
    assert all(CHECKS[spec.id] is spec for module in RUNG_MODULES for spec in module.CHECKS)


def test_checks_by_source():
    assert {spec.source for spec in CHECKS.values()} == set(SOURCES)
    assert list(of_source()) == list(CHECKS)
    assert list(of_source(DORA)) == ["deploys-recorded", "deploy-frequency", "staged-deploys", "canary-runs"]
    assert all(spec.source == HOST for spec in of_source(HOST).values())


def test_an_id_listed_twice_is_refused():
    spec = CheckSpec("dup", REPO, lambda facts: result("dup", REPO, 1, "r"))
    with pytest.raises(ValueError, match="check 'dup' is in the catalogue twice"):
        index([spec, spec])


def test_run_checks_runs_a_sources_checks_or_the_named_ones():
    class Report:
        journal_found, journal_deploys, canaries, rollouts = True, 2, [], []

    (recorded,) = run_checks(DORA, Report(), only=["deploys-recorded"])
    assert recorded.id == "deploys-recorded" and recorded.score == 10
    both = run_checks(DORA, Report())
    assert [r.id for r in both] == ["deploys-recorded", "deploy-frequency", "staged-deploys", "canary-runs"]
    assert both[1].inconclusive and both[1].reason.startswith("check error")  # Report has no metrics
    assert both[2].inconclusive and "no deploy to prod" in both[2].reason
    assert both[3].inconclusive and "no canary release" in both[3].reason
