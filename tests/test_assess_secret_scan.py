"""Committed secrets are found by key format and entropy, allowlisted ones are only counted, and none is echoed."""

from __future__ import annotations

import json
import secrets
import string

import pytest

from assessing import check
from gitrepo import GitRepo
from ladder.assess.secret_scan import GENERIC, KEY, entropy, load_rules
from ladder.core.errors import ConfigError

# Key-shaped values are built at runtime so this file holds no literal that trips a scanner.
AWS_ID = "AKIA" + "ABCDEFGHIJKLMNOP"
AWS_SECRET = "wJalr" + "XUtnFEMIK7MDENG" + "bPxRfiCYzEXAMPLQ" + "9a8b"  # 40 characters
RANDOM40 = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def scan(repo: GitRepo, files: dict[str, str]):
    repo.commit(files)
    return check(repo, "config-out-of-code")


@pytest.mark.unit
def test_entropy_is_bits_per_character():
    assert entropy("") == 0 and entropy("aaaa") == 0
    assert entropy("abcd") == 2
    assert entropy(RANDOM40) > 4.5 > entropy("changeme")


@pytest.mark.unit
def test_rules_file_is_loaded_and_validated(tmp_path):
    rules = load_rules()
    assert {r.kind for r in rules.rules} == {KEY, GENERIC}
    assert {"aws-access-key-id", "github-token", "private-key", "generic-api-key"} <= {r.id for r in rules.rules}
    bad = tmp_path / "secret_rules.yml"
    bad.write_text("rules:\n  - {id: x, kind: key, regex: '(unclosed'}\n")
    with pytest.raises(ConfigError, match=r"rules\[0\].*not a valid regex"):
        load_rules(bad)
    bad.write_text(
        "rules:\n  - {id: x, kind: key, regex: a}\nallowlist:\n  paths:\n    - {reason: r, regex: b, applies_to: [y]}\n"
    )
    with pytest.raises(ConfigError, match=r"allowlist\.paths\[0\].*rule ids of this file"):
        load_rules(bad)


