"""ladder.app.parity: pure parsers on recorded output, real facts from local hosts, the comparison table."""

import dataclasses
import shlex
import subprocess
import sys
from importlib import metadata

import pandas as pd
import pytest

from ladder.app import parity
from ladder.assess.checks import SAMPLES
from ladder.assess.evidence import gather_host_evidence
from ladder.assess.model import load_model
from ladder.assess.score import score
from ladder.core.config import load_config
from ladder.core.hosts import LocalHost
from ladder.rungs import rung1

FREEZE = """\
# a comment pip freeze never prints, but requirements files have
Flask==3.0.3
gunicorn==22.0.0
-e git+https://example.com/team/tools.git@abc123#egg=team_tools
zope.interface==6.4
my-pkg @ file:///srv/build/my_pkg
"""

ENV_FILE = """\
# settings for prod
APP_ENV=prod
export APP_DB_PATH=/srv/app/data/app.db
APP_SECRET_KEY=s3cr3t-value-never-shown

not a setting line
"""


@pytest.mark.unit
def test_parse_packages_normalizes_names_and_keeps_odd_sources():
    assert parity.parse_packages(FREEZE) == {
        "flask": "3.0.3",
        "gunicorn": "22.0.0",
        "my-pkg": "@ file:///srv/build/my_pkg",
        "team-tools": "editable",
        "zope-interface": "6.4",
    }


@pytest.mark.unit
def test_parse_env_names_drops_values():
    names = parity.parse_env_names(ENV_FILE)
    assert names == ("APP_DB_PATH", "APP_ENV", "APP_SECRET_KEY")
    assert parity.parse_env_names("B\nA\nA\n") == ("A", "B")  # the names-only form facts_command reads


@pytest.mark.unit
@pytest.mark.parametrize(
    "output, version", [("Python 3.11.7\n", "3.11.7"), ("3.12.0rc1\n", "3.12.0rc1"), ("3.9\n", "3.9")]
)
def test_parse_python_version(output, version):
    assert parity.parse_python_version(output) == version


