"""ladder.app.artifact: a version's wheel and wheelhouse, built once on the build host into the store, with a manifest."""

import os
import platform
import sys
from pathlib import Path

import pytest

from gitrepo import git
from ladder.app import artifact, recipe
from ladder.app.manifest import MANIFEST, WHEELHOUSE, ManifestError, parse
from ladder.cli import main
from ladder.core.config import load_config
from ladder.core.copy import Source
from ladder.core.errors import ParameterError
from ladder.core.hosts import LocalHost, connect
from ladder.sandbox.repo import seed_repo

SHA = "a" * 40


@pytest.mark.unit
@pytest.mark.parametrize(
    "describe, count, version",
    [
        ("", 12, "0.1.dev12+g1a2b3c4"),  # no tag yet: setuptools-scm's 0.1.devN
        ("v1.2.0-0-g1a2b3c4", 30, "1.2.0"),  # on the tag
        ("v1.2.0-3-g1a2b3c4", 33, "1.2.1.dev3+g1a2b3c4"),  # past it: the next patch's dev, sorting after 1.2.0
        ("2.0-1-g1a2b3c4", 5, "2.1.dev1+g1a2b3c4"),
    ],
)
def test_version_of_follows_setuptools_scm(describe, count, version):
    assert artifact.version_of(describe, count, "1a2b3c4") == version


@pytest.mark.unit
def test_a_tag_that_is_not_a_release_is_refused_by_name():
    with pytest.raises(ParameterError, match="tag 'v1.0-beta' is not a release tag"):
        artifact.version_of("v1.0-beta-2-g1a2b3c4", 9, "1a2b3c4")


@pytest.mark.unit
def test_versions_sort_dev_builds_between_their_releases():
    found = ["1.0.1.dev2+gbbb", "1.0.1", "0.1.dev9+gaaa", "1.0.0", "1.0.1.dev10+gccc", "1.10.0"]
    assert sorted(found, key=artifact.version_key) == [
        "0.1.dev9+gaaa",
        "1.0.0",
        "1.0.1.dev2+gbbb",
        "1.0.1.dev10+gccc",
        "1.0.1",
        "1.10.0",
    ]


@pytest.mark.unit
def test_parse_listing_keeps_versions_with_a_manifest_only():
    text = "1.0.0/manifest.json\n.1.1.0.AbC123/manifest.json\n0.1.dev3+g1a2b3c4/manifest.json\nnotes/manifest.json\n"
    assert artifact.parse_listing(text) == ["0.1.dev3+g1a2b3c4", "1.0.0"]


@pytest.mark.unit
def test_parse_sums_and_wheel_name():
    digest = "0" * 64
    text = f"{digest}  wheelhouse/shop-1.0.0-py3-none-any.whl\n{digest} *wheelhouse/gunicorn-23.0.0-py3-none-any.whl\n"
    assert artifact.parse_sums(text) == {
        "wheelhouse/shop-1.0.0-py3-none-any.whl": digest,
        "wheelhouse/gunicorn-23.0.0-py3-none-any.whl": digest,
    }
    assert artifact.wheel_name("my-shop.web", "1.0.0") == "wheelhouse/my_shop_web-1.0.0-py3-none-any.whl"


@pytest.fixture
def packaged(tmp_path):
    """The seeded team repository with the packaging recipe landed on master."""
    repo = seed_repo(tmp_path / "app")
    recipe.land(str(repo), "shop", dry_run=False)
    return repo


@pytest.mark.local
def test_get_source_resolves_the_ref_and_its_version(packaged):
    before = artifact.get_source(str(packaged))
    count, short = git(packaged, "rev-list", "--count", "HEAD"), git(packaged, "rev-parse", "--short", "HEAD")
    assert (before.sha, before.version) == (git(packaged, "rev-parse", "HEAD"), f"0.1.dev{count}+g{short}")
    git(packaged, "tag", "v1.0.0")
    assert artifact.get_source(str(packaged), "v1.0.0").version == "1.0.0"


@pytest.mark.local
@pytest.mark.parametrize("ref", ["nope", "-x", "0" * 40])
def test_an_unknown_ref_is_refused(packaged, ref):
    with pytest.raises(ParameterError, match=f"parameter 'ref': '{ref}' is not a branch, tag or commit"):
        artifact.get_source(str(packaged), ref)


@pytest.mark.local
def test_a_commit_without_requirements_or_recipe_is_refused(tmp_path, packaged):
    with pytest.raises(ParameterError, match=r"has no pyproject.toml; land recipe.land first"):
        artifact.get_source(str(seed_repo(tmp_path / "bare-app")))
    git(packaged, "rm", "-q", "requirements.txt")
    git(packaged, "commit", "-qm", "drop the requirements")
    with pytest.raises(ParameterError, match=r"has no requirements.txt"):
        artifact.get_source(str(packaged))


@pytest.mark.local
def test_a_build_host_that_cannot_reach_the_repository_is_refused_before_any_change(tmp_path, packaged):
    (tmp_path / "dev").mkdir()
    host = LocalHost("dev", tmp_path / "dev")
    source = artifact.get_source(str(packaged))
    gone = artifact.Source(str(tmp_path / "moved-away"), "HEAD", source.sha, source.version)
    store = artifact.Store(host, host.path("artifacts"))
    with pytest.raises(ParameterError, match="build host dev cannot reach the repository .*moved-away"):
        artifact.build(host, store, gone, "shop", dry_run=False)
    assert os.listdir(tmp_path / "dev") == []


