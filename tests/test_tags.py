"""ladder.app.tags: the release a dev build leads to, and its annotated tag pushed to the shared repository once."""

import pytest

from gitrepo import git
from ladder.app import tags
from ladder.core.errors import LadderError
from ladder.sandbox.repo import seed_repo


@pytest.mark.unit
@pytest.mark.parametrize(
    "version, release",
    [
        ("0.1.dev12+g1a2b3c4", "0.1.0"),  # no tag yet: setuptools-scm's 0.1.devN leads to 0.1.0
        ("1.0.1.dev3+g1a2b3c4", "1.0.1"),
        ("2.1.dev1+gabc", "2.1.0"),
        ("1.2.0", "1.2.0"),  # on a release tag already
    ],
)
def test_next_release_is_what_the_dev_build_leads_to(version, release):
    assert tags.next_release(version) == release
    assert tags.is_release(version) == (version == release)


@pytest.mark.local
def test_a_release_is_tagged_once_pushed_and_never_moved(tmp_path):
    repo = seed_repo(tmp_path / "app")
    head = git(repo, "rev-parse", "HEAD")
    planned = tags.tag(str(repo), head, "0.1.0")
    assert planned.change.outcome == "planned" and git(repo, "tag", "--list") == ""

    made = tags.tag(str(repo), head, "0.1.0", dry_run=False)
    assert made.tag == "v0.1.0" and made.change.outcome == "changed"
    assert git(repo, "rev-parse", "v0.1.0^{commit}") == head
    assert git(repo, "cat-file", "-t", "v0.1.0") == "tag"  # annotated: who and when

    again = tags.tag(str(repo), head, "0.1.0", dry_run=False)
    assert again.change.outcome == "ok"
    with pytest.raises(LadderError, match=r"tag v0\.1\.0 already names .*tags are never moved"):
        tags.tag(str(repo), git(repo, "rev-parse", "HEAD~1"), "0.1.0", dry_run=False)
