"""The artifact manifest: round trip, and every invalid field named."""

from __future__ import annotations

import pytest

from ladder.app.manifest import Manifest, ManifestError, folder, parse

pytestmark = pytest.mark.unit

SHA = "a" * 64
GOOD = Manifest(
    name="shop",
    version="0.1.dev3+g1a2b3c4",
    git_sha="1" * 40,
    built_at="2026-11-27T00:00:00Z",
    python="3.11.7",
    wheel="wheelhouse/shop-0.1.dev3+g1a2b3c4-py3-none-any.whl",
    files={"wheelhouse/shop-0.1.dev3+g1a2b3c4-py3-none-any.whl": SHA, "wheelhouse/flask-3.0.0-py3-none-any.whl": SHA},
)


def test_a_manifest_reads_back_as_written() -> None:
    assert parse(GOOD.to_json()) == GOOD


def test_the_same_manifest_writes_the_same_bytes() -> None:
    reordered = Manifest(**{**GOOD.__dict__, "files": dict(reversed(list(GOOD.files.items())))})
    assert reordered.to_json() == GOOD.to_json()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"version": "latest"}, "version"),
        ({"git_sha": "abc"}, "git_sha"),
        ({"files": {}}, "files"),
        ({"files": {"../etc/passwd": SHA}}, "files"),
        ({"files": {GOOD.wheel: "xyz"}}, "files"),
        ({"wheel": "wheelhouse/other.whl"}, "wheel"),
        ({"python": ""}, "python"),
    ],
)
def test_a_wrong_field_is_named(change: dict, key: str) -> None:
    bad = Manifest(**{**GOOD.__dict__, **change})
    with pytest.raises(ManifestError) as caught:
        parse(bad.to_json(), "store/shop/x/manifest.json")
    assert caught.value.key == key
    assert "store/shop/x/manifest.json" in str(caught.value)


def test_a_missing_field_and_a_broken_file_are_named() -> None:
    with pytest.raises(ManifestError, match="git_sha: missing"):
        parse('{"name": "shop", "version": "1.0", "built_at": "", "python": "", "wheel": "", "files": {}}')
    with pytest.raises(ManifestError, match="not JSON"):
        parse("{")


def test_the_store_folder_of_a_version() -> None:
    assert folder("/srv/artifacts/", "shop", "1.0") == "/srv/artifacts/shop/1.0"
