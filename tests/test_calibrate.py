"""bench/calibrate.py and bench/immature.py: the calibration file, the immature repos, the agreement table."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import calibrate  # noqa: E402
import immature  # noqa: E402
from ladder.assess.model import load_model  # noqa: E402


def _rung_ids() -> list[str]:
    return [r.id for r in load_model().rungs]


@pytest.mark.unit
def test_calibration_file_validates_against_the_model() -> None:
    data = calibrate.load_calibration()
    ids = set(_rung_ids())
    entries = data["repos"] + data["built"]
    assert len(data["repos"]) >= 12 and len(data["built"]) >= 3
    for entry in entries:
        assert set(entry["expected"]) <= ids
        assert {item["value"] for item in entry["expected"].values()} <= set(calibrate.CLASSES)
    assert {e["kind"] for e in data["repos"]} == set(calibrate.KINDS)
    assert not any(str(v).startswith("/") for e in entries for v in e.values())  # repos by owner/name, no paths


@pytest.mark.unit
def test_validate_names_the_entry_and_rung_of_a_bad_value() -> None:
    data = yaml.safe_load(calibrate.CALIBRATION.read_text())
    bad = copy.deepcopy(data)
    bad["repos"][0]["expected"]["1"]["value"] = "great"
    with pytest.raises(calibrate.CalibrationError, match=r"django/djangoproject.com rung 1: give `value`"):
        calibrate.validate(bad, _rung_ids())
    bad = copy.deepcopy(data)
    bad["repos"][0]["expected"]["2"]["original"] = "low"
    with pytest.raises(calibrate.CalibrationError, match=r"`original` needs a class and `changed: why`"):
        calibrate.validate(bad, _rung_ids())
    bad = copy.deepcopy(data)
    bad["disagreements"]["django/djangoproject.com"]["9"] = "x"
    with pytest.raises(calibrate.CalibrationError, match=r"\['9'\] are neither rungs nor `level`"):
        calibrate.validate(bad, _rung_ids())
    bad = copy.deepcopy(data)
    bad["rungs"].append("9")
    with pytest.raises(calibrate.CalibrationError, match=r"rungs \['9'\] are not in the model"):
        calibrate.validate(bad, _rung_ids())


@pytest.mark.unit
def test_the_level_follows_from_the_rung_classes_by_the_files_rule() -> None:
    rungs = load_model().rungs

    def level(**classes: str) -> str:
        named = {"1": "high", "1+": "high", "2": "high", "3a": "low", "3b": "low", "4": "low", "5": "low", "all": "low"}
        named.update({k.replace("plus", "+").removeprefix("r"): v for k, v in classes.items()})
        return calibrate.implied_level({k: {"value": v} for k, v in named.items()}, rungs)

    assert level() == "2"
    assert level(r3b="high") == "3b"  # CI without packaged artifacts: 3b needs only rung 2
    assert level(r3a="high", r3b="high") == "3" and level(r3a="high", r3b="high", r4="high") == "4"
    assert level(r1plus="n-a", r3a="high", r3b="high") == "3"  # n-a neither blocks nor is reached
    assert level(r1plus="unknown") == "1" and level(r1="medium", r3b="high") == "0"  # unknown and medium block
    assert level(r1="n-a", r1plus="n-a", r2="medium") == "0"


@pytest.mark.unit
def test_a_written_level_that_does_not_follow_from_the_classes_is_refused() -> None:
    data = calibrate.validate(yaml.safe_load(calibrate.CALIBRATION.read_text()), _rung_ids())
    calibrate.check_levels(data, load_model().rungs)
    data["repos"][0]["level"] = "4"
    with pytest.raises(calibrate.CalibrationError, match=r"django/djangoproject.com: level '4' is not the '1'"):
        calibrate.check_levels(data, load_model().rungs)


@pytest.mark.unit
def test_classify_maps_scores_and_missing_scores() -> None:
    assert calibrate.classify({"score": 7.0}) == "high"
    assert calibrate.classify({"score": 6.99}) == "medium"
    assert calibrate.classify({"score": 4.0}) == "medium"
    assert calibrate.classify({"score": 3.9}) == "low"
    assert calibrate.classify({"score": None}) == "unknown"
    assert calibrate.classify({"score": None, "status": "n/a"}) == "n-a"
    assert calibrate.classify({"score": None, "applicable": False}) == "n-a"


@pytest.mark.unit
def test_rows_agreement_and_table_on_a_hand_made_input() -> None:
    entry = {
        "repo": "acme/shop",
        "expected": {
            "1": {"value": "high", "why": "x"},
            "2": {"value": "low", "why": "x"},
            "3b": {"value": "unknown", "why": "x"},
            "5": {"value": "n-a", "why": "x"},
        },
    }
    doc = {"rungs": [{"id": "1", "score": 8.2}, {"id": "2", "score": 5.0}, {"id": "3b", "score": None}], "level": "1"}
    entry["expected"]["1"]["original"] = "medium"
    rows = calibrate.rows_for(entry, doc, {"2": "tests-present counts fixtures"})
    assert rows[0].note == "(expected medium before running Ladder)"
    assert [(r.rung, r.got, r.agree) for r in rows] == [
        ("1", "high", True),
        ("2", "medium", False),
        ("3b", "unknown", True),
        ("5", "unknown", False),
    ]
    assert calibrate.agreement(rows) == 0.5
    assert calibrate.agreement([]) is None
    assert calibrate.level_agreement([("1", "1"), ("2", "1"), ("0", "0"), ("3", "3")]) == 0.75
    lines = calibrate.table(rows).splitlines()
    assert lines[0].split() == ["repo", "rung", "expected", "got", "agree", "explanation"]
    assert lines[2].split() == ["acme/shop", "2", "low", "5.0", "medium", "✗", "tests-present", "counts", "fixtures"]
    assert lines[3].split()[3:6] == ["-", "unknown", "✓"]
    text = calibrate.summary(
        rows,
        [("acme/shop", "2", "1", "rung 2 scored low"), ("acme/lib", "3", "3", "")],
        ["x/y: no clone under --corpus"],
    )
    assert "rung agreement:  50% (2/4)" in text and "level agreement: 50% (1/2)" in text
    assert "✗ rung 2 scored low" in text
    assert "skipped: x/y: no clone under --corpus" in text


@pytest.mark.local
@pytest.mark.parametrize("name", sorted(immature.BUILDERS))
def test_builders_make_repositories_with_history(tmp_path: Path, name: str) -> None:
    repo = immature.BUILDERS[name](tmp_path / name)
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%ct"], capture_output=True, text=True, check=True)
    stamps = [int(s) for s in log.stdout.split()]
    assert len(stamps) >= 10
    assert stamps == sorted(stamps, reverse=True)
    assert calibrate.find_clone(tmp_path, f"someone/{name}") == repo
    assert len(calibrate.head_of(repo)) == 40


@pytest.mark.local
def test_aws_key_is_committed_only_in_the_built_repository(tmp_path: Path) -> None:
    repo = immature.build_service_with_aws_key(tmp_path / "svc")
    key = immature.fake_aws_key()
    assert key.startswith("AKIA") and len(key) == 20
    assert key in (repo / "app" / "config.py").read_text()
    assert key not in (BENCH / "immature.py").read_text()


@pytest.mark.unit
def test_main_exits_2_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "calibration.yml"
    bad.write_text("repos: nope\n")
    assert calibrate.main(["--calibration", str(bad)]) == 2
    assert calibrate.main(["--corpus", str(tmp_path / "missing")]) == 2
    assert calibrate.main(["--only", "no/such-repo"]) == 2
    assert "no such entry" in capsys.readouterr().err