@pytest.mark.unit
def test_os_name_prefers_pretty_name():
    assert (
        parity.os_name({"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "ID": "debian"})
        == "Debian GNU/Linux 12 (bookworm)"
    )
    assert parity.os_name({"ID": "alpine", "VERSION_ID": "3.20"}) == "alpine 3.20"
    assert parity.os_name({}) == "unknown"


DEV = parity.Facts(
    "dev", "Debian 12", "3.11.7", {"gunicorn": "22.0.0", "pytest": "8.2.0"}, ("APP_ENV", "APP_SECRET_KEY")
)
PROD = parity.Facts("prod1", "Debian 11", "3.11.7", {"gunicorn": "21.2.0"}, ("APP_ENV", "APP_SECRET_KEY", "SENTRY_DSN"))


def row(table, category, item):
    found = table[(table["category"] == category) & (table["item"] == item)]
    assert len(found) == 1, f"no single row for {category} {item}"
    return found.iloc[0]


@pytest.mark.unit
def test_compare_marks_each_difference():
    table = parity.compare(DEV, PROD)
    assert list(table.columns) == ["category", "item", "dev", "prod1", "match", "difference"]
    assert row(table, "os", "OS")["difference"] == "differs"
    assert row(table, "python", "Python")["match"]
    assert row(table, "package", "gunicorn")[["dev", "prod1", "difference"]].tolist() == ["22.0.0", "21.2.0", "differs"]
    assert row(table, "package", "pytest")["difference"] == "missing on prod1"
    assert row(table, "env var", "SENTRY_DSN")[["dev", "prod1", "difference"]].tolist() == [
        parity.MISSING,
        "set",
        "missing on dev",
    ]
    assert row(table, "env var", "APP_ENV")["match"]
    # Categories in order, and within one the differences come first.
    assert table["category"].tolist() == ["os", "python", "env var", "env var", "env var", "package", "package"]
    assert table[table["category"] == "env var"]["item"].tolist()[0] == "SENTRY_DSN"


@pytest.mark.unit
def test_compare_several_prod_hosts():
    prod2 = parity.Facts("prod2", "Debian 12", "3.11.7", {"gunicorn": "22.0.0"}, ("APP_ENV",))
    table = parity.compare(DEV, [PROD, prod2])
    assert row(table, "os", "OS")[["dev", "prod1", "prod2"]].tolist() == ["Debian 12", "Debian 11", "Debian 12"]
    assert row(table, "env var", "APP_SECRET_KEY")["difference"] == "missing on prod2"
    with pytest.raises(ValueError, match="unique"):
        parity.compare(DEV, [PROD, PROD])


@pytest.mark.unit
def test_summary_style_and_chart():
    table = parity.compare(DEV, PROD)
    counts = parity.summary(table)
    assert counts.loc["package"].tolist() == [0, 2] and counts.loc["python"].tolist() == [1, 0]
    assert list(counts.index) == ["os", "python", "env var", "package"]
    html = parity.style(table).to_html()
    assert parity.COLOURS["differs"].split(": ")[1] in html and parity.COLOURS["missing"].split(": ")[1] in html
    fig = parity.plot(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(counts.index)
    assert parity.chart(table).png().startswith(b"\x89PNG")


@pytest.mark.unit
def test_parse_facts_recorded_output():
    found = parity.parse_facts(
        "environment\t/srv/venv/bin/python\npkg\tFlask==3.0\npkg\t-e git+x\npython\t3.11.7\nvenv\t/srv/venv\n"
        'os\tID=debian\nos\tVERSION_ID="12"\nconfig\tA\n',
        "prod1",
    )
    assert found == parity.Facts(
        "prod1", "debian 12", "3.11.7", {"flask": "3.0"}, ("A",), venv="/srv/venv", environment="/srv/venv/bin/python"
    )
    # No app environment: the interpreter asked for the version is not the app's, nor is its venv.
    bare = parity.parse_facts("python\t3.11.7\nvenv\t/home/me/ladder/.venv\nos\tID=debian\n")
    assert bare.environment is None and bare.venv is None and bare.packages == {} and bare.python == "3.11.7"
    assert parity.parse_facts("") == parity.Facts("", "", "")


@pytest.mark.unit
def test_measure_counts_kinds_and_scores_from_them():
    dev = parity.Facts(
        "dev",
        "Debian 12",
        "3.11.7",
        {"gunicorn": "22.0.0", "pip": "23.2.1", "setuptools": "65.5.0"},
        ("APP_ENV",),
        environment="/srv/dev/venv/bin/python",
    )
    prod = parity.Facts(
        "prod1",
        "Debian 12",
        "3.11.7",
        {"gunicorn": "22.0.0", "flask": "3.0.3"},
        ("APP_ENV", "SENTRY_DSN"),
        environment="/srv/prod/venv/bin/python",
    )
    measured = parity.measure(dev, prod)
    assert measured.counts().to_dict("index") == {
        "os": {"same": 1, "different": 0},
        "python": {"same": 1, "different": 0},
        "env var": {"same": 1, "different": 1},
        "package": {"same": 1, "different": 1},
    }
    assert not {"pip", "setuptools"} & set(measured.table["item"]), (
        "the installer's tools are left out, as pip freeze does"
    )
    assert measured.score == 10 * (1 + 1 + 1 / 2 + 1 / 2) / 4
    figures = measured.figures()
    assert figures == {"parity items": 6, "parity same": 4, "parity different": 2, "parity score": 7.5}
    evidence = measured.evidence()
    assert evidence["kinds"] == measured.counts().to_dict("index")
    assert (
        evidence["different"] == sum(k["different"] for k in evidence["kinds"].values()) == figures["parity different"]
    )
    assert evidence["differences"] == ["env var SENTRY_DSN: dev —, prod1 set", "package flask: dev —, prod1 3.0.3"]
    assert measured.reason() == "2 of 6 items differ: config names 1 of 2, packages 1 of 2"
    assert (
        measured.notes == ()
        and "2 of 6 items differ: config names 1 of 2, packages 1 of 2; parity score 7.5 / 10" in repr(measured)
        and "SENTRY_DSN" in measured._repr_html_()
    )


@pytest.mark.unit
def test_measure_a_dev_host_with_no_environment_yet():
    dev = parity.Facts("dev", "Debian 12", "3.11.7")
    prod = parity.Facts(
        "prod1", "Debian 12", "3.11.7", {"gunicorn": "22.0.0"}, ("APP_ENV",), environment="/srv/venv/bin/python"
    )
    measured = parity.measure(dev, prod)
    assert measured.notes == (
        "dev: no app environment (no app server running, no virtualenv); its packages count as missing",
    )
    assert row(measured.table, "package", "gunicorn")["difference"] == "missing on dev"
    assert measured.score == 5.0 and measured.figures()["parity different"] == 2
    same = parity.measure(prod, dataclasses.replace(prod, host="prod2"))
    assert (
        same.score == 10 and same.reason() == "dev and prod match on all 4 items (OS, Python, config names, packages)"
    )
    unread = parity.measure(parity.Facts("dev", "", ""), parity.Facts("prod1", "", ""))
    assert unread.score is None and unread.table.empty
    half = parity.measure(parity.Facts("dev", "Debian 12", ""), parity.Facts("prod1", "Debian 12", "3.11.7"))
    assert row(half.table, "python", "Python")["difference"] == "missing on dev"  # an unread Python is not a match


@pytest.mark.local
def test_real_facts_from_a_local_host(tmp_path):
    (tmp_path / "app.env").write_text(ENV_FILE)
    host = LocalHost("here", tmp_path)
    bare = parity.get_facts(host, sys.executable)
    assert bare.python == ".".join(map(str, sys.version_info[:3]))
    assert bare.environment is None and bare.packages == {}, "Ladder's own interpreter is not the app's environment"
    assert bare.env_names == ("APP_DB_PATH", "APP_ENV", "APP_SECRET_KEY")
    assert "s3cr3t" not in repr(bare)
    assert bare.os and bare.os != "unknown"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    found = parity.get_facts(host, sys.executable)
    assert found.environment == f"{tmp_path}/venv/bin/python" and found.venv == f"{tmp_path}/venv"
    assert found.packages == {} and found.python == bare.python  # a plain venv holds nothing yet
    assert parity.get_packages(host, sys.executable)["pandas"] == metadata.version("pandas")


@pytest.mark.local
def test_env_names_output_never_holds_values(tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text(ENV_FILE)
    host = LocalHost("here", tmp_path)
    # The sed facts_command runs on each env file: what it prints is all that leaves the host.
    raw = host.run(f"sed -n -E {shlex.quote(parity.ENV_NAMES_SED)} {shlex.quote(str(env_file))}").stdout
    assert raw.split() == ["APP_ENV", "APP_DB_PATH", "APP_SECRET_KEY"]
    assert "s3cr3t" not in raw and "/srv" not in raw


@pytest.mark.local
def test_compare_of_real_hosts_matches_itself(tmp_path):
    a, b = LocalHost("a", tmp_path), LocalHost("b", tmp_path)
    facts_a = parity.get_facts(a, sys.executable)
    facts_b = parity.get_facts(b, sys.executable)
    table = parity.compare(facts_a, facts_b)
    assert isinstance(table, pd.DataFrame) and table["match"].all()


@pytest.mark.unit
def test_condense_folds_many_packages_missing_on_one_side():
    extra = {f"pkg{i:02d}": "1.0" for i in range(20)}
    prod = parity.Facts("prod1", "Debian 12", "3.11.7", {"gunicorn": "22.0.0", **extra}, ("APP_ENV",))
    dev = parity.Facts("dev", "Debian 12", "3.11.7", {"gunicorn": "21.0.0"}, ("APP_ENV",))
    table = parity.compare(dev, prod)
    short = parity.condense(table, keep=3)
    folded = short[short["item"] == "20 packages"].iloc[0]
    assert folded["difference"] == "missing on dev" and folded["dev"] == parity.MISSING
    assert folded["prod1"] == "pkg00, pkg01, pkg02, ... (+17 more)"
    assert len(short) == len(table) - 19
    assert "gunicorn" in set(short["item"]), "a package that differs is still its own row"
    assert parity.condense(table, keep=50).equals(table)


def parity_practice(config):
    """The assessment's dev-prod-parity check and the practice scored from it, read from the hosts as `ladder assess` does."""
    checks = gather_host_evidence(config)
    (practice,) = [p for p in score(load_model(), checks).practices if p.id == "dev-prod-parity"]
    (check,) = [c for c in checks if c.id == "dev-prod-parity"]
    return check, practice


def shares(kinds: dict) -> float:
    return 10 * sum(k["same"] / (k["same"] + k["different"]) for k in kinds.values()) / len(kinds)


@pytest.mark.ssh
def test_the_runbook_and_the_assessment_report_one_parity(ssh_sandbox, tmp_path):
    cfg = load_config(ssh_sandbox.config_path)
    prod_base = cfg.environment("prod").hosts[0].base
    # Before rung 1: dev has no environment, so parity is not met; both sides say so with the same numbers.
    check, practice = parity_practice(cfg)
    runbook = rung1.measure_parity(cfg)
    assert not practice.met and check.score == runbook.score == shares(check.evidence["kinds"]) < 7
    assert check.evidence == runbook.evidence(SAMPLES) and check.reason == practice.reason == runbook.reason()
    assert check.evidence["environments"] == {"dev": None, "prod1": f"{prod_base}/venv/bin/python"}
    prod_packages = runbook.facts["prod1"].packages
    # Prod's own venv: the app's requirements (gunicorn among them), none of Ladder's own packages.
    assert prod_packages["gunicorn"] == metadata.version("gunicorn"), "prod has its own venv"
    assert not {"fabric", "pandas", "papermill"} & set(prod_packages), "prod has its own venv"
    assert "pandas" not in runbook.facts["dev"].packages, "Ladder's interpreter is no host's environment"

    rung1.build_dev(cfg, dry_run=False)
    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run"))
    rung1.deploy_prod(cfg, "master", edits, dry_run=False)

    runbook = rung1.measure_parity(cfg)
    check, practice = parity_practice(cfg)
    figures = runbook.figures()
    assert (check.evidence["items"], check.evidence["different"]) == (
        figures["parity items"],
        figures["parity different"],
    )
    assert check.score == figures["parity score"] == shares(check.evidence["kinds"]) == 10 and practice.met
    assert check.evidence["environments"] == {
        "dev": f"{cfg.environment('dev').hosts[0].base}/venv/bin/python",
        "prod1": f"{prod_base}/venv/bin/python",
    }
    assert runbook.facts["prod1"].packages["gunicorn"] == metadata.version("gunicorn")
    assert not {"fabric", "pandas", "papermill"} & set(runbook.facts["prod1"].packages)
    assert set(runbook.facts["dev"].packages) >= {"gunicorn", "pip"}  # dev's venv keeps pip; parity leaves it out


@pytest.mark.local
def test_after_rung_3a_the_app_environment_is_the_current_release_venv(tmp_path):
    release = tmp_path / "releases" / "0.1.0"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(release / "venv")], check=True, timeout=120)
    (tmp_path / "current").symlink_to("releases/0.1.0")
    found = parity.get_facts(LocalHost("prod1", tmp_path), sys.executable)
    assert found.environment == f"{tmp_path}/current/venv/bin/python"
    assert found.python == ".".join(map(str, sys.version_info[:3]))
