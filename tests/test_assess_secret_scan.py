"""Committed secrets are found, named by rule and place, and never echoed."""

from __future__ import annotations

import json

import pytest

from assessing import check
from gitrepo import GitRepo

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_secrets_are_found_and_never_echoed(repo):
    aws = "AKIA" + "Q7W3E9R1T5Y2U8I4"  # built at runtime so this file holds no key-shaped literal
    password = "s3cr3t-" + "Pa55word"
    repo.commit({"settings.py": f'AWS_KEY = "{aws}"\nDB_PASSWORD = "{password}"\n', ".env": "X=1\n"})
    res = check(repo, "config-out-of-code")
    rules = sorted(f["rule"] for f in res.evidence["findings"])
    assert rules == ["aws-access-key-id", "generic-secret-assignment", "secret-file"]
    assert res.score < 10
    text = json.dumps(res.to_dict())
    assert aws not in text and password not in text


def test_placeholders_and_env_lookups_are_not_secrets(repo):
    repo.commit(
        {
            "settings.py": 'PASSWORD = "changeme-please"\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
            'SECRET_KEY_VAR = "APP_SECRET_KEY"\n',
            ".env.example": "SECRET_KEY=\n",
        }
    )
    res = check(repo, "config-out-of-code")
    assert res.score == 10 and res.evidence["findings"] == []
