"""Release pipelines: CI files that publish a package or an image, and whether a tag triggers them."""

from __future__ import annotations

import pytest

from assessing import check
from gitrepo import GitRepo
from ladder.assess.publishing import on_tag

PYPI_ON_TAG = """name: release
on:
  push:
    tags: ["v*"]
jobs:
  pypi:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
      - uses: pypa/gh-action-pypi-publish@release/v1
"""
IMAGE_ON_RELEASE = """name: image
on:
  release:
    types: [published]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/metadata-action@v5
        id: meta
        with:
          images: ghcr.io/acme/app
          tags: type=semver,pattern={{version}}
      - uses: docker/build-push-action@v6
        with:
          context: .
          push: true
          tags: ${{ steps.meta.outputs.tags }}
"""
IMAGE_BUILT_NOT_PUSHED = IMAGE_ON_RELEASE.replace("push: true", "push: false")
NPM_ON_MAIN = """name: publish
on:
  push:
    branches: [main]
jobs:
  npm:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish --access public
"""


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.mark.local
@pytest.mark.parametrize(
    ("path", "text", "publishes"),
    [
        (".github/workflows/release.yml", PYPI_ON_TAG, ["python package"]),
        (".github/workflows/image.yml", IMAGE_ON_RELEASE, ["container image"]),
        (
            ".gitlab-ci.yml",
            "publish:\n  script: [uv build, uv publish]\n  rules:\n    - if: $CI_COMMIT_TAG\n",
            ["python package"],
        ),
        (
            ".gitlab-ci.yml",
            "push:\n  script: [docker push registry.example.com/app:$CI_COMMIT_TAG]\n  only:\n    - tags\n",
            ["container image"],
        ),
    ],
)
def test_publishing_on_a_tag_is_a_release_pipeline(repo, path, text, publishes):
    repo.commit({path: text, "app.py": "print(1)\n"})
    res = check(repo, "packaging")
    assert res.score == 10
    assert res.evidence["publishing"] == [{"file": path, "publishes": publishes, "on_tag": True}]
    assert f"{path} publishes a {publishes[0]} on a tag" in res.reason


@pytest.mark.local
def test_publishing_without_a_tag_counts_as_a_recipe(repo):
    repo.commit({".github/workflows/publish.yml": NPM_ON_MAIN, "Dockerfile": "FROM node:latest\n"})
    res = check(repo, "packaging")
    assert res.score == 8 and res.evidence["publishing"][0]["on_tag"] is False


@pytest.mark.local
def test_an_image_built_but_not_pushed_publishes_nothing(repo):
    repo.commit({".github/workflows/image.yml": IMAGE_BUILT_NOT_PUSHED})
    res = check(repo, "packaging")
    assert res.score == 0 and res.evidence["publishing"] == []


@pytest.mark.unit
def test_image_tags_input_is_not_a_tag_trigger():
    on_main = IMAGE_ON_RELEASE.replace("  release:\n    types: [published]\n", "  push:\n    branches: [main]\n")
    assert not on_tag(".github/workflows/image.yml", on_main)
    assert on_tag(".github/workflows/image.yml", on_main + "    if: startsWith(github.ref, 'refs/tags/')\n")
    assert on_tag(".github/workflows/r.yml", "on: [push, release]\njobs: {}\n")
    assert on_tag(".travis.yml", "deploy:\n  provider: pypi\n  on:\n    tags: true\n")


@pytest.mark.local
def test_a_release_workflow_that_publishes_through_the_repository_s_own_script_is_seen(tmp_path):
    repo = GitRepo(tmp_path / "lib")
    workflow = (
        "on:\n  push:\n    tags: ['*']\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: "scripts/build"\n      - run: "scripts/publish"\n'
    )
    repo.commit(
        {
            ".github/workflows/publish.yml": workflow,
            "scripts/build": "#!/bin/sh -e\npython -m build\n",
            "scripts/publish": "#!/bin/sh -e\ntwine upload dist/*\n",
            "pyproject.toml": "[build-system]\nrequires = ['hatchling']\n",
        }
    )
    res = check(repo, "packaging")
    assert res.score == 10 and res.evidence["publishing"] == [
        {"file": ".github/workflows/publish.yml", "publishes": ["python package"], "on_tag": True}
    ]


@pytest.mark.local
def test_a_scheduled_job_whose_script_creates_a_github_release_is_a_release_pipeline_not_an_artifact(tmp_path):
    repo = GitRepo(tmp_path / "template")
    workflow = (
        "on:\n  schedule:\n    - cron: '0 2 * * *'\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: uv run --locked scripts/update_changelog.py\n"
    )
    script = (
        "from github import Github\n\nrepo = Github().get_repo('acme/template')\n"
        "repo.create_git_release(tag='2026.11.27', name='2026.11.27', message='notes')\n"
    )
    repo.commit({".github/workflows/update-changelog.yml": workflow, "scripts/update_changelog.py": script})
    pipeline = check(repo, "release-pipeline")
    assert pipeline.score == 10 and "update-changelog.yml publishes a GitHub release" in pipeline.reason
    packaging = check(repo, "packaging")  # a release of the source is not a built artifact
    assert packaging.score == 0 and packaging.evidence["publishing"] == []


@pytest.mark.local
def test_with_ci_here_and_no_job_that_publishes_releases_are_made_by_hand_and_with_no_ci_nobody_can_tell(tmp_path):
    by_hand = GitRepo(tmp_path / "forum")
    by_hand.commit({".github/workflows/tests.yml": "on: [push]\njobs:\n  t:\n    steps:\n      - run: pytest\n"})
    res = check(by_hand, "release-pipeline")
    assert (res.score, res.label) == (2, "inferred") and "releases are made by hand" in res.reason
    assert res.evidence["ci"] == [".github/workflows/tests.yml"]
    tag = check(by_hand, "release-on-tag")
    assert (tag.score, tag.label) == (2, "inferred") and "tagging a version publishes nothing" in tag.reason
    no_ci = GitRepo(tmp_path / "bare")
    no_ci.commit({"pyproject.toml": "[project]\nname = 'bare'\n"})
    for practice in ("release-pipeline", "release-on-tag"):  # the releases may come from elsewhere: inconclusive
        assert check(no_ci, practice).score is None


@pytest.mark.local
def test_a_release_that_calls_a_reusable_workflow_which_pushes_an_image_publishes_on_the_release(tmp_path):
    repo = GitRepo(tmp_path / "recipes")
    caller = (
        "on:\n  release:\n    types: [published]\njobs:\n  build-release:\n"
        "    uses: ./.github/workflows/partial-builder.yml\n    with:\n      tag: ${{ github.event.release.tag_name }}\n"
    )
    builder = (
        "on:\n  workflow_call:\n    inputs:\n      tag: {type: string}\njobs:\n  publish:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: depot/build-push-action@v1\n        with:\n          push: true\n"
        "          tags: ghcr.io/acme/recipes:${{ inputs.tag }}\n"
    )
    repo.commit({".github/workflows/release.yml": caller, ".github/workflows/partial-builder.yml": builder})
    res = check(repo, "release-on-tag")
    assert res.score == 10 and res.reason == ".github/workflows/release.yml publishes a container image on a tag"
