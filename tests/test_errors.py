"""ladder.core.errors: one hierarchy under LadderError; every error carries the data behind its message."""

from __future__ import annotations

import inspect

import pytest

from ladder.core import errors
from ladder.core.hosts import Result

pytestmark = pytest.mark.unit


def test_every_error_ladder_raises_is_a_ladder_error():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) > 10 and all(issubclass(c, errors.LadderError) for c in classes)


def test_a_bad_ref_is_a_ladder_error_and_a_value_error_with_the_ref_and_the_fix():
    err = errors.RefError("--upload-pack=x")
    assert isinstance(err, ValueError) and err.ref == "--upload-pack=x" and "pass something like" in str(err)


def test_a_config_error_names_file_key_and_fix():
    err = errors.ConfigError("must be a number; fix it", path="ladder.yml", key="ssh.connect_timeout")
    assert (err.path, err.key) == ("ladder.yml", "ssh.connect_timeout")
    assert str(err) == "ladder.yml: ssh.connect_timeout: must be a number; fix it"


def test_a_key_with_a_newline_is_shown_escaped_so_the_error_stays_one_line():
    err = errors.AnswersError("unknown practice; use one of: a, b", path="answers.yml", key="answers.\n")
    assert str(err) == "answers.yml: answers.\\n: unknown practice; use one of: a, b" and err.key == "answers.\n"


def test_a_failed_command_carries_its_result_and_host():
    result = Result("web1", "systemctl reload shop", 3, "", "unit not found\n")
    err = errors.UnexpectedExit(result)
    assert err.result is result and err.host == "web1" and "unit not found" in str(err)


def test_a_fleet_error_names_each_failed_host_and_keeps_every_result():
    boom = errors.HostError("connection refused", host="web2")
    err = errors.FleetError({"web1": ["ok"], "web2": boom})
    assert err.failed == {"web2": boom} and err.results["web1"] == ["ok"]
    assert "1 of 2 hosts failed" in str(err) and "web2: connection refused" in str(err)