@pytest.mark.local
def test_reading_the_store_names_a_bad_manifest_file_and_lists_versions(tmp_path):
    store = artifact.Store(LocalHost("store", tmp_path), str(tmp_path / "artifacts"))
    assert artifact.versions(store, "shop") == []
    bad = tmp_path / "artifacts/shop/1.0.0"
    bad.mkdir(parents=True)
    (bad / MANIFEST).write_text("{}")
    (tmp_path / "artifacts/shop/.1.1.0.x1y2z3").mkdir()  # a build in progress is no version
    assert artifact.versions(store, "shop") == ["1.0.0"]
    with pytest.raises(ManifestError) as err:
        artifact.read_manifest(store, "shop", "1.0.0")
    assert err.value.path == f"store:{bad / MANIFEST}" and err.value.key == "name"
    with pytest.raises(ParameterError, match="no version '2.0.0' of shop in the store store:.*; built: 1.0.0"):
        artifact.read_manifest(store, "shop", "2.0.0")


@pytest.mark.local
def test_the_cli_refuses_an_unknown_ref_with_exit_2_and_lists_an_empty_store(tmp_path, packaged, capsys):
    config = tmp_path / "ladder.yml"
    config.write_text(
        f"app: {{name: shop, repo: {packaged}}}\nenvironments: {{dev: {{hosts: [{{name: dev, address: local, base: dev}}]}}}}\n"
    )
    assert main(["artifact", "build", "--ref", "nope", "--config", str(config)]) == 2
    assert "parameter 'ref': 'nope'" in capsys.readouterr().err
    assert main(["artifact", "list", "--config", str(config)]) == 0
    assert "no artifact of shop" in capsys.readouterr().out


@pytest.mark.ssh
def test_each_version_is_built_once_on_the_sandbox_dev_host_and_installs_offline(ssh_sandbox):
    cfg = load_config(ssh_sandbox.config_path)
    repo = str(cfg.app.repo)
    recipe.land(repo, cfg.app.name, dry_run=False)
    git(repo, "tag", "v1.0.0")
    store = artifact.open_store(cfg)
    with artifact.build_host(cfg) as host, pytest.raises(ParameterError, match="cannot reach the repository"):
        artifact.check_reachable(host, str(ssh_sandbox.dir / "no-such-repo"))

    plan = artifact.build_from_config(cfg)
    assert [c.operation for c in plan.changes] == ["builder venv", "build tools", "artifact"]
    assert plan.manifest is None and not any(c.applied for c in plan.changes)
    assert artifact.versions(store, "shop") == []

    v1 = artifact.build_from_config(cfg, dry_run=False)
    assert v1.source.version == "1.0.0" and all(c.applied for c in v1.changes)
    folder = Path(store.folder("shop", "1.0.0"))  # the sandbox's hosts are folders of this machine
    kept = parse((folder / MANIFEST).read_text())
    assert kept == v1.manifest and kept.git_sha == git(repo, "rev-parse", "v1.0.0^{commit}")
    assert kept.python == platform.python_version() and kept.wheel == f"{WHEELHOUSE}/shop-1.0.0-py3-none-any.whl"
    on_disk = sorted(p.relative_to(folder).as_posix() for p in (folder / WHEELHOUSE).iterdir())
    assert on_disk == sorted(kept.files) and len(on_disk) > 1  # the app's wheel and its dependencies'
    assert {name: Source.read(folder / name).sha256 for name in on_disk} == dict(kept.files)

    again = artifact.build_from_config(cfg, dry_run=False)
    assert again.reused and again.manifest == kept and "reused" in again.changes[0].reason
    assert not any(c.changed for c in again.changes)

    (Path(repo) / "NOTES.md").write_text("a new commit\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "notes")
    v2 = artifact.build_from_config(cfg, dry_run=False)
    assert v2.source.version == f"1.0.1.dev1+g{git(repo, 'rev-parse', '--short', 'HEAD')}"
    assert artifact.versions(store, "shop") == ["1.0.0", v2.source.version]

    # A store on another host (prod1) gets a copy checked against the manifest, and no temp folder is left behind.
    other = artifact.Store(connect(cfg.host_config("prod1"), cfg.ssh), str(ssh_sandbox.dir / "prod1-store"))
    with artifact.build_host(cfg) as host, other.host:
        copied = artifact.build(host, other, v2.source, "shop", python=sys.executable, dry_run=False)
        assert os.listdir(host.path(artifact.BUILDER)) == ["venv"]  # the scratch folder is gone
    there = Path(other.folder("shop", v2.source.version))
    assert copied.manifest == parse((there / MANIFEST).read_text()) and copied.manifest.git_sha == v2.manifest.git_sha
    assert {name: Source.read(there / name).sha256 for name in copied.manifest.files} == dict(copied.manifest.files)
    assert os.listdir(there.parent) == [v2.source.version]

    # The wheelhouse is complete: a fresh venv installs the app from it alone, with no index and no pip config.
    fresh = ssh_sandbox.dir / "fresh"
    with store.host as host:
        host.run(f"{cfg.host_config(host.name).python} -m venv {fresh}", timeout=120)
        install = f"{fresh}/bin/pip install --quiet --no-index --find-links {folder / WHEELHOUSE} shop"
        host.run(install, env={"PIP_CONFIG_FILE": os.devnull}, timeout=120)
        found = host.run(f"{fresh}/bin/python -c 'import app, gunicorn; print(app.__file__)'").stdout
    assert found.startswith(str(fresh))
