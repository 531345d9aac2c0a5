"""ladder.app.bots: which authors are bots, which paths are translations or dependencies."""

from __future__ import annotations

import pytest

from ladder.app.bots import DEPENDENCY_PATH, TRANSLATION_PATH, is_bot

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"),
        ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"),
        ("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com"),
        ("Crowdin Bot", "support+bot@crowdin.com"),
        ("Hosted Weblate", "hosted@weblate.org"),
        ("Weblate", "noreply@weblate.org"),
        ("Renovate Bot", "bot@renovateapp.com"),
        ("someapp[bot]", "someapp@example.com"),
        ("ImgBotApp", "ImgBotHelp@gmail.com"),
    ],
)
def test_bots_are_known_by_name_or_email(name, email):
    assert is_bot(name, email)


@pytest.mark.parametrize(
    ("name", "email"), [("Ana Weber", "ana@example.com"), ("Bot Tomas", "tomas@example.com"), ("Renovator", "r@x.io")]
)
def test_people_are_not_bots(name, email):
    assert not is_bot(name, email)


@pytest.mark.parametrize(
    ("pattern", "paths", "others"),
    [
        (
            TRANSLATION_PATH,
            [b"app/locale/fr/LC_MESSAGES/messages.po", b"src/i18n/de.json", b"messages.pot"],
            [b"app/localize.py"],
        ),
        (
            DEPENDENCY_PATH,
            [b"web/package-lock.json", b"requirements-dev.txt", b"pyproject.toml"],
            [b"app/requirements.py"],
        ),
    ],
)
def test_translation_and_dependency_paths(pattern, paths, others):
    assert all(pattern.search(p) for p in paths) and not any(pattern.search(p) for p in others)