@pytest.mark.local
def test_aws_key_id_and_secret_in_settings_score_zero_and_are_never_echoed(repo):
    assert len(AWS_SECRET) == 40
    res = scan(
        repo,
        {"app/settings.py": f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\nAWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n'},
    )
    assert sorted(f["rule"] for f in res.evidence["findings"]) == ["aws-access-key-id", "aws-secret-access-key"]
    assert res.score == 0 and "live format" in res.reason
    text = json.dumps(res.to_dict())
    assert AWS_ID not in text and AWS_SECRET not in text


@pytest.mark.local
def test_github_token_is_found(repo):
    token = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0" + "kLmNoPqRsTuVwXyZ"
    res = scan(repo, {"deploy.sh": f"curl -H 'Authorization: token {token}' https://api.github.com\n"})
    assert [f["rule"] for f in res.evidence["findings"]] == ["github-token"]
    assert res.score == 0


@pytest.mark.local
def test_random_value_assigned_to_api_key_is_a_generic_finding_with_partial_score(repo):
    res = scan(repo, {"app/client.py": f'API_KEY = "{RANDOM40}"\n'})
    assert [(f["rule"], f["kind"]) for f in res.evidence["findings"]] == [("generic-api-key", GENERIC)]
    assert 0 < res.score < 10 and "possible secret" in res.reason
    assert RANDOM40 not in json.dumps(res.to_dict())


@pytest.mark.local
def test_low_entropy_and_placeholder_values_are_not_findings(repo):
    res = scan(
        repo,
        {
            "app/client.py": 'API_KEY = "changeme"\nAUTH_TOKEN = "aaaaaaaabbbbbbbb"\n',
            "app/settings.py": 'PASSWORD = "changethis"\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
            'SECRET_KEY_VAR = "APP_SECRET_KEY"\nAPI_KEY = "<your-key>"\nTOKEN = "xxxxxxxxxxxxxxxx"\n'
            'CLIENT_SECRET = "django-not-a-real-secret"\n',
        },
    )
    assert res.score == 10 and res.evidence["findings"] == []
    assert res.evidence["ignored"]["placeholder"] >= 4
    assert "low entropy" in " ".join(res.evidence["ignored"])


@pytest.mark.local
def test_reported_false_positives_are_ignored_with_their_reason(repo):
    res = scan(
        repo,
        {
            "docs/config.rst": f'.. code-block:: python\n\n    SECRET_KEY = "{RANDOM40}"\n',
            "settings.py.example": f'SECRET_KEY = "{RANDOM40}"\nAWS_ACCESS_KEY_ID = "{AWS_ID}"\n',
            ".env.example": "SECRET_KEY=changethis\nAPI_KEY=<your-key>\n",
            "tests/fixtures/shop.html": f'<a data-affiliate-token="{RANDOM40}" href="/p">buy</a>\n',
            "app/locale/de/LC_MESSAGES/django.po": 'msgid "password"\nmsgstr "Passwort: Geheimnis123"\n',
            "app/i18n/en.json": '{"password": "Password", "secret_question": "Your secret question"}\n',
            ".github/workflows/ci.yml": "services:\n  db:\n    env:\n      POSTGRES_PASSWORD: Ci-Pa55word-42\n",
            ".env": "COMPOSE_PROJECT_NAME=shop\n",
            "app/urls.py": 'urlpatterns = [path("remove_password/", views.remove_password)]\n'
            'ROUTES = {"remove_password": "/account/remove_password/"}\n',
            "web/signup.ts": "const { confirm_password: _confirm_password, ...data } = form\n"
            "const { newPassword: confirmPassword } = form\n",
            "web/api.ts": "async changePassword(changePassword: ChangePassword) {\n",
            "web/edit.vue": '<v-text-field @click:append="showPassword = !showPassword" />\n',
            "app/views.py": "def reset_password(reset_password: ResetPassword, session: Session):\n",
            "shop/configuration_testing.py": f"SECRET_KEY = '{RANDOM40}'\n",
            "shop/settings/test.py": f"SECRET_KEY = '{RANDOM40}'\n",
            "shop/local.py": "SECRET_KEY = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'\n",
            "shop/config.py": 'REDIS_URL = "redis://localhost:6379"  # with a password: "redis://:password@localhost:6379"\n',
            "docker-compose.yml": "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: shopdbuser\n",
        },
    )
    assert res.evidence["findings"] == [], res.evidence["findings"]
    assert res.score == 10
    ignored = res.evidence["ignored"]
    for why in ("documentation", "example or template settings", "tests and fixtures", "translations"):
        assert ignored.get(why), (why, ignored)
    assert ignored["test settings (a configuration only the test suite loads)"] == 2
    assert ignored["a run of the alphabet, digits or keyboard (a placeholder, however random it measures)"] == 1
    assert ignored["a URL whose credentials are placeholders (user:password@, :pass@)"] == 1
    assert "ignored" in res.reason


@pytest.mark.local
def test_password_in_app_settings_and_env_file_are_generic_findings(repo):
    password = "s3cr3t-" + "Pa55word"
    res = scan(repo, {"settings.py": f'DB_PASSWORD = "{password}"\n', ".env": f"SECRET_KEY={RANDOM40}\n"})
    assert sorted((f["path"], f["rule"]) for f in res.evidence["findings"]) == [
        (".env", "generic-api-key"),
        ("settings.py", "generic-password"),
    ]
    assert 0 < res.score < 10
    assert password not in json.dumps(res.to_dict())


@pytest.mark.local
def test_key_files_count_and_a_one_line_key_literal_does_not(repo):
    header = "-----BEGIN " + "RSA PRIVATE KEY-----"
    res = scan(
        repo,
        {
            "deploy/id_rsa": f"{header}\nMIIE\n",
            "app/crypto.py": f'PEM = "{header}\\nMIIE\\n"\n',
        },
    )
    rules = sorted(f["rule"] for f in res.evidence["findings"])
    assert rules == ["key-store-file", "private-key"]
    assert all(f["path"] == "deploy/id_rsa" for f in res.evidence["findings"])
    assert res.score == 0


@pytest.mark.local
def test_a_local_dev_setups_keys_are_set_aside_but_a_cloud_key_there_still_scores_zero(repo):
    header = "-----BEGIN " + "PRIVATE KEY-----"
    dev_only = {
        "dev/tuf/keys/root/root1": f"{header}\nMC4CAQAwBQYDK2VwBCIEI\n",
        "dev/environment": f"DATABASE_PASSWORD={RANDOM40}\n",
        ".devcontainer/certs/dev.key": f"{header}\nMC4CAQAwBQYDK2VwBCIEI\n",
    }
    res = scan(repo, dev_only)
    assert res.evidence["findings"] == [] and res.score == 10
    assert res.evidence["ignored"]["a local development setup's own keys and passwords (dev/, .devcontainer/)"] == 3
    res = scan(repo, {"dev/settings.py": f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\n'})
    assert [f["rule"] for f in res.evidence["findings"]] == ["aws-access-key-id"] and res.score == 0
    res = scan(repo, {"deploy/keys/prod.key": f"{header}\nMC4CAQAwBQYDK2VwBCIEI\n"})  # outside dev/: a 0
    assert ("deploy/keys/prod.key", "private-key") in {(f["path"], f["rule"]) for f in res.evidence["findings"]}
